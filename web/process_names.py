"""Which process ids are deployed: a category may only name one of them."""
from __future__ import annotations

from handlers.catalogue import categories
from workflows.specs import current_spec


def _deployed(process_id: str) -> bool:
    try:
        current_spec(process_id)
    except LookupError:  # no process of that id in the deployed files
        return False
    return True


def known_processes(candidates: set[str]) -> set[str]:
    """The candidates that are deployed, with the processes the catalogue already uses."""
    in_use = {c.process_id for c in categories().values()}
    return {pid for pid in set(candidates) | in_use if pid and _deployed(pid)}
