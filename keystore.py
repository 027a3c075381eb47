"""Keys kept in the data directory: made once, strong, readable by this user only.

With no ``SECRET_KEY`` / ``SM4_KEY`` in the environment, the first process that starts makes
them under ``DATA_DIR/keys/`` and every later process (gunicorn workers, RQ worker, ingest,
CLI) reads the same files. Creation is race-free: a key is written in full to a private
temporary file and hard-linked into place, which fails when another process got there first,
so every process ends up reading one complete key.

``config.py`` calls this at start-up (it is part of reading the settings); the SM4 rotation
(``flask keys rotate-sm4``) writes the next and retired keys here too.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

SECRET_KEY_FILE = "secret_key"
SM4_KEY_FILE = "sm4_key"
# During a rotation the new key waits here until the data is re-encrypted; afterwards the key
# it replaced is kept here, so processes started before the rotation stay readable.
SM4_NEXT_FILE = "sm4_key.next"
SM4_RETIRED_FILE = "sm4_key.retired"

# Keys published in this project's history or in the SM4 standard (GB/T 32907 sample key),
# and other words people paste: never accepted, whatever their length.
KNOWN_KEYS = frozenset({
    "dev-only-change-me", "0123456789abcdeffedcba9876543210", "test-secret", "secret", "changeme",
    "change-me", "dev", "development", "00000000000000000000000000000000",
    "ffffffffffffffffffffffffffffffff", "ffeeddccbbaa99887766554433221100",
})
MIN_SECRET_KEY_CHARS = 32


def key_dir(data_dir: str | Path) -> Path:
    return Path(data_dir) / "keys"


def new_secret_key() -> str:
    return secrets.token_urlsafe(48)


def new_sm4_key() -> str:
    return secrets.token_hex(16)


def read_key(path: Path) -> str | None:
    try:
        value = path.read_text().strip()
    except FileNotFoundError:
        return None
    return value or None


def read_or_create_key(path: Path, make: Callable[[], str]) -> str:
    """The key in ``path``; made with ``make`` when there is none yet (mode 600)."""
    existing = read_key(path)
    if existing is not None:
        return existing
    temporary = _write_private(path, make())
    try:
        os.link(temporary, path)  # atomic, and refuses to replace a key another process made
    except FileExistsError:
        pass
    finally:
        temporary.unlink(missing_ok=True)
    found = read_key(path)
    if found is None:
        raise RuntimeError(f"the key file {path} is empty: delete it and start again")
    return found


def write_key(path: Path, value: str) -> None:
    """Replace the key in ``path`` at once (readers see the old or the new key, never half)."""
    os.replace(_write_private(path, value), path)


def remove_key(path: Path) -> None:
    path.unlink(missing_ok=True)


def _write_private(path: Path, value: str) -> Path:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(value + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return temporary


def stored_sm4_keys(data_dir: str | Path) -> list[str]:
    """Every SM4 key in the data directory (current, next, retired), for decryption only."""
    folder = key_dir(data_dir)
    found = (read_key(folder / name) for name in (SM4_KEY_FILE, SM4_NEXT_FILE, SM4_RETIRED_FILE))
    return [key for key in found if key]


def secret_key_problem(value: str) -> str | None:
    """Why a configured SECRET_KEY cannot be used, or None."""
    how = ("unset SECRET_KEY to have one generated in DATA_DIR/keys/, or set a random one, e.g. "
           "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`")
    if value.strip().lower() in KNOWN_KEYS:
        return f"SECRET_KEY is a published sample or default value: {how}"
    if len(value.strip()) < MIN_SECRET_KEY_CHARS:
        return f"SECRET_KEY is shorter than {MIN_SECRET_KEY_CHARS} characters (or empty): {how}"
    return None


def sm4_key_problem(value: str, name: str = "SM4_KEY") -> str | None:
    """Why a configured SM4 key cannot be used, or None."""
    how = (f"unset {name} to have one generated in DATA_DIR/keys/, or set a random one, e.g. "
           "`python -c 'import secrets; print(secrets.token_hex(16))'`")
    try:
        key = bytes.fromhex(value)
    except (TypeError, ValueError):
        key = b""
    if len(key) != 16:
        return f"{name} must be 32 hex digits (a 128-bit key): {how}"
    if value.lower() in KNOWN_KEYS or len(set(key)) < 4:
        return f"{name} is the GB/T 32907 sample key or another published value: {how}"
    return None
