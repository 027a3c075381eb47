"""Bearer tokens for the API: signed, naming the account and its token version."""
from __future__ import annotations

import hashlib

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from extensions import db
from models import ApiClient, User, user_grids, utcnow

SALT = "api-token"


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def issue_token(user: User) -> str:
    """A token valid until the account's token version is raised or it is deactivated."""
    return _signer().dumps({"u": user.id, "v": user.token_version})


def client_for_key(key: str) -> ApiClient | None:
    """The active API client holding this key (only its SHA-256 is stored)."""
    digest = hashlib.sha256(key.encode()).hexdigest()
    client = db.session.scalar(select(ApiClient).where(ApiClient.key_hash == digest))
    return client if client is not None and client.active else None


def user_for_token(token: str) -> User | None:
    try:
        claims = _signer().loads(token)
    except BadSignature:
        return None
    if not isinstance(claims, dict):
        return None
    user_id = claims.get("u")
    if not isinstance(user_id, int):
        return None
    # The grid ids come in the same query (every task check needs them), not the polygons.
    rows = db.session.execute(
        select(User, user_grids.c.grid_id).outerjoin(user_grids, user_grids.c.user_id == User.id)
        .where(User.id == user_id)).all()
    user = rows[0][0] if rows else None
    if user is not None:
        user.known_grid_ids = {grid_id for _, grid_id in rows if grid_id is not None}
    if user is None or not user.active or user.token_version != claims.get("v"):
        return None
    if user.valid_until is not None and user.valid_until < utcnow():
        return None
    return user
