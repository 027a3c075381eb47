"""Photo upload (API, multipart) and download for staff."""
from __future__ import annotations

from flask import Blueprint, abort, g, jsonify, request, send_file
from flask_login import current_user

from extensions import db
from handlers.photos import PhotoRejected, photo_file, store_photo
from handlers.scopes import scope_of_user
from handlers.tokens import user_for_token
from models import Photo, transaction
from web.access import functions_of, missing_function, requires
from web.api import api_bp
from web.api.openapi import documented
from web.errors import error_response

photos_bp = Blueprint("photos", __name__)


@api_bp.post("/photos")
@documented("Upload a photo (multipart field 'photo'); returns its id for task data",
            status=201, errors=(400, 413), tag="photos")
def upload_photo():
    upload = request.files.get("photo")
    if upload is None:
        return error_response(400, "bad_request", "send the image as multipart field 'photo'")
    try:
        with transaction():
            photo = store_photo(upload.read(), uploaded_by_id=g.user.id)
    except PhotoRejected as exc:
        return error_response(400, "bad_photo", str(exc))
    return jsonify({"id": photo.id, "width": photo.width, "height": photo.height}), 201


def _viewer():
    if current_user.is_authenticated:
        return current_user
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return user_for_token(token.strip()) if scheme.lower() == "bearer" else None


@photos_bp.get("/photos/<photo_id>")
@photos_bp.get("/photos/<photo_id>/<variant>")
@requires("cases.view")  # residents see their own request's photos on the tracking page
def show_photo(photo_id: str, variant: str = "full"):
    """A photo of a case the viewer may see (a session or a bearer token), or one they
    uploaded and no case cites yet; any other is 404, as if it did not exist."""
    viewer = _viewer()
    if viewer is None:
        abort(401)
    if missing_function(show_photo, functions_of(viewer)):
        abort(403)
    if variant not in {"full", "thumb"}:
        abort(404)
    photo = db.session.get(Photo, photo_id[:32])
    if photo is None or not scope_of_user(viewer).covers_photo(photo):
        abort(404)
    return send_file(photo_file(photo, thumb=variant == "thumb"), mimetype="image/jpeg", max_age=3600)
