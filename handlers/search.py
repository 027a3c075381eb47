"""Text search over Chinese: a case's title and description as character uni- and bigrams.

Chinese has no spaces between words, so substrings are matched: the grams narrow the
candidates through a GIN index (PostgreSQL) and a LIKE re-check keeps exact matches. The
grams are written once, when the case opens, in a table of their own, so the many updates of
a case row never touch that index.
"""
from __future__ import annotations


def search_grams(*texts: str) -> list[str]:
    """The distinct lower-case 1- and 2-character pieces of the texts, none holding a space."""
    doc = " ".join(t for t in texts if t).lower()
    grams = {doc[i:i + n] for n in (1, 2) for i in range(len(doc) - n + 1)}
    return sorted(g for g in grams if not any(c.isspace() for c in g))
