"""The task forms, declared next to the processes as JSON Schema (``bpmn/forms/<key>.schema.json``)
with a UI schema (``<key>.uischema.json``), as spiff-arena does.

The same schema checks JSON from the API, the CLI and posted forms from the inbox, so a rule
holds whichever way a task is completed. Besides standard JSON Schema, a property may carry:

- ``x-task-data``: the task-data key its value is stored under (the process reads that name);
- ``x-public``: true when the resident sees the value (the public reply); every other field is
  internal and the form says so;
- ``x-choices``: a list the system supplies at run time (``departments``, ``handler_roles``,
  ``grids``), checked like an ``enum``;
- ``x-photos``: the value is a list of stored photo ids;
- ``x-messages``: the message per failed keyword (``required``, ``pattern``...), an English
  message id that the pages translate.

An unknown form key is an error (``UnknownForm``), never a fallback to another form.

Forms are deployed like the process files (``POST /api/v1/processes``, ``flask processes
deploy``; stored in ``process_files``): the deployed version is the one read, and every process
sees a new one within PROCESS_RELOAD_SECONDS, without a restart. The files of bpmn/forms/ are
the first deployment.
"""
from __future__ import annotations

import copy
import json
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema_rs
from flask import current_app, has_app_context
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from extensions import db
from forms.fields import FALSE, TRUE
from forms.form_checks import form_texts_problems, refuse_retrieval
from handlers.catalogue import HANDLER_ROLES, active_departments
from models import Photo, ProcessFile

FORMS_DIR = Path(__file__).resolve().parent.parent / "bpmn" / "forms"
DEFAULT_MESSAGES = {
    "required": "This field is required.", "enum": "Not a valid choice.", "type": "This value is not valid.",
    "maxLength": "This text is too long.", "maxItems": "Too many items.", "pattern": "This value is not valid.",
}
INVALID = "This value is not valid."
PHOTO_NOT_STORED = "a photo is not stored: upload it first"


class UnknownForm(LookupError):
    """No form is declared under this key (or its files are not valid)."""


@dataclass(frozen=True)
class FieldSpec:
    """One property of a form: what it is, where it goes, who sees it, how it is drawn."""

    name: str
    schema: dict
    ui: dict
    required: bool

    @property
    def title(self) -> str:
        return self.schema.get("title", self.name)

    @property
    def help(self) -> str:
        return self.ui.get("ui:help", "")

    @property
    def widget(self) -> str:
        if self.schema.get("x-photos"):
            return "photos"
        default = {"boolean": "radio", "array": "photos"}.get(self.schema.get("type"), "text")
        if "enum" in self.schema or "x-choices" in self.schema:
            default = "select"
        return self.ui.get("ui:widget", default)

    @property
    def public(self) -> bool:
        return bool(self.schema.get("x-public"))

    @property
    def data_key(self) -> str:
        return self.schema.get("x-task-data", self.name)

    @property
    def choices(self) -> str | None:
        return self.schema.get("x-choices")

    @property
    def enum_options(self) -> list[tuple[str, str]]:
        """(value, English name) of each choice of an ``enum`` field, names from ``ui:enumNames``."""
        values = self.schema.get("enum", [])
        return list(zip(values, self.ui.get("ui:enumNames") or values, strict=False))

    def message(self, keyword: str) -> str:
        return self.schema.get("x-messages", {}).get(keyword) or DEFAULT_MESSAGES.get(keyword, INVALID)


@dataclass(frozen=True)
class FormSpec:
    key: str
    schema: dict
    ui: dict
    fields: tuple[FieldSpec, ...]

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def public_keys(self) -> tuple[str, ...]:
        """The task-data keys the resident sees."""
        return tuple(f.data_key for f in self.fields if f.public)


_cache: dict[tuple[str, str], tuple[object, FormSpec]] = {}
_lock = threading.Lock()
# A form file's name: the form key, then what the file holds.
FORM_FILE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_-]{0,100})\.(schema|uischema)\.json$")
# database URL -> (monotonic time of the last marker check, marker, {file name: text} deployed)
_deployed: dict[str, tuple[float, int | None, dict[str, str]]] = {}


def form_files(key: str, directory: Path = FORMS_DIR) -> tuple[Path, Path]:
    return directory / f"{key}.schema.json", directory / f"{key}.uischema.json"


def form_key_of(file_name: str) -> str | None:
    """The form key of a form file name (``inspect.schema.json`` -> ``inspect``), else None."""
    match = FORM_FILE.match(file_name or "")
    return match.group(1) if match else None


def shipped_form_files(directory: Path = FORMS_DIR) -> dict[str, str]:
    """The form files of bpmn/forms/ {file name: text}: deployed with the shipped process files."""
    return {path.name: path.read_text("utf-8") for path in sorted(directory.glob("*.json"))
            if form_key_of(path.name)}


