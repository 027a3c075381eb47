"""Administering accounts: create, change, reset passwords, with the policy and encryption."""
from __future__ import annotations

from sqlalchemy import delete, or_, select

from extensions import db
from handlers.crypto import decrypt_personal, mask_phone, sealed
from handlers.errors import Conflict, Invalid, NotFound
from handlers.passwords import hash_password, password_problems
from handlers.sign_in import end_sessions, is_locked_anywhere
from models import Grid, OrgUnit, Role, SignInFailures, User, utcnow

EDITABLE = ("name", "role", "department", "valid_until", "session_timeout_minutes",
            "max_login_attempts", "active")


def mask_id_number(value: str | None) -> str:
    if not value:
        return ""
    return value[:3] + "*" * max(len(value) - 7, 0) + value[-4:] if len(value) > 7 else "*" * len(value)


def account_of(account: str) -> User:
    user = db.session.scalar(select(User).where(User.account == account))
    if user is None:
        raise NotFound(f"no account {account!r}")
    return user


def search_accounts(q: str | None = None, role: str | None = None, limit: int = 100, offset: int = 0):
    query = select(User).order_by(User.account)
    if q:
        like = f"%{q.strip()}%"
        query = query.where(or_(User.account.ilike(like), User.name.ilike(like)))
    if role:
        query = query.where(User.role == role)
    return list(db.session.scalars(query.limit(limit).offset(offset)))


def _check_role(code: str) -> None:
    if db.session.get(Role, code) is None:
        raise Invalid(f"unknown role {code!r}", details={"role": "unknown role"})


def _grids(codes: list[str]) -> list[Grid]:
    grids = list(db.session.scalars(select(Grid).where(Grid.code.in_(codes))))
    missing = sorted(set(codes) - {g.code for g in grids})
    if missing:
        raise Invalid(f"unknown grids: {', '.join(missing)}", details={"grids": "unknown grid"})
    return grids


def _community(code: str | None) -> OrgUnit | None:
    if not code:
        return None
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == code, OrgUnit.kind == "community"))
    if unit is None:
        raise Invalid(f"unknown community {code!r}", details={"community": "unknown community"})
    return unit


def set_password(user: User, password: str) -> None:
    """Set a new password that meets the policy; every token issued before stops working."""
    problems = password_problems(password, user.account)
    if problems:
        raise Invalid("the password needs " + "; ".join(problems), details={"password": "; ".join(problems)})
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    user.token_version = (user.token_version or 1) + 1
    if user.id is not None:
        # A reset ends every session and token of the account, and lifts its lockouts.
        end_sessions(user)
        db.session.execute(delete(SignInFailures).where(SignInFailures.account == user.account))


def apply_changes(user: User, changes: dict) -> User:
    """Apply the fields an administrator may change (validated). Raises Invalid."""
    if "role" in changes and changes["role"] is not None:
        _check_role(changes["role"])
    disabled = user.active is not False and changes.get("active") is False
    revalidated = changes.get("valid_until") is not None and changes["valid_until"] != user.valid_until
    if user.id is not None and (disabled or revalidated):
        # Disabling or changing the validity ends what was signed in, so a later re-enabling
        # or extension does not bring copied cookies or tokens back.
        end_sessions(user)
        user.token_version = (user.token_version or 1) + 1
    for field in EDITABLE:
        if field in changes and changes[field] is not None:
            setattr(user, field, changes[field])
    if "grids" in changes and changes["grids"] is not None:
        user.grids = _grids(changes["grids"])
    if "community" in changes and changes["community"] is not None:
        user.community = _community(changes["community"])
    for field in ("phone", "id_number"):
        if field in changes:
            setattr(user, field, sealed(changes[field]))
    return user


def create_account(data: dict) -> User:
    if db.session.scalar(select(User.id).where(User.account == data["account"])) is not None:
        raise Conflict(f"the account {data['account']!r} exists already")
    user = User(account=data["account"], name=data["name"], role=data["role"], token_version=1,
                active=True, failed_logins=0, session_timeout_minutes=30, max_login_attempts=5)
    apply_changes(user, data)
    set_password(user, data["password"])
    db.session.add(user)
    return user


def account_view(user: User, full_personal_data: bool) -> dict:
    """An account as shown: personal fields in full only to who needs them."""
    phone = decrypt_personal(user.phone) if user.phone else ""
    id_number = decrypt_personal(user.id_number) if user.id_number else ""
    return {
        "account": user.account, "name": user.name, "role": user.role, "department": user.department,
        "community": user.community.code if user.community else None,
        "grids": [g.code for g in user.grids], "active": user.active,
        "phone": phone if full_personal_data else mask_phone(phone) if phone else "",
        "id_number": id_number if full_personal_data else mask_id_number(id_number),
        "valid_until": user.valid_until, "session_timeout_minutes": user.session_timeout_minutes,
        "max_login_attempts": user.max_login_attempts,
        "locked": is_locked_anywhere(user.account),
        "last_login_at": user.last_login_at,
    }
