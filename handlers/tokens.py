"""Bearer tokens for the API: signed, naming the account and its token version."""
from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from extensions import db
from models import User

SALT = "api-token"


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def issue_token(user: User) -> str:
    """A token valid until the account's token version is raised or it is deactivated."""
    return _signer().dumps({"u": user.id, "v": user.token_version})


def user_for_token(token: str) -> User | None:
    try:
        claims = _signer().loads(token)
    except BadSignature:
        return None
    if not isinstance(claims, dict):
        return None
    user = db.session.get(User, claims.get("u"))
    if user is None or not user.active or user.token_version != claims.get("v"):
        return None
    return user
