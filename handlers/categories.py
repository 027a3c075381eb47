"""The case categories as a mapping code -> entry: a view of the catalogue's table
(``handlers.catalogue``), read when used, never a copy. Retired categories are included (old
cases keep their names); ``handlers.catalogue.active_categories()`` gives those a new case may have.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping

from handlers.catalogue import CategoryEntry, UnknownCategory, categories, category

__all__ = ["CATEGORIES", "Category", "UnknownCategory", "category"]

Category = CategoryEntry


class _Categories(Mapping[str, CategoryEntry]):
    def __getitem__(self, code: str) -> CategoryEntry:
        return categories()[code]

    def __iter__(self) -> Iterator[str]:
        return iter(list(categories()))

    def __len__(self) -> int:
        return len(categories())


CATEGORIES: Mapping[str, CategoryEntry] = _Categories()
