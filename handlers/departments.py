"""Departments a case can be dispatched to, as a mapping code -> Chinese name: a view of the
catalogue's active departments (``handlers.catalogue``), read when used, never a copy."""
from __future__ import annotations

from collections.abc import Iterator, Mapping

from handlers.catalogue import HANDLER_ROLES, active_departments

__all__ = ["DEPARTMENTS", "HANDLER_ROLES"]


class _ActiveDepartments(Mapping[str, str]):
    """Iterating gives the codes a dispatcher may choose now; a retired one is not among them."""

    def __getitem__(self, code: str) -> str:
        for department in active_departments():
            if department.code == code:
                return department.zh
        raise KeyError(code)

    def __iter__(self) -> Iterator[str]:
        return iter([department.code for department in active_departments()])

    def __len__(self) -> int:
        return len(active_departments())


DEPARTMENTS: Mapping[str, str] = _ActiveDepartments()
