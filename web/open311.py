"""Open311 GeoReport v2 at /open311/v2/: every resource in JSON and XML.

Errors follow the specification: a list of ``{code, description}`` (``<errors><error>`` in
XML) with status 400, 403 or 404 (429 when the POST rate limit is reached). The logic lives
in ``integrations.open311``; this module routes, authenticates and writes the formats.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

import click
from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from extensions import limiter
from integrations import open311, open311_reads
from integrations.open311 import Open311Error
from models import transaction
from web.requests import client_address_key

open311_bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
FORMAT = "<any(json, xml):fmt>"
CHANGESET = "2026-11-25T00:00:00+08:00"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# In XML a list is written as its plural element holding one element per item.
SINGULAR = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}


def _xml_value(parent: ET.Element, name: str, value) -> None:
    node = ET.SubElement(parent, name)
    if isinstance(value, list):
        for item in value:
            _xml_value(node, SINGULAR.get(name, "item"), item)
    elif isinstance(value, dict):
        for key, inner in value.items():
            _xml_value(node, key, inner)
    elif isinstance(value, bool):
        node.text = "true" if value else "false"
    elif value is not None:
        node.text = str(value)


def to_xml(root: str, item: str | None, data) -> bytes:
    """``data`` (a dict, or a list of dicts written as ``item`` elements) under ``root``."""
    top = ET.Element(root)
    for entry in (data if isinstance(data, list) else [data]):
        parent = ET.SubElement(top, item) if item else top
        for key, value in entry.items():
            _xml_value(parent, key, value)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="utf-8")


def answer(fmt: str, root: str, item: str | None, data, status: int = 200) -> Response:
    if fmt == "xml":
        return Response(to_xml(root, item, data), status=status, mimetype="text/xml")
    response = jsonify(data)
    response.status_code = status
    return response


def _requested_format() -> str:
    fmt = (request.view_args or {}).get("fmt")
    if fmt in ("json", "xml"):
        return fmt
    return "xml" if request.path.endswith(".xml") else "json"


def error(status: int, description: str) -> Response:
    return answer(_requested_format(), "errors", "error", [{"code": status, "description": description}], status)


@open311_bp.errorhandler(Open311Error)
def _open311_error(exc: Open311Error):
    return error(exc.status, exc.description)


@open311_bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return error(exc.code or 400, exc.description or exc.name)


@open311_bp.get(f"/discovery.{FORMAT}")
def discovery(fmt: str):
    root = request.url_root.rstrip("/") + open311_bp.url_prefix
    return answer(fmt, "discovery", None, {
        "changeset": CHANGESET, "contact": "社区服务中心 community service centre",
        "key_service": "api_key: ask the community service centre (flask open311 add-client NAME)",
        "endpoints": [{"specification": SPECIFICATION, "url": root, "changeset": CHANGESET,
                       "type": "production", "formats": ["text/xml", "application/json"]}],
    })


@open311_bp.get(f"/services.{FORMAT}")
def services(fmt: str):
    open311.jurisdiction(request.args.get("jurisdiction_id"))
    return answer(fmt, "services", "service", open311.services())


@open311_bp.get(f"/services/<code>.{FORMAT}")
def service_definition(code: str, fmt: str):
    open311.jurisdiction(request.args.get("jurisdiction_id"))
    definition = open311.service_definition(code)
    return answer(fmt, "service_definition", None, definition)


def _post_limit() -> str:
    return current_app.config["OPEN311_POST_RATE_LIMIT"]


@open311_bp.post(f"/requests.{FORMAT}")
@limiter.limit(_post_limit, key_func=client_address_key)
def create_request(fmt: str):
    client = open311.client_for_key(request.values.get("api_key"))
    created = open311.create_request(client, open311.parse_post(request.values))
    return answer(fmt, "service_requests", "request", [created], 201)


def _full_view() -> bool:
    """A registered client (api_key) sees descriptions and rooms the public does not."""
    key = request.args.get("api_key")
    return bool(key) and open311.client_for_key(key) is not None


@open311_bp.get(f"/requests.{FORMAT}")
def list_requests(fmt: str):
    query = open311_reads.parse_query(request.args)
    return answer(fmt, "service_requests", "request", open311_reads.find_requests(query, _full_view()))


@open311_bp.get(f"/requests/<ref>.{FORMAT}")
def show_request(ref: str, fmt: str):
    open311.jurisdiction(request.args.get("jurisdiction_id"))
    return answer(fmt, "service_requests", "request", [open311_reads.request_by_id(ref, _full_view())])


@open311_bp.get(f"/tokens/<token>.{FORMAT}")
def show_token(token: str, fmt: str):
    open311.jurisdiction(request.args.get("jurisdiction_id"))
    return answer(fmt, "service_requests", "request", [open311.token_status(token)])


@open311_bp.route("/<path:rest>", methods=["GET", "POST"])
def unknown(rest: str):
    raise Open311Error(404, f"no Open311 resource at {rest[:80]!r}: the format is .json or .xml")


@open311_bp.cli.command("add-client")
@click.argument("name")
def add_client(name: str):
    """Register an Open311 API client and print its api_key (shown only once)."""
    with transaction():
        client, key = open311.new_client(name)
    click.echo(f"{client.name}: api_key {key}")
