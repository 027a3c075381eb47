"""API management (7.3.8, 7.2.7) and the audit log (10.2.2): administrators only."""
from __future__ import annotations

import ipaddress
import secrets
from datetime import UTC, datetime
from hashlib import sha256

from flask import jsonify, request
from limits import parse as parse_rate
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from extensions import db, redis
from handlers.errors import Conflict, Invalid, NotFound
from handlers.permissions import API_GROUPS
from models import ApiClient, AuditEntry, IpBlock, transaction
from web.access import forget_blocked_networks, stats_key
from web.api import BadBody, api_bp, parse_body
from web.api.admin_users import require_function
from web.api.openapi import documented


class ClientIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., pattern=r"^[A-Za-z0-9_.\-]{2,64}$")
    api_groups: list[str] = Field(..., min_length=1)
    rate_limit: str = Field("120/minute", max_length=32)


class IpBlockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    network: str = Field(..., max_length=64, description="an address or a CIDR network")
    reason: str = Field("", max_length=200)


def _client_view(client: ApiClient) -> dict:
    return {"id": client.id, "name": client.name, "api_groups": client.api_groups,
            "rate_limit": client.rate_limit, "active": client.active, "created_at": client.created_at}


@api_bp.get("/api-clients")
@documented("API clients (keys are never shown again)", tag="admin", errors=(403,))
def list_clients():
    require_function("api.manage")
    return jsonify({"items": [_client_view(c) for c in db.session.scalars(select(ApiClient).order_by(ApiClient.name))]})


@api_bp.post("/api-clients")
@documented("Register an API client; the answer holds its key, once", tag="admin", status=201,
            body=ClientIn, errors=(403, 409, 422))
def create_client():
    require_function("api.manage")
    body = parse_body(ClientIn)
    unknown = sorted(set(body.api_groups) - set(API_GROUPS))
    if unknown:
        raise Invalid(f"unknown API groups: {', '.join(unknown)}", details={"api_groups": ", ".join(API_GROUPS)})
    try:
        parse_rate(body.rate_limit)
    except ValueError:
        raise Invalid(f"not a rate: {body.rate_limit!r} (e.g. 120/minute)", details={"rate_limit": "e.g. 120/minute"}) from None
    key = secrets.token_urlsafe(32)
    with transaction():
        if db.session.scalar(select(ApiClient.id).where(ApiClient.name == body.name)) is not None:
            raise Conflict(f"the client {body.name!r} exists already")
        client = ApiClient(name=body.name, key_hash=sha256(key.encode()).hexdigest(),
                           api_groups=body.api_groups, rate_limit=body.rate_limit, active=True)
        db.session.add(client)
    return jsonify({**_client_view(client), "key": key}), 201


@api_bp.delete("/api-clients/<int:client_id>")
@documented("Revoke an API client's key", tag="admin", errors=(403, 404))
def revoke_client(client_id: int):
    require_function("api.manage")
    with transaction():
        client = db.session.get(ApiClient, client_id)
        if client is None:
            raise NotFound(f"no API client {client_id}")
        client.active = False
    return jsonify(_client_view(client))


@api_bp.get("/ip-blocks")
@documented("The IP block list", tag="admin", errors=(403,))
def list_ip_blocks():
    require_function("api.manage")
    rows = db.session.scalars(select(IpBlock).order_by(IpBlock.network))
    return jsonify({"items": [{"id": b.id, "network": b.network, "reason": b.reason, "created_at": b.created_at}
                              for b in rows]})


@api_bp.post("/ip-blocks")
@documented("Block an address or network", tag="admin", status=201, body=IpBlockIn, errors=(403, 409, 422))
def block_ip():
    require_function("api.manage")
    body = parse_body(IpBlockIn)
    try:
        network = str(ipaddress.ip_network(body.network.strip(), strict=False))
    except ValueError:
        raise Invalid(f"not an address or network: {body.network!r}", details={"network": "e.g. 203.0.113.7 or 203.0.113.0/24"}) from None
    with transaction():
        if db.session.scalar(select(IpBlock.id).where(IpBlock.network == network)) is not None:
            raise Conflict(f"{network} is blocked already")
        block = IpBlock(network=network, reason=body.reason)
        db.session.add(block)
    forget_blocked_networks()
    return jsonify({"id": block.id, "network": network, "reason": block.reason}), 201


@api_bp.delete("/ip-blocks/<int:block_id>")
@documented("Lift a block", tag="admin", errors=(403, 404))
def unblock_ip(block_id: int):
    require_function("api.manage")
    with transaction():
        block = db.session.get(IpBlock, block_id)
        if block is None:
            raise NotFound(f"no block {block_id}")
        db.session.delete(block)
    forget_blocked_networks()
    return jsonify({"deleted": block_id})


@api_bp.get("/api-stats")
@documented("API calls of a day by caller, endpoint and status; errors counted apart", tag="admin",
            errors=(400, 403), query={"date": "YYYY-MM-DD (UTC), default today"})
def api_stats():
    require_function("api.manage")
    day = request.args.get("date") or datetime.now(UTC).strftime("%Y-%m-%d")
    try:
        stamp = datetime.strptime(day, "%Y-%m-%d").strftime("%Y%m%d")
    except ValueError:
        raise BadBody(400, "bad_request", "date must be YYYY-MM-DD") from None
    rows, errors, total = [], 0, 0
    for field, count in sorted(redis.client.hgetall(stats_key(stamp)).items()):
        principal, endpoint, status = field.decode().rsplit("|", 2)
        count = int(count)
        total += count
        errors += count if int(status) >= 400 else 0
        rows.append({"caller": principal, "endpoint": endpoint, "status": int(status), "calls": count})
    return jsonify({"date": day, "calls": total, "errors": errors, "items": rows})


@api_bp.get("/audit")
@documented("Search the audit log", tag="admin", errors=(400, 403),
            query={"operator": "account", "operation": "e.g. login", "result": "ok, refused, error",
                   "since": "ISO date/time", "until": "ISO date/time", "limit": "at most 500"})
def search_audit():
    require_function("audit.view")
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    for name, column in (("operator", AuditEntry.operator), ("result", AuditEntry.result)):
        if request.args.get(name):
            query = query.where(column == request.args[name])
    if request.args.get("operation"):
        query = query.where(AuditEntry.operation.like(f"%{request.args['operation']}%"))
    for name, op in (("since", "__ge__"), ("until", "__le__")):
        if request.args.get(name):
            try:
                moment = datetime.fromisoformat(request.args[name])
            except ValueError:
                raise BadBody(400, "bad_request", f"{name} must be an ISO date/time") from None
            query = query.where(getattr(AuditEntry.at, op)(moment if moment.tzinfo else moment.replace(tzinfo=UTC)))
    limit = min(max(request.args.get("limit", 100, type=int) or 100, 1), 500)
    entries = db.session.scalars(query.limit(limit))
    return jsonify({"items": [{"at": e.at, "operator": e.operator, "operation": e.operation, "target": e.target,
                               "ip": e.ip, "result": e.result, "detail": e.detail} for e in entries]})
