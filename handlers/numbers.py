"""Whole numbers typed by people and programs into query strings and forms."""
from __future__ import annotations

# The largest id a 4-byte integer column holds: anything larger names no row.
MAX_ID = 2**31 - 1


def whole_number(text: str | None, maximum: int = MAX_ID) -> int | None:
    """``text`` as a whole number from 0 to ``maximum``, else None.

    ``str.isdigit`` alone is not enough: it accepts '²' (which ``int`` refuses) and digits of
    other scripts, and a 30-digit number overflows the database's integer columns."""
    if not text or not text.isascii() or not text.isdigit() or len(text) > len(str(maximum)):
        return None
    value = int(text)
    return value if value <= maximum else None
