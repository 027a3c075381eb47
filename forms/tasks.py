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
"""
from __future__ import annotations

import copy
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema_rs
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from extensions import db
from forms.fields import FALSE, TRUE
from handlers.catalogue import HANDLER_ROLES, active_departments
from models import Photo

FORMS_DIR = Path(__file__).resolve().parent.parent / "bpmn" / "forms"
# Lists the system supplies to ``x-choices``; None: checked where the value is applied
# (a grid must be in the case's community: workflows.tasks._apply_grid_choice).
CHOICE_SOURCES = ("departments", "handler_roles", "grids")
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


_cache: dict[tuple[str, str], tuple[float, FormSpec]] = {}
_lock = threading.Lock()


def form_files(key: str, directory: Path = FORMS_DIR) -> tuple[Path, Path]:
    return directory / f"{key}.schema.json", directory / f"{key}.uischema.json"


def form_problems(key: str, directory: Path = FORMS_DIR) -> list[str]:
    """What is wrong with the form ``key`` in ``directory`` (empty when it is usable)."""
    schema_path, ui_path = form_files(key, directory)
    if not key or not schema_path.is_file():
        return [f"form {key!r} is not declared: no {schema_path.name} in {directory.name}/"]
    problems: list[str] = []
    try:
        schema = json.loads(schema_path.read_text(encoding="utf-8"))
        ui = json.loads(ui_path.read_text(encoding="utf-8")) if ui_path.is_file() else {}
    except (OSError, ValueError) as exc:
        return [f"form {key!r}: not readable JSON ({exc})"]
    try:
        jsonschema_rs.meta.validate(schema)
    except jsonschema_rs.ValidationError as exc:
        problems.append(f"form {key!r}: not a valid JSON Schema: {exc.message}")
    if not isinstance(schema, dict) or schema.get("type") != "object" or not isinstance(
            schema.get("properties"), dict):
        return [*problems, f"form {key!r}: the schema must be an object with properties"]
    properties = schema["properties"]
    for name in schema.get("required", []):
        if name not in properties:
            problems.append(f"form {key!r}: required field {name!r} is not a property")
    for name in ui.get("ui:order", []):
        if name not in properties:
            problems.append(f"form {key!r}: the UI schema orders an unknown field {name!r}")
    for name, prop in properties.items():
        source = prop.get("x-choices") if isinstance(prop, dict) else None
        if source is not None and source not in CHOICE_SOURCES:
            problems.append(f"form {key!r}: field {name!r} takes choices from unknown list {source!r}")
        names = (ui.get(name) or {}).get("ui:enumNames")
        if names is not None and "enum" in prop and len(names) != len(prop["enum"]):
            problems.append(f"form {key!r}: field {name!r} has {len(prop['enum'])} choices but "
                            f"{len(names)} names")
    return problems


def load_form(key: str | None, directory: Path = FORMS_DIR) -> FormSpec:
    """The declared form ``key``; re-read when its file changes. Raises UnknownForm."""
    schema_path, ui_path = form_files(key or "", directory)
    try:
        stamp = schema_path.stat().st_mtime + (ui_path.stat().st_mtime if ui_path.exists() else 0)
    except OSError:
        raise UnknownForm(f"no task form {key!r}") from None
    cache_key = (str(directory), key or "")
    cached = _cache.get(cache_key)
    if cached and cached[0] == stamp:
        return cached[1]
    problems = form_problems(key or "", directory)
    if problems:
        raise UnknownForm("; ".join(problems))
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    ui = json.loads(ui_path.read_text(encoding="utf-8")) if ui_path.is_file() else {}
    order = ui.get("ui:order") or list(schema["properties"])
    order += [n for n in schema["properties"] if n not in order]
    required = set(schema.get("required", []))
    spec = FormSpec(key or "", schema, ui, tuple(
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
        for error in jsonschema_rs.validator_for(schema).iter_errors(self.values):
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
    """Every declared form's JSON Schema by form key (what the API documents)."""
    keys = sorted(p.name.removesuffix(".schema.json") for p in directory.glob("*.schema.json"))
    return {key: load_form(key, directory).schema for key in keys}


def public_keys(form_key: str | None) -> tuple[str, ...]:
    """The task-data keys of a form the resident sees; none for an unknown form."""
    try:
        return load_form(form_key).public_keys
    except UnknownForm:
        return ()
