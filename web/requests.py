"""Residents' pages: submit a request (/requests/new), follow it and rate it (/track).

Anyone may submit; signed-in residents see their requests without the phone; hotline staff
(any signed-in staff member) enter a request for a caller through the same form. A browser
that submitted a request, or proved the tracking number with the phone, may follow it for
the rest of its session.
"""
from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from werkzeug.exceptions import Forbidden, NotFound, RequestEntityTooLarge, TooManyRequests

from extensions import db, limiter
from forms.requests import SATISFACTION, RatingForm, RequestForm, TrackForm, choice_label, request_types
from handlers.catalogue import category
from handlers.crypto import normalize_phone, phone_matches
from handlers.numbers import whole_number
from handlers.photos import PhotoRejected, photo_file
from handlers.tasks import open_rating_task_id
from handlers.vocabulary import Role, Source
from models import OrgUnit, Photo
from residents.progress import status_words
from residents.requests import (
    MAX_PHOTOS,
    ResidentRequest,
    address_by_id,
    keep_photos,
    submit_request,
)
from web.requests_view import address_tree, cases_by_refs, communities, grid_map, my_cases, request_view
from workflows import CaseError, Conflict, complete_task
from workflows.cases import case_by_ref
from workflows.runtime import Actor
from workflows.tasks import complete_feedback_as_reporter

requests_bp = Blueprint("requests", __name__)
SESSION_KEY = "my_requests"
REMEMBERED = 20


def _is_staff() -> bool:
    return current_user.is_authenticated and current_user.role != "resident"


def _is_resident() -> bool:
    return current_user.is_authenticated and current_user.role == "resident"


def client_address_key() -> str:
    """Rate-limit key: the client's address, namespaced by the app's prefix (the limiter keeps
    the prefix of the first app a process creates, so it cannot tell apps apart by itself)."""
    return f"{current_app.config['QUEUE_PREFIX']}:{get_remote_address()}"


def _form_limit() -> str:
    return current_app.config["REQUEST_RATE_LIMIT"]


def _track_limit() -> str:
    return current_app.config["TRACK_RATE_LIMIT"]


def _remember(ref: str) -> None:
    refs = [r for r in session.get(SESSION_KEY, []) if r != ref]
    session[SESSION_KEY] = ([ref] + refs)[:REMEMBERED]


def _may_follow(case) -> bool:
    if case.ref in session.get(SESSION_KEY, []):
        return True
    return current_user.is_authenticated and case.reporter_id is not None and case.reporter_id == current_user.id


@requests_bp.context_processor
def _words() -> dict:
    return {"status_words": status_words, "satisfaction_label": lambda code: choice_label(SATISFACTION, code)}


def _problem(status: int, message: str):
    return render_template("requests/problem.html", message=message), status


@requests_bp.errorhandler(CSRFError)
def _csrf_failed(_exc):
    return _problem(400, _("The form had expired or was sent from another site. Nothing was saved: "
                           "go back, reload the page and send it again."))


@requests_bp.errorhandler(TooManyRequests)
def _too_many(_exc):
    return _problem(429, _("Too many requests from your network in a short time. Nothing was saved: "
                           "please wait a minute and try again, or call the community hotline."))


@requests_bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc):
    limit_mb = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    return _problem(413, _("The photos are too large together (at most %(mb)d MB). Nothing was saved: "
                           "go back and choose smaller or fewer photos.", mb=limit_mb))


@requests_bp.errorhandler(NotFound)
def _not_found(_exc):
    return _problem(404, _("There is no such request, or it is not yours to see."))


@requests_bp.errorhandler(Forbidden)
def _forbidden(_exc):
    return _problem(403, _("Enter the tracking number and the phone you gave to follow this request."))


# ------------------------------------------------------------------ submit

@requests_bp.get("/requests/new")
def pick_type():
    return render_template("requests/pick.html", types=request_types().values(), staff=_is_staff())


def _new_form(kind, formdata=None) -> RequestForm:
    form = kind.form(formdata, contact_required=True, name_required=_is_staff())
    if formdata is None and _is_resident():
        form.name.data = current_user.name
    return form


def _selected_address(form: RequestForm) -> dict | None:
    """The room chosen before a rejected submit, so the selects come back as they were."""
    raw = str(form.chosen_place.address_id) if form.chosen_place and form.chosen_place.address_id \
        else (form.address_id.data or "").strip()
    address_id = whole_number(raw)
    found = address_by_id(address_id) if address_id is not None else None
    if found is None:
        return None
    return {"community": found.community.code, "building": found.building, "unit": found.unit, "id": found.id}


def _render_form(kind, form: RequestForm, status: int = 200, photo_errors=(), problem: str | None = None):
    return render_template(
        "requests/form.html", kind=kind, form=form, staff=_is_staff(), communities=communities(),
        grid_map=grid_map(), selected=_selected_address(form), photo_errors=list(photo_errors),
        problem=problem, max_photos=MAX_PHOTOS,
        photo_required=any(category(code).photo_required for code in kind.categories),
    ), status


def _uploads() -> list[bytes]:
    return [data for upload in request.files.getlist("photos") if (data := upload.read())]


