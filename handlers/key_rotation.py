"""Re-encrypting every piece of personal data under a new SM4 key, in one transaction.

Where SM4 is used (handlers.crypto): ``cases.reporter_phone``, ``users.phone``,
``users.id_number`` and the phone inside queued Open311 requests (``open311_tokens.payload``).
``flask keys rotate-sm4`` (web.commands.keys) puts the new key on disk first, calls this,
and installs the key only after the commit, so a crash at any step leaves every value readable.
"""
from __future__ import annotations

from sqlalchemy import bindparam, select, update

from extensions import db
from handlers.crypto import UndecryptableField, decrypt_personal, encrypt_personal
from models import Case, Open311Token, User, transaction

SEALED_COLUMNS = ((Case.__table__, "reporter_phone"), (User.__table__, "phone"), (User.__table__, "id_number"))


class RotationRefused(RuntimeError):
    """A stored value does not decrypt with any known key: nothing was changed."""


def _resealed(value: str, new_key: str, where: str) -> str:
    try:
        return encrypt_personal(decrypt_personal(value), new_key)
    except UndecryptableField:
        raise RotationRefused(f"{where} does not decrypt with any known key; nothing was changed") from None


def reencrypt_personal_data(new_key: str) -> int:
    """Re-encrypt every encrypted personal value under ``new_key`` (decrypting with the
    current, retired or pending keys); all or nothing. Returns how many values.
    Raises RotationRefused."""
    count = 0
    with transaction():
        for table, column in SEALED_COLUMNS:
            rows = db.session.execute(select(table.c.id, table.c[column]).where(table.c[column].is_not(None))).all()
            if not rows:
                continue
            changed = [{"row_id": row_id, "sealed": _resealed(value, new_key, f"{table.name}.{column} #{row_id}")}
                       for row_id, value in rows]
            db.session.execute(update(table).where(table.c.id == bindparam("row_id"))
                               .values({column: bindparam("sealed")}).execution_options(synchronize_session=False),
                               changed)
            count += len(changed)
        for token in db.session.scalars(select(Open311Token)):
            phone = (token.payload or {}).get("phone")
            if phone:
                token.payload = {**token.payload, "phone": _resealed(phone, new_key, f"open311_tokens #{token.id}")}
                count += 1
    return count
