"""Checking a sign-in: the password, the account's policy, and lockout per account and address.

Every attempt costs one password hash, whether the account exists or not (a dummy hash for
unknown accounts), so the answer's timing does not tell which accounts exist. Failures are
counted per account AND address (models.SignInFailures): someone guessing from elsewhere
locks only their own address out, never the worker at their terminal. Each new lockout of
the same pair lasts twice as long (LOCKOUT_MINUTES, up to LOCKOUT_MAX_MINUTES); the per-address
rate limit on the sign-in form (LOGIN_RATE_LIMIT) bounds guesses across accounts.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from extensions import db
from handlers.passwords import password_matches
from models import SignInFailures, User, utcnow

# Attempts before a lockout for a name that is no account (unknown names behave like known ones).
DEFAULT_MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class SignInOutcome:
    user: User | None
    # ok | wrong | locked | expired: what the person is told; ``reason`` goes to the audit log.
    verdict: str
    reason: str


def check_sign_in(account: str, password: str, address: str) -> SignInOutcome:
    """Check one attempt and record its failure or success (in the caller's unit of work)."""
    now = utcnow()
    account, address = account[:64], address[:64]
    user = db.session.scalar(select(User).where(User.account == account))
    failures = db.session.get(SignInFailures, (account, address))
    # The one hash of every attempt, done before any early answer.
    password_ok = password_matches(user.password_hash if user is not None else None, password)
    if failures is not None and failures.locked_until is not None and failures.locked_until > now:
        return SignInOutcome(user, "locked", "locked")
    if user is None or not user.active:
        return _failed(failures, account, address, None, "unknown or inactive account")
    if not password_ok:
        return _failed(failures, account, address, user, "wrong password")
    if user.valid_until is not None and user.valid_until < now:
        return SignInOutcome(user, "expired", "expired")
    if failures is not None:
        db.session.delete(failures)
    user.last_login_at = now
    return SignInOutcome(user, "ok", "ok")


def _failed(failures: SignInFailures | None, account: str, address: str, user: User | None,
            reason: str) -> SignInOutcome:
    now = utcnow()
    if failures is None:
        failures = SignInFailures(account=account, address=address, failures=0, lockouts=0)
        db.session.add(failures)
    failures.failures = (failures.failures or 0) + 1
    failures.last_failure_at = now
    allowed = user.max_login_attempts if user is not None else DEFAULT_MAX_ATTEMPTS
    if failures.failures < allowed:
        return SignInOutcome(user, "wrong", reason)
    failures.failures = 0
    failures.lockouts = (failures.lockouts or 0) + 1
    config = current_app.config
    minutes = min(config["LOCKOUT_MINUTES"] * 2 ** (failures.lockouts - 1), config["LOCKOUT_MAX_MINUTES"])
    failures.locked_until = now + timedelta(minutes=minutes)
    return SignInOutcome(user, "locked", f"{reason}, locked")


def is_locked_anywhere(account: str) -> bool:
    """Whether some address is locked out of the account now (shown to administrators)."""
    return db.session.scalar(select(SignInFailures.account).where(
        SignInFailures.account == account, SignInFailures.locked_until > utcnow()).limit(1)) is not None


def end_sessions(user: User) -> None:
    """End every signed-in session of the account (pages check the version on each request)."""
    user.session_version = (user.session_version or 1) + 1
