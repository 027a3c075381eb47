"""Personal fields at rest: SM4 (GCM) encryption, masking, and who sees them in full.

A phone or ID number is stored as ``sm4:<base64url(nonce | ciphertext | tag)>`` (String(128)
holds a 20-digit number with room to spare) in ``cases.reporter_phone``, ``users.phone``,
``users.id_number`` and the queued Open311 requests' payloads. Every place that sets one calls
``encrypt_personal`` (or ``sealed``) itself, and the database refuses a value without the
``sm4:`` prefix (a CHECK constraint), so a path that forgets fails loudly instead of storing a
number in clear. Pages show numbers masked (138****1234) except to the case's handler.

The key is ``SM4_KEY`` (config.py: configured, or generated into the data directory).
Decryption also tries the retired and pending keys of a rotation (``flask keys rotate-sm4``),
and re-reads the key files once when none fits: a process started before a rotation then
reads what was re-encrypted under the new key.
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
from sqlalchemy import exists, or_, select

import keystore
from extensions import db
from handlers.catalogue import HANDLER_ROLES
from models import Case, Task, User

PREFIX = "sm4:"
NONCE_BYTES = 12
TAG_BYTES = 16
# Digits with spaces, dashes, dots, brackets and a leading + (the digits are checked after).
PHONE_PATTERN = re.compile(r"^\+?[0-9(][0-9 ()\-.]{4,22}$")
PHONE_DIGITS = re.compile(r"^[0-9]{6,15}$")


class UndecryptableField(ValueError):
    """The stored value was not encrypted with this key, or was altered."""


@lru_cache(maxsize=16)
def _key(hex_key: str) -> bytes:
    return bytes.fromhex(hex_key)


def _current_key() -> bytes:
    return _key(current_app.config["SM4_KEY"])


def _decryption_keys(reread_files: bool = False) -> list[str]:
    """The current key first, then the retired ones and those in the key files (read once per
    process, and again on ``reread_files``: after a miss, a rotation may have happened)."""
    config = current_app.config
    cached = current_app.extensions.get("sm4_file_keys")
    if cached is None or reread_files:
        cached = current_app.extensions["sm4_file_keys"] = keystore.stored_sm4_keys(config["DATA_DIR"])
    return list(dict.fromkeys([config["SM4_KEY"], *config.get("SM4_RETIRED_KEYS", ()), *cached]))


def is_encrypted(value: str | None) -> bool:
    return bool(value) and value.startswith(PREFIX)


def sealed(value: str | None) -> str | None:
    """The value ready to store: encrypted (once), or None when empty."""
    value = (value or "").strip()
    if not value:
        return None
    return value if is_encrypted(value) else encrypt_personal(value)


def encrypt_personal(plain: str, hex_key: str | None = None) -> str:
    """Encrypt a short personal field with SM4-GCM under a fresh random nonce (the current key
    unless ``hex_key`` is given: the key rotation)."""
    nonce = os.urandom(NONCE_BYTES)
    key = _key(hex_key) if hex_key else _current_key()
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
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
    nonce, body, tag = raw[:NONCE_BYTES], raw[NONCE_BYTES:-TAG_BYTES], raw[-TAG_BYTES:]
    tried: set[str] = set()
    for reread in (False, True):
        for hex_key in _decryption_keys(reread):
            if hex_key in tried:
                continue
            tried.add(hex_key)
            decryptor = Cipher(algorithms.SM4(_key(hex_key)), modes.GCM(nonce, tag)).decryptor()
            try:
                return (decryptor.update(body) + decryptor.finalize()).decode()
            except (InvalidTag, UnicodeDecodeError):
                continue
    raise UndecryptableField("the stored value does not decrypt with this key")


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