def deployed_form_files() -> dict[str, str] | None:
    """The current version of every deployed form file {file name: text}; None outside an app.

    Read again when the deployment marker (the largest id of ``process_files``, the one
    ``workflows.specs`` checks before a case) changed, checked every PROCESS_RELOAD_SECONDS:
    a form deployed in one process reaches every other within seconds."""
    if not has_app_context():
        return None
    url = str(db.engine.url)
    now = time.monotonic()
    cached = _deployed.get(url)
    if cached and now - cached[0] < current_app.config["PROCESS_RELOAD_SECONDS"]:
        return cached[2]
    marker = db.session.scalar(select(func.max(ProcessFile.id)))
    if cached and cached[1] == marker:
        _deployed[url] = (now, marker, cached[2])
        return cached[2]
    latest = (select(ProcessFile.name, func.max(ProcessFile.version).label("version"))
              .where(ProcessFile.name.like("%.json")).group_by(ProcessFile.name).subquery())
    rows = db.session.execute(select(ProcessFile.name, ProcessFile.xml).join(
        latest, (ProcessFile.name == latest.c.name) & (ProcessFile.version == latest.c.version)))
    texts = {name: text for name, text in rows if form_key_of(name)}
    _deployed[url] = (now, marker, texts)
    return texts


def forget_deployed_forms() -> None:
    """Drop the deployed forms read by this process (after a deploy here, and between tests)."""
    _deployed.clear()


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


def form_problems(key: str, directory: Path | None = FORMS_DIR,
                  texts: dict[str, str] | None = None) -> list[str]:
    """What is wrong with the form ``key`` (empty when it is usable): from ``texts`` {file
    name: text} when it holds the form's schema, else from ``directory`` (None: nowhere else)."""
    if texts is not None and f"{key}.schema.json" in texts:
        return form_texts_problems(key, texts[f"{key}.schema.json"], texts.get(f"{key}.uischema.json"))
    if directory is None:
        return [f"form {key!r} is not declared: no {key}.schema.json is deployed or sent"]
    schema_path, ui_path = form_files(key, directory)
    if not key or not schema_path.is_file():
        return [f"form {key!r} is not declared: no {schema_path.name} in {directory.name}/"]
    try:
        return form_texts_problems(key, _read(schema_path), _read(ui_path))
    except OSError as exc:
        return [f"form {key!r}: not readable ({exc})"]


def _form_texts(key: str, directory: Path) -> tuple[str, str | None, str | None]:
    """(where from, schema text, UI schema text) of the form ``key``: its deployed version.
    bpmn/forms on disk is read only for a key nothing deployed holds: outside an app (unit
    tests, lint of files), or a database from before forms were deployable until its first
    list or deploy deploys the shipped forms (workflows.specs.deploy_shipped_files)."""
    deployed = deployed_form_files() if directory == FORMS_DIR else None
    if deployed and f"{key}.schema.json" in deployed:
        return "deployed", deployed[f"{key}.schema.json"], deployed.get(f"{key}.uischema.json")
    schema_path, ui_path = form_files(key, directory)
    try:
        return str(directory), _read(schema_path), _read(ui_path)
    except OSError:
        return str(directory), None, None


def load_form(key: str | None, directory: Path = FORMS_DIR) -> FormSpec:
    """The declared form ``key``, its deployed version; parsed again when its text changes.
    Raises UnknownForm."""
    if not key or not FORM_FILE.match(f"{key}.schema.json"):
        raise UnknownForm(f"no task form {key!r}")
    source, schema_text, ui_text = _form_texts(key, directory)
    if schema_text is None:
        raise UnknownForm(f"no task form {key!r}")
    cache_key, stamp = (source, key), (schema_text, ui_text)
    cached = _cache.get(cache_key)
    if cached and cached[0] == stamp:
        return cached[1]
    problems = form_texts_problems(key, schema_text, ui_text)
    if problems:
        raise UnknownForm("; ".join(problems))
    schema = json.loads(schema_text)
    ui = json.loads(ui_text) if ui_text is not None else {}
    order = list(ui.get("ui:order") or schema["properties"])
    order += [n for n in schema["properties"] if n not in order]
    required = set(schema.get("required", []))
    spec = FormSpec(key, schema, ui, tuple(
        FieldSpec(name, schema["properties"][name], ui.get(name) or {}, name in required) for name in order))
    with _lock:
        _cache[cache_key] = (stamp, spec)
    return spec


def choice_values(source: str) -> list[str] | None:
    """The allowed values of an ``x-choices`` list, or None when checked elsewhere."""
    if source == "departments":
        return [department.code for department in active_departments()]
    if source == "handler_roles":
        return list(HANDLER_ROLES)
    return None


