"""Parsed process specs: the deployed files (``process_files``) parsed once per deployment.

Before opening a case each process reads the deployment marker (the largest id of
``process_files``, one indexed query, trusted for ``PROCESS_RELOAD_SECONDS``) and parses the
deployed files again when it changed: a deploy reaches the web, the workers and the ingest
within seconds, without a restart. Each case stores the hash of the spec it was opened with;
a case opened before a deploy is restored with its own spec from ``process_specs``.
"""
from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from extensions import db
from forms.tasks import forget_deployed_forms, shipped_form_files
from models import Case, ProcessFile, ProcessSpec, after_commit, utcnow
from workflows.engine import (
    ENGINE_VERSION,
    SERIALIZER_VERSION,
    dump_state,
    load_state,
    spec_from_json,
    spec_to_json,
)
from workflows.parsing import ProcessFileParser

BPMN_DIR = Path(__file__).resolve().parent.parent / "bpmn"
# Who deployed the files shipped in bpmn/ (the initial deployment).
SHIPPED_BY = "bpmn/"
# Files are parsed without fetching anything: no DTDs, no entities, no network.
SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@dataclass(frozen=True)
class LoadedSpec:
    process_id: str
    hash: str
    spec: object
    subprocess_specs: dict
    # {file name: version} of the deployment it was parsed from, and the file holding it.
    files: dict = field(default_factory=dict)
    source_file: str | None = None


@dataclass(frozen=True)
class Deployment:
    marker: int
    set_hash: str
    specs: dict[str, LoadedSpec]


_lock = threading.Lock()
# database URL -> (monotonic time of the last marker check, deployment)
_deployments: dict[str, tuple[float, Deployment]] = {}
# file-set hash -> parsed specs by process id; a few kept (tests switch databases).
_parsed: dict[str, dict[str, LoadedSpec]] = {}
_by_hash: dict[tuple[str, str], LoadedSpec] = {}
# (database URL, spec hash) pairs known to be committed in ``process_specs``.
_stored: set[tuple[str, str]] = set()


def ordered_names(names) -> list[str]:
    """Process files first, then decision tables, each by name (the order they are hashed in)."""
    return sorted(n for n in names if n.endswith(".bpmn")) + sorted(n for n in names if n.endswith(".dmn"))


def files_hash(files: dict[str, str]) -> str:
    """The hash of a set of files {name: xml}; the same bytes as bpmn/ give the same hash."""
    digest = hashlib.sha256()
    for name in ordered_names(files):
        digest.update(name.encode())
        digest.update(files[name].encode("utf-8"))
    return digest.hexdigest()


def spec_hash(set_hash: str, process_id: str) -> str:
    """A process's spec hash: its file set and its id (two processes share one file set)."""
    return hashlib.sha256(f"{set_hash}:{process_id}".encode()).hexdigest()


def parse_files(files: dict[str, str]) -> dict[str, tuple[object, dict, str | None]]:
    """Parse a whole set of files {name: xml} -> {process id: (spec, subprocess specs, file)}.

    Raises lxml's XMLSyntaxError or SpiffWorkflow's ValidationException on what does not parse."""
    parser = ProcessFileParser()
    for name in ordered_names(files):
        root = etree.fromstring(files[name].encode("utf-8"), SAFE_XML)
        if name.endswith(".bpmn"):
            parser.add_bpmn_xml(etree.ElementTree(root), filename=name)
        else:
            parser.add_dmn_xml(root, filename=name)
    return {process_id: (parser.get_spec(process_id), parser.get_subprocess_specs(process_id),
                         parser.get_process_parser(process_id).filename)
            for process_id in parser.get_process_ids()}


def shipped_files() -> dict[str, str]:
    """The files in bpmn/: the initial deployment."""
    return {path.name: path.read_text("utf-8") for path in sorted(BPMN_DIR.iterdir())
            if path.suffix in (".bpmn", ".dmn")}


def deploy_shipped_files() -> int:
    """Deploy as version 1 each file of bpmn/ and bpmn/forms/ that was never deployed; returns how many.
    Idempotent, and safe when two processes do it at once (the database keeps one)."""
    existing = set(db.session.scalars(select(ProcessFile.name).distinct()))
    added = 0
    # The task forms of bpmn/forms/ too: the shipped process files name them.
    for name, xml in {**shipped_files(), **shipped_form_files()}.items():
        if name not in existing:
            db.session.execute(_insert().values(
                name=name, version=1, sha256=hashlib.sha256(xml.encode("utf-8")).hexdigest(), xml=xml,
                deployed_by=SHIPPED_BY, deployed_at=utcnow(),
            ).on_conflict_do_nothing(index_elements=["name", "version"]))
            added += 1
    return added


def _insert():
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return insert(ProcessFile)


def current_files() -> list[ProcessFile]:
    """The deployed version of each file (its highest version)."""
    latest = (select(ProcessFile.name, func.max(ProcessFile.version).label("version"))
              .group_by(ProcessFile.name).subquery())
    rows = db.session.scalars(select(ProcessFile).join(
        latest, (ProcessFile.name == latest.c.name) & (ProcessFile.version == latest.c.version)))
    by_name = {row.name: row for row in rows}
    return [by_name[name] for name in ordered_names(by_name)]


def deployment_marker() -> int | None:
    return db.session.scalar(select(func.max(ProcessFile.id)))


