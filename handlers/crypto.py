"""Residents' personal fields at rest: SM4 (GCM) encryption, masking, and who sees them in full.

A reporter's phone is stored as ``sm4:<base64url(nonce | ciphertext | tag)>`` in
``cases.reporter_phone`` (String(128) holds a 20-digit number with room to spare). The key is
``SM4_KEY`` (config.py, checked at start-up). Pages show the number masked (138****1234)
except to the case's handler: the person who took or finished its handling task.

A guard on the ``Case`` model encrypts a plain number that reaches the database by a path
that did not encrypt it first (the JSON API, the CLI), so no phone is ever stored in clear.
"""
from __future__ import annotations

import base64
import hmac
import os
import re
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from flask import current_app
from sqlalchemy import event, exists, or_, select

from extensions import db
from handlers.departments import HANDLER_ROLES
from models import Case, Task, User

PREFIX = "sm4:"
NONCE_BYTES = 12
TAG_BYTES = 16
# Digits with spaces, dashes, dots, brackets and a leading + (the digits are checked after).
PHONE_PATTERN = re.compile(r"^\+?[0-9(][0-9 ()\-.]{4,22}$")
PHONE_DIGITS = re.compile(r"^[0-9]{6,15}$")


class UndecryptableField(ValueError):
    """The stored value was not encrypted with this key, or was altered."""


@lru_cache(maxsize=4)
def _key(hex_key: str) -> bytes:
    return bytes.fromhex(hex_key)


def _current_key() -> bytes:
    return _key(current_app.config["SM4_KEY"])


def is_encrypted(value: str | None) -> bool:
    return bool(value) and value.startswith(PREFIX)


def encrypt_personal(plain: str) -> str:
    """Encrypt a short personal field with SM4-GCM under a fresh random nonce."""
    nonce = os.urandom(NONCE_BYTES)
    encryptor = Cipher(algorithms.SM4(_current_key()), modes.GCM(nonce)).encryptor()
    sealed = encryptor.update(plain.encode()) + encryptor.finalize()
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed + encryptor.tag).decode().rstrip("=")


def decrypt_personal(stored: str) -> str:
    """The plain value of an encrypted field (a value stored before encryption is returned as
    is). Raises UndecryptableField when the key is wrong or the value was altered."""
    if not is_encrypted(stored):
        return stored
    body = stored[len(PREFIX):]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (ValueError, TypeError):
        raise UndecryptableField("the stored value is not valid base64") from None
    if len(raw) < NONCE_BYTES + TAG_BYTES:
        raise UndecryptableField("the stored value is too short")
    nonce, sealed, tag = raw[:NONCE_BYTES], raw[NONCE_BYTES:-TAG_BYTES], raw[-TAG_BYTES:]
    decryptor = Cipher(algorithms.SM4(_current_key()), modes.GCM(nonce, tag)).decryptor()
    try:
        return (decryptor.update(sealed) + decryptor.finalize()).decode()
    except (InvalidTag, UnicodeDecodeError):
        raise UndecryptableField("the stored value does not decrypt with this key") from None


def normalize_phone(raw: str | None) -> str | None:
    """The digits of a phone number (a +86 / 0086 prefix dropped), or None when it is not one."""
    text = (raw or "").strip()
    if not PHONE_PATTERN.match(text):
        return None
    digits = re.sub(r"[^0-9]", "", text)
    if text.startswith("+86") or (digits.startswith("0086") and len(digits) > 13):
        digits = digits[2:] if text.startswith("+") else digits[4:]
    return digits if PHONE_DIGITS.match(digits) else None


def mask_phone(phone: str | None) -> str:
    """138****1234 for a mobile number; shorter numbers keep only their last two digits."""
    if not phone:
        return ""
    if len(phone) >= 8:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    return "*" * (len(phone) - 2) + phone[-2:]


def phone_matches(stored: str | None, given: str | None) -> bool:
    """Whether ``given`` is the number stored (encrypted) on a case; constant-time compare."""
    wanted = normalize_phone(given)
    if not stored or wanted is None:
        return False
    try:
        plain = normalize_phone(decrypt_personal(stored)) or ""
    except UndecryptableField:
        return False
    return hmac.compare_digest(plain.encode(), wanted.encode())


def is_case_handler(case: Case, user: User | None) -> bool:
    """The case's handler: a grid worker or department handler who took (claimed) or
    finished one of its handling tasks."""
    if user is None or not getattr(user, "is_authenticated", True) or user.role not in HANDLER_ROLES:
        return False
    return bool(db.session.scalar(select(exists().where(
        Task.case_id == case.id, Task.role.in_(HANDLER_ROLES),
        or_(Task.assignee_id == user.id, Task.completed_by_id == user.id)))))


def reporter_phone_for(case: Case, viewer: User | None) -> str:
    """The reporter's phone as ``viewer`` may see it: in full for the case's handler, else masked."""
    if not case.reporter_phone:
        return ""
    try:
        plain = decrypt_personal(case.reporter_phone)
    except UndecryptableField:
        return "***"
    return plain if is_case_handler(case, viewer) else mask_phone(plain)


def mask_id_number(number: str | None) -> str:
    """110101********1234: an identity card number with its birth date and sequence hidden."""
    if not number:
        return ""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_name(name: str | None) -> str:
    """赵** / J*** : the first character only."""
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


@event.listens_for(Case, "before_insert")
@event.listens_for(Case, "before_update")
def _never_store_a_plain_phone(_mapper, _connection, case: Case) -> None:
    if case.reporter_phone and not is_encrypted(case.reporter_phone):
        case.reporter_phone = encrypt_personal(case.reporter_phone)