@requests_bp.route("/requests/new/<type_code>", methods=["GET", "POST"])
@limiter.limit(_form_limit, methods=["POST"], exempt_when=_is_staff, key_func=client_address_key)
def new_request(type_code: str):
    types = request_types()
    kind = types.get(type_code)
    if kind is None:
        return render_template("requests/pick.html", types=types.values(), staff=_is_staff(),
                               problem=_("There is no request type %(code)s: choose one below.",
                                         code=type_code[:40])), 404
    if request.method == "GET":
        return _render_form(kind, _new_form(kind))
    form = _new_form(kind, request.form)
    valid = form.validate()
    if form.is_spam():
        return _problem(400, _("This form was filled in by software; nothing was saved. If you are a person, "
                               "reload the page and send it again."))
    uploads = _uploads()
    if len(uploads) > MAX_PHOTOS:
        return _render_form(kind, form, 422, [_("At most %(n)d photos; choose them again.", n=MAX_PHOTOS)])
    if not valid:
        return _render_form(kind, form, 422, [_("Choose the photos again.")] if uploads else [])
    if not uploads and category(form.category()).photo_required:
        return _render_form(kind, form, 422, [_("This kind of request needs a photo: please add one.")])
    try:
        photos = keep_photos(uploads, current_user.id if current_user.is_authenticated else None)
    except PhotoRejected as exc:
        return _render_form(kind, form, 422, [_("A photo was refused: %(why)s. Choose the photos again.",
                                                why=_(str(exc)))])
    staff = _is_staff()
    req = ResidentRequest(
        category=form.category(), form_code=form.code, description=form.description.data,
        place=form.chosen_place, channel="hotline" if staff else "web",
        source=((Source.GRID_WORKER if current_user.role == Role.GRID_WORKER else Source.HOTLINE) if staff
                else Source.RESIDENT),
        attributes=form.attributes(), reporter_name=form.name.data or None,
        phone=normalize_phone(form.phone.data), reporter_id=current_user.id if _is_resident() else None,
    )
    actor = Actor(current_user) if current_user.is_authenticated else Actor(label="resident")
    try:
        case = submit_request(req, actor, photos)
    except CaseError as exc:
        if "address_id" in exc.details:
            form.place.errors = [_("This room is not in the address list; choose it again.")]
            return _render_form(kind, form, 422)
        return _render_form(kind, form, 422, problem=_("The request could not be accepted: %(why)s",
                                                       why=exc.message))
    _remember(case.ref)
    return redirect(url_for("requests.submitted", ref=case.ref), code=303)


@requests_bp.get("/requests/done/<ref>")
def submitted(ref: str):
    case = case_by_ref(ref)
    if case is None or not _may_follow(case):
        abort(404)
    return render_template("requests/submitted.html", case=case, view=request_view(case), staff=_is_staff())


@requests_bp.get("/requests/addresses/<code>.json")
def addresses(code: str):
    community = db.session.scalar(select(OrgUnit).where(OrgUnit.code == code, OrgUnit.kind == "community"))
    if community is None:
        return jsonify({"error": "not_found", "message": _("Unknown community.")}), 404
    response = jsonify(address_tree(community))
    response.cache_control.max_age = 300
    return response


# ------------------------------------------------------------------ track

@requests_bp.route("/track", methods=["GET", "POST"])
@limiter.limit(_track_limit, methods=["POST"], key_func=client_address_key)
def track():
    form = TrackForm(request.form if request.method == "POST" else None, ref=request.args.get("ref", ""))
    status = 200
    if request.method == "POST":
        if form.validate():
            case = case_by_ref(form.ref.data)
            if case is not None and phone_matches(case.reporter_phone, form.phone.data):
                _remember(case.ref)
                return redirect(url_for("requests.show", ref=case.ref), code=303)
            form.ref.errors = [_("No request has this tracking number and phone. Check both and try again.")]
            status = 404
        else:
            status = 422
    mine = my_cases(current_user.id) if _is_resident() else []
    recent = cases_by_refs(session.get(SESSION_KEY, []))
    return render_template("requests/track.html", form=form, mine=mine, recent=recent), status


def _followed_case(ref: str):
    case = case_by_ref(ref) if len(ref) <= 32 else None
    if case is None:
        abort(404)
    return case


@requests_bp.get("/track/<ref>")
def show(ref: str):
    case = _followed_case(ref)
    if not _may_follow(case):
        flash(_("Enter the phone number you gave to see this request."))
        return redirect(url_for("requests.track", ref=ref))
    return render_template("requests/detail.html", view=request_view(case), rating=RatingForm())


@requests_bp.post("/track/<ref>/rating")
@limiter.limit(_track_limit, key_func=client_address_key)
def rate(ref: str):
    case = _followed_case(ref)
    if not _may_follow(case):
        abort(403)
    task_id = open_rating_task_id(case.id)
    if task_id is None:
        flash(_("This request is not waiting for a rating any more."))
        return redirect(url_for("requests.show", ref=ref), code=303)
    form = RatingForm(request.form)
    if not form.validate():
        return render_template("requests/detail.html", view=request_view(case), rating=form), 422
    try:
        if current_user.is_authenticated and case.reporter_id == current_user.id:
            complete_task(task_id, current_user, form.task_data())
        else:
            complete_feedback_as_reporter(case.ref, form.task_data())
    except Conflict:
        flash(_("This request is not waiting for a rating any more."))
        return redirect(url_for("requests.show", ref=ref), code=303)
    except CaseError as exc:
        form.satisfaction.errors = [exc.message]
        return render_template("requests/detail.html", view=request_view(case), rating=form), 422
    flash(_("Thank you: your rating was recorded."))
    return redirect(url_for("requests.show", ref=ref), code=303)


@requests_bp.get("/track/<ref>/photos/<photo_id>")
def photo(ref: str, photo_id: str):
    case = _followed_case(ref)
    found = db.session.get(Photo, photo_id[:32])
    if not _may_follow(case) or found is None or found.case_id != case.id:
        abort(404)
    return send_file(photo_file(found, thumb=True), mimetype="image/jpeg", max_age=3600)