def current_deployment() -> Deployment:
    """The deployed files, parsed; re-read when the marker changed (checked every few seconds)."""
    url = _database()
    cached = _deployments.get(url)
    now = time.monotonic()
    if cached and now - cached[0] < current_app.config["PROCESS_RELOAD_SECONDS"]:
        return cached[1]
    marker = deployment_marker()
    if marker is None:
        deploy_shipped_files()
        marker = deployment_marker()
    if cached and cached[1].marker == marker:
        _deployments[url] = (now, cached[1])
        return cached[1]
    rows = current_files()
    deployment = _deployment_of({row.name: row.xml for row in rows},
                                {row.name: row.version for row in rows}, marker)
    _deployments[url] = (now, deployment)
    return deployment


def _deployment_of(files: dict[str, str], versions: dict[str, int], marker: int) -> Deployment:
    set_hash = files_hash(files)
    with _lock:
        specs = _parsed.get(set_hash)
        if specs is None:
            specs = {process_id: LoadedSpec(process_id, spec_hash(set_hash, process_id), spec, subs,
                                            dict(versions), source)
                     for process_id, (spec, subs, source) in parse_files(files).items()}
            if len(_parsed) >= 8:
                _parsed.pop(next(iter(_parsed)))
            _parsed[set_hash] = specs
            for loaded in specs.values():
                _by_hash[(loaded.process_id, loaded.hash)] = loaded
    return Deployment(marker, set_hash, specs)


def current_spec(process_id: str) -> LoadedSpec:
    """The spec of the deployed files now; stored in ``process_specs`` on first use.
    Raises LookupError when no deployed file holds the process."""
    loaded = current_deployment().specs.get(process_id)
    if loaded is None:
        raise LookupError(f"no deployed file holds the process {process_id!r}")
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
        serializer_version=SERIALIZER_VERSION, files=loaded.files, source_file=loaded.source_file,
    ).on_conflict_do_nothing(index_elements=["hash"]))
    # Remembered only once the row is committed: a rolled-back insert is tried again.
    stored = (_database(), loaded.hash)
    after_commit(lambda: _stored.add(stored), key=("spec", stored))


def spec_for_case(process_id: str, case_spec_hash: str) -> LoadedSpec:
    """The spec a case was opened with, from memory or from the database (migrated when it
    was stored in an older serializer format). Raises LookupError when it is not stored."""
    loaded = _by_hash.get((process_id, case_spec_hash))
    if loaded is not None:
        return loaded
    row = db.session.get(ProcessSpec, case_spec_hash)
    if row is None or row.process_id != process_id:
        # Before specs were hashed per process, two processes shared one hash and only the
        # first was stored: the other is parsed again from the files of that hash.
        loaded = _legacy_spec(process_id, case_spec_hash)
        if loaded is None:
            raise LookupError(f"process spec {case_spec_hash} of {process_id} is not stored")
        return loaded
    spec, subprocess_specs = spec_from_json(row.spec, row.serializer_version or SERIALIZER_VERSION)
    loaded = LoadedSpec(process_id, case_spec_hash, spec, subprocess_specs, dict(row.files or {}),
                        row.source_file)
    _by_hash[(process_id, case_spec_hash)] = loaded
    return loaded


def _legacy_spec(process_id: str, legacy_hash: str) -> LoadedSpec | None:
    candidates = [{row.name: row for row in current_files()},
                  {row.name: row for row in db.session.scalars(select(ProcessFile).where(ProcessFile.version == 1))}]
    for rows in candidates:
        files = {name: row.xml for name, row in rows.items()}
        if files and files_hash(files) == legacy_hash:
            parsed = parse_files(files).get(process_id)
            if parsed is not None:
                loaded = LoadedSpec(process_id, legacy_hash, parsed[0], parsed[1],
                                    {name: row.version for name, row in rows.items()}, parsed[2])
                _by_hash[(process_id, legacy_hash)] = loaded
                return loaded
    return None


def restore_case_workflow(case: Case):
    """The case's workflow on its own spec. A state of an older serializer format is migrated
    together with the spec as it was stored (SpiffWorkflow's migrations read and change both).
    Raises LookupError (spec not stored) or MigrationError (no migration path)."""
    loaded = spec_for_case(case.process_id, case.spec_hash)
    if case.serializer_version == SERIALIZER_VERSION:
        return load_state(case.state, loaded.spec, loaded.subprocess_specs, SERIALIZER_VERSION)
    row = db.session.get(ProcessSpec, case.spec_hash)
    if row is not None and row.process_id == case.process_id:
        stored, version = json.loads(row.spec), row.serializer_version or case.serializer_version
    else:
        stored, version = json.loads(spec_to_json(loaded.spec, loaded.subprocess_specs)), SERIALIZER_VERSION
    workflow = load_state(case.state, loaded.spec, loaded.subprocess_specs, case.serializer_version,
                          stored_spec=stored, spec_version=version)
    # Kept migrated at once: whatever this unit of work does next, the row holds a state in
    # the format it names (rolled back together if the unit of work fails).
    case.state = dump_state(workflow)
    case.serializer_version, case.engine_version = SERIALIZER_VERSION, ENGINE_VERSION
    return workflow


def forget_deployments() -> None:
    """Drop the parsed deployments of this process (after a deploy here, and between tests)."""
    _deployments.clear()


def forget_stored_specs() -> None:
    """Tests drop and recreate databases; the 'already stored' memo must go with them."""
    _stored.clear()
    _deployments.clear()
    forget_deployed_forms()
