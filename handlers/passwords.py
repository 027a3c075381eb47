"""Passwords: a modern KDF (scrypt, via werkzeug) and the policy a new password must meet."""
from __future__ import annotations

import re
import secrets
from functools import lru_cache

from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 10


def password_problems(password: str, account: str = "") -> list[str]:
    """What is wrong with a new password; empty when it meets the policy."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"at least {MIN_LENGTH} characters")
    classes = sum(bool(re.search(p, password)) for p in (r"[a-z]", r"[A-Z]", r"\d", r"[^\w\s]"))
    if classes < 3:
        problems.append("at least three of: lower case, upper case, digits, symbols")
    if account and account.lower() in password.lower():
        problems.append("must not contain the account name")
    if len(password) > 128:
        problems.append("at most 128 characters")
    return problems


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def password_matches(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` is the one hashed; with no hash (no such account) a dummy hash is
    checked all the same, so the answer takes as long whether the account exists or not."""
    if not stored_hash:
        check_password_hash(_dummy_hash(), password)
        return False
    return check_password_hash(stored_hash, password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Made with the same KDF and parameters as real hashes (costs one hash, once a process).
    return hash_password(secrets.token_urlsafe(16))
