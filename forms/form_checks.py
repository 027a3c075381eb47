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
# The drafts a form may name in ``$schema``: jsonschema_rs fetches any other URI over HTTP.
KNOWN_DRAFTS = frozenset({"https://json-schema.org/draft/2020-12/schema",
                          "https://json-schema.org/draft/2019-09/schema",
                          "http://json-schema.org/draft-07/schema", "http://json-schema.org/draft-06/schema",
                          "http://json-schema.org/draft-04/schema"})
REFERENCE_KEYWORDS = ("$ref", "$dynamicRef", "$recursiveRef")


def refuse_retrieval(uri: str) -> None:
    """jsonschema_rs's retriever: a form never makes the server fetch anything (SSRF)."""
    raise ValueError(f"a task form may not refer to {uri}: only to '#...' within itself")


def outside_references(schema: Any) -> list[str]:
    """The references of ``schema`` to anything outside itself, and unknown ``$schema`` URIs:
    jsonschema_rs would fetch them from the network while checking the form."""
    found, stack = [], [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            for keyword in REFERENCE_KEYWORDS:
                ref = node.get(keyword)
                if isinstance(ref, str) and not ref.startswith("#"):
                    found.append(f"{keyword} {ref!r} refers outside the form (only '#...' is allowed)")
            draft = node.get("$schema")
            if isinstance(draft, str) and draft.rstrip("#") not in KNOWN_DRAFTS:
                found.append(f"$schema {draft!r} is not a JSON Schema draft")
            stack.extend(node.values())
    return found


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
    except (ValueError, RecursionError) as exc:
        return [f"form {key!r}: not readable JSON ({exc})"]
    outside = outside_references(schema)
    if outside:
        return [f"form {key!r}: {text}" for text in outside[:5]]
    try:
        jsonschema_rs.meta.validate(schema)
        jsonschema_rs.validator_for(schema, retriever=refuse_retrieval)  # e.g. a '#/...' to nowhere
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
        if not isinstance(name, str) or name not in properties:
            problems.append(f"form {key!r}: required field {name!r} is not a property")
    if not isinstance(order, list):
        problems.append(f"form {key!r}: the UI schema's ui:order must be a list of field names")
    for name in order if isinstance(order, list) else []:
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
    data_key = prop.get("x-task-data", name)
    if not (isinstance(data_key, str) and data_key.isidentifier()):
        problems.append(f"form {key!r}: field {name!r} stores under {data_key!r}, not a data name")
    for flag in ("x-public", "x-photos"):
        if flag in prop and not isinstance(prop[flag], bool):
            problems.append(f"form {key!r}: field {name!r}: {flag} must be true or false")
    messages = prop.get("x-messages")
    if messages is not None and not (isinstance(messages, dict)
                                     and all(isinstance(v, str) for v in messages.values())):
        problems.append(f"form {key!r}: field {name!r}: x-messages must map keywords to texts")
    for setting in ("ui:widget", "ui:help"):
        if setting in (ui or {}) and not isinstance(ui[setting], str):
            problems.append(f"form {key!r}: field {name!r}: {setting} must be a text")
    names, values = (ui or {}).get("ui:enumNames"), prop.get("enum")
    if names is not None and values is not None and not (
            isinstance(names, list) and isinstance(values, list) and len(names) == len(values)):
        problems.append(f"form {key!r}: field {name!r}: ui:enumNames must name each of its enum values")
    return problems


__all__ = ["CHOICE_SOURCES", "form_texts_problems", "outside_references", "refuse_retrieval"]
