"""The checks of a task form's files, as ``forms.tasks`` reads them: what lint, a deploy and
the loader refuse (JSON, a JSON Schema by its meta-schema, the project's ``x-`` keys, a UI
schema that orders and names only what the schema declares)."""
from __future__ import annotations

import json
from typing import Any

import jsonschema_rs

# Lists the system supplies to ``x-choices`` (``grids`` is checked where the value is applied
# too: a grid must be in the case's community, workflows.tasks._apply_grid_choice).
CHOICE_SOURCES = ("departments", "handler_roles", "grids")


def form_texts_problems(key: str, schema_text: str | None, ui_text: str | None) -> list[str]:
    """What is wrong with the form ``key`` given the texts of its schema and UI schema (the
    UI schema may be missing): JSON, a JSON Schema, an object with properties, the project's
    ``x-`` keys, a UI order and choice names that match the properties."""
    if schema_text is None:
        return [f"form {key!r} is not declared: no {key}.schema.json is deployed"]
    problems: list[str] = []
    try:
        schema = json.loads(schema_text)
        ui = json.loads(ui_text) if ui_text is not None else {}
    except ValueError as exc:
        return [f"form {key!r}: not readable JSON ({exc})"]
    try:
        jsonschema_rs.meta.validate(schema)
    except jsonschema_rs.ValidationError as exc:
        problems.append(f"form {key!r}: not a valid JSON Schema: {exc.message}")
    except Exception as exc:  # noqa: BLE001 - e.g. an unknown $schema: a problem of the form
        problems.append(f"form {key!r}: not a valid JSON Schema: {exc}")
    if not isinstance(schema, dict) or schema.get("type") != "object" or not isinstance(
            schema.get("properties"), dict):
        return [*problems, f"form {key!r}: the schema must be an object with properties"]
    if not isinstance(ui, dict):
        return [*problems, f"form {key!r}: the UI schema must be an object"]
    properties = schema["properties"]
    required, order = schema.get("required", []), ui.get("ui:order", [])
    for name in required if isinstance(required, list) else []:
        if name not in properties:
            problems.append(f"form {key!r}: required field {name!r} is not a property")
    for name in order if isinstance(order, list) else [order]:
        if not isinstance(name, str) or name not in properties:
            problems.append(f"form {key!r}: the UI schema orders an unknown field {name!r}")
    for name, prop in properties.items():
        problems += _property_problems(key, name, prop, ui.get(name))
    return problems


def _property_problems(key: str, name: str, prop: Any, ui: Any) -> list[str]:
    if not isinstance(prop, dict):
        return [f"form {key!r}: field {name!r} must be a schema object"]
    if ui is not None and not isinstance(ui, dict):
        return [f"form {key!r}: the UI schema of field {name!r} must be an object"]
    problems = []
    source = prop.get("x-choices")
    if source is not None and source not in CHOICE_SOURCES:
        problems.append(f"form {key!r}: field {name!r} takes choices from unknown list {source!r}")
    data_key = prop.get("x-task-data")
    if data_key is not None and not (isinstance(data_key, str) and data_key.isidentifier()):
        problems.append(f"form {key!r}: field {name!r} stores under {data_key!r}, not a data name")
    for flag in ("x-public", "x-photos"):
        if flag in prop and not isinstance(prop[flag], bool):
            problems.append(f"form {key!r}: field {name!r}: {flag} must be true or false")
    messages = prop.get("x-messages")
    if messages is not None and not (isinstance(messages, dict)
                                     and all(isinstance(v, str) for v in messages.values())):
        problems.append(f"form {key!r}: field {name!r}: x-messages must map keywords to texts")
    names = (ui or {}).get("ui:enumNames")
    if names is not None and "enum" in prop and (not isinstance(names, list) or not isinstance(
            prop["enum"], list) or len(names) != len(prop["enum"])):
        problems.append(f"form {key!r}: field {name!r} has {len(prop['enum'])} choices but "
                        f"{len(names) if isinstance(names, list) else 'no list of'} names")
    return problems


__all__ = ["CHOICE_SOURCES", "form_texts_problems"]
