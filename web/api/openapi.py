"""The OpenAPI 3 document, generated from the routes and the pydantic models they declare."""
from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from pydantic import BaseModel

from forms.tasks import declared_forms

ERROR_SCHEMA = {
    "type": "object", "required": ["error", "message"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"},
                   "details": {"type": "object"}},
}


def documented(summary: str, *, body: type[BaseModel] | None = None,
               response: type[BaseModel] | None = None, status: int = 200,
               errors: tuple[int, ...] = (), query: dict[str, str] | None = None,
               tag: str = "cases", public: bool = False) -> Callable:
    """Attach what the OpenAPI document says of a view; the route itself stays the source."""

    def wrap(view):
        view.openapi = {"summary": summary, "body": body, "response": response, "status": status,
                        "errors": errors, "query": query or {}, "tag": tag, "public": public,
                        "description": (view.__doc__ or "").strip()}
        return view

    return wrap


def _schema_ref(model: type[BaseModel], components: dict) -> dict:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = sub
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _path_schema(rule: str, name: str) -> dict:
    """What the route's converter accepts: ``<int:id>`` is a non-negative integer."""
    if re.search(rf"<int(?:\([^)]*\))?:{name}>", rule):
        return {"type": "integer", "minimum": 0}
    return {"type": "string"}


def build_document(app: Flask, prefix: str = "/api/v1") -> dict:
    paths: dict = {}
    components: dict = {"Error": ERROR_SCHEMA}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(prefix):
            continue
        view = app.view_functions[rule.endpoint]
        meta = getattr(view, "openapi", None)
        if meta is None:
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op: dict = {
                "summary": meta["summary"], "operationId": f"{rule.endpoint}_{method.lower()}",
                "tags": [meta["tag"]], "parameters": [], "responses": {},
            }
            if meta["description"]:
                op["description"] = meta["description"]
            for arg in rule.arguments:
                op["parameters"].append({"name": arg, "in": "path", "required": True,
                                         "schema": _path_schema(rule.rule, arg)})
            for name, text in meta["query"].items():
                op["parameters"].append({"name": name, "in": "query", "required": False,
                                         "description": text, "schema": {"type": "string"}})
            if meta["body"] is not None:
                op["requestBody"] = {"required": True, "content": {
                    "application/json": {"schema": _schema_ref(meta["body"], components)}}}
            ok: dict = {"description": "OK"}
            if meta["response"] is not None:
                ok["content"] = {"application/json": {"schema": _schema_ref(meta["response"], components)}}
            op["responses"][str(meta["status"])] = ok
            for status in sorted(set(meta["errors"]) | ({401} if not meta["public"] else set())):
                op["responses"][str(status)] = {"description": "error", "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            if not meta["public"]:
                op["security"] = [{"bearer": []}]
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.0.3",
        "info": {"title": "Smart community case system", "version": "1",
                 "description": "Cases, tasks, grids, devices and alarms of a smart community."},
        "servers": [{"url": "/"}],
        "paths": paths,
        # The data of POST /tasks/{task_id}/complete follows the form of the task's step: the
        # JSON Schemas declared next to the processes (bpmn/forms/), by form key.
        "x-task-forms": declared_forms(),
        "components": {"schemas": components,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
