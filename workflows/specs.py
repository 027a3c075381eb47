"""Parsed process specs: read from ``bpmn/`` once per process, kept by file hash.

Each case stores the hash of the files its spec came from. A case opened before an edit of
the files is restored with its own spec, loaded from the ``process_specs`` table.
"""
from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

from SpiffWorkflow.spiff.parser import SpiffBpmnParser
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from extensions import db
from models import ProcessSpec, after_commit, utcnow
from workflows.engine import ENGINE_VERSION, spec_from_json, spec_to_json

BPMN_DIR = Path(__file__).resolve().parent.parent / "bpmn"


@dataclass(frozen=True)
class LoadedSpec:
    process_id: str
    hash: str
    spec: object
    subprocess_specs: dict


_lock = threading.Lock()
_current: dict[str, LoadedSpec] = {}
_by_hash: dict[tuple[str, str], LoadedSpec] = {}
# (database URL, spec hash) pairs known to be committed in ``process_specs``.
_stored: set[tuple[str, str]] = set()


def _files() -> list[Path]:
    return sorted(BPMN_DIR.glob("*.bpmn")) + sorted(BPMN_DIR.glob("*.dmn"))


def _parse_all() -> None:
    files = _files()
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    files_hash = digest.hexdigest()
    parser = SpiffBpmnParser()
    parser.add_bpmn_files([str(p) for p in files if p.suffix == ".bpmn"])
    parser.add_dmn_files([str(p) for p in files if p.suffix == ".dmn"])
    for process_id in parser.get_process_ids():
        spec = parser.get_spec(process_id)
        loaded = LoadedSpec(process_id, files_hash, spec, parser.get_subprocess_specs(process_id))
        _current[process_id] = loaded
        _by_hash[(process_id, files_hash)] = loaded


def current_spec(process_id: str) -> LoadedSpec:
    """The spec of the files on disk now; stored in ``process_specs`` on first use."""
    if process_id not in _current:
        with _lock:
            if process_id not in _current:
                _parse_all()
    loaded = _current[process_id]
    if (_database(), loaded.hash) not in _stored:
        _store(loaded)
    return loaded


def _database() -> str:
    return str(db.engine.url)


def _store(loaded: LoadedSpec) -> None:
    """Insert the spec unless it is there; two processes opening their first case at once
    both try, and the database keeps one (ON CONFLICT DO NOTHING)."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(insert(ProcessSpec).values(
        hash=loaded.hash, process_id=loaded.process_id, engine_version=ENGINE_VERSION,
        spec=spec_to_json(loaded.spec, loaded.subprocess_specs), created_at=utcnow(),
    ).on_conflict_do_nothing(index_elements=["hash"]))
    # Remembered only once the row is committed: a rolled-back insert is tried again.
    stored = (_database(), loaded.hash)
    after_commit(lambda: _stored.add(stored), key=("spec", stored))


def spec_for_case(process_id: str, spec_hash: str) -> LoadedSpec:
    """The spec a case was opened with, from memory or from the database."""
    loaded = _by_hash.get((process_id, spec_hash))
    if loaded is None:
        current = current_spec(process_id)
        if current.hash == spec_hash:
            return current
        row = db.session.get(ProcessSpec, spec_hash)
        if row is None:
            raise LookupError(f"process spec {spec_hash} of {process_id} is not stored")
        spec, subprocess_specs = spec_from_json(row.spec)
        loaded = LoadedSpec(process_id, spec_hash, spec, subprocess_specs)
        _by_hash[(process_id, spec_hash)] = loaded
    return loaded


def forget_stored_specs() -> None:
    """Tests drop and recreate databases; the 'already stored' memo must go with them."""
    _stored.clear()