@dataclass
class TaskForm:
    """A form bound to submitted data: ``validate()``, then ``task_data()``; ``errors`` per field."""

    spec: FormSpec
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    form_errors: list[str] = field(default_factory=list)

    def _add(self, name: str, message: str) -> None:
        # One message per field: the first rule it breaks.
        self.errors.setdefault(name, [message])

    def validate(self) -> bool:
        schema = copy.deepcopy(self.spec.schema)
        for prop in schema["properties"].values():
            allowed = choice_values(prop["x-choices"]) if "x-choices" in prop else None
            if allowed is not None:
                prop["enum"] = allowed
        for error in jsonschema_rs.validator_for(schema, retriever=refuse_retrieval).iter_errors(self.values):
            path = list(error.instance_path)
            name = str(path[0]) if path else getattr(error.kind, "property", None)
            target = self.spec.field(str(name)) if name is not None else None
            if target is None:
                self.form_errors.append(INVALID)
                continue
            keyword = str(list(error.schema_path)[-1])
            self._add(target.name, target.message(keyword))
        self._check_photos()
        return not self.errors and not self.form_errors

    def _check_photos(self) -> None:
        for spec in self.spec.fields:
            ids = self.values.get(spec.name)
            if not spec.schema.get("x-photos") or spec.name in self.errors or not ids:
                continue
            known = set(db.session.scalars(select(Photo.id).where(Photo.id.in_(ids))))
            if any(i not in known for i in ids):
                self._add(spec.name, PHOTO_NOT_STORED)

    def task_data(self) -> dict:
        """The values under the task-data names the process reads; defaults for blanks."""
        data: dict[str, Any] = {}
        for spec in self.spec.fields:
            if spec.name in self.values:
                data[spec.data_key] = self.values[spec.name]
            elif "default" in spec.schema:
                data[spec.data_key] = copy.deepcopy(spec.schema["default"])
        return data

    def public_data(self) -> dict:
        """What of ``task_data()`` the resident may see."""
        data = self.task_data()
        return {key: data[key] for key in self.spec.public_keys if data.get(key) not in (None, "")}

    def value(self, name: str) -> Any:
        return self.values.get(name)


def _coerce(spec: FieldSpec, raw: list) -> tuple[Any, bool]:
    """The value of a field from what was sent (a posted form gives strings); (value, present).
    A value of the wrong kind is kept as it is, so the schema names the rule it breaks."""
    kind = spec.schema.get("type")
    if kind == "array":
        values = raw[0] if len(raw) == 1 and isinstance(raw[0], list) else raw
        if not all(isinstance(v, str) for v in values):
            return values, True
        values = [v.strip() for v in values if v.strip()]
        return values, bool(values)
    if not raw:
        return None, False
    value = raw[0]
    if isinstance(value, str) and value == "":
        return None, False
    if kind == "boolean" and isinstance(value, str):
        word = value.strip().lower()
        return (True if word in TRUE else False if word in FALSE else value), True
    return value, True


def task_form(form_key: str | None, data: dict | MultiDict, directory: Path = FORMS_DIR) -> TaskForm:
    """The form of a task bound to ``data``; ``validate()`` it and read ``task_data()``.
    Raises UnknownForm for a key no form file declares."""
    spec = load_form(form_key, directory)
    form = TaskForm(spec)
    for field_spec in spec.fields:
        if isinstance(data, MultiDict):
            raw = data.getlist(field_spec.name)
        else:
            value = data.get(field_spec.name)
            raw = [] if value is None else value if isinstance(value, list) else [value]
        value, present = _coerce(field_spec, raw)
        if present and _has_nul(value):
            form._add(field_spec.name, INVALID)  # PostgreSQL cannot store NUL
        elif present:
            form.values[field_spec.name] = value
    return form


def empty_form(form_key: str | None) -> TaskForm:
    """The form of a task with nothing filled in (for a page). Raises UnknownForm."""
    return TaskForm(load_form(form_key))


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(isinstance(v, str) and "\x00" in v for v in value)
    return False


def declared_forms(directory: Path = FORMS_DIR) -> dict[str, dict]:
    """Every declared form's JSON Schema by form key (what the API documents): the deployed
    ones, and those of bpmn/forms no deploy holds yet."""
    names = {p.name for p in directory.glob("*.schema.json")}
    if directory == FORMS_DIR:
        names |= set(deployed_form_files() or ())
    keys = sorted({form_key_of(n) for n in names if n.endswith(".schema.json")} - {None})
    return {key: load_form(key, directory).schema for key in keys}


def public_keys(form_key: str | None) -> tuple[str, ...]:
    """The task-data keys of a form the resident sees; none for an unknown form."""
    try:
        return load_form(form_key).public_keys
    except UnknownForm:
        return ()
