"""The audit log of every write and every login (10.2.2, 7.3.3).

A write that commits gets its entry in the same transaction (no extra round trip); a write
that is refused or fails gets one of its own after the response is known.
"""
from __future__ import annotations

import getpass

import click
from flask import Flask, g, has_app_context, has_request_context, request
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.orm import Session

from extensions import db
from models import AuditEntry, transaction
from web.access import client_ip

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# Readings from devices are kept as alarms, measurements and dead letters of their own; they
# are not operations of a person and would swamp the log.
NOT_AUDITED = {"api.device_event"}


def operator() -> tuple[int | None, str]:
    user = g.get("user") or (current_user if current_user.is_authenticated else None)
    if user is not None:
        return user.id, user.account
    return None, g.get("principal_name") or "anonymous"


def _target() -> str:
    return request.path[:200]


def audit_entry(operation: str, result: str, *, target: str | None = None, detail: dict | None = None,
                operator_id: int | None = None, operator_name: str | None = None) -> AuditEntry:
    """Add an entry to the session (committed with the caller's unit of work)."""
    if operator_name is None:
        operator_id, operator_name = operator()
    entry = AuditEntry(operator_id=operator_id, operator=operator_name[:64], operation=operation[:64],
                       target=(target if target is not None else _target())[:200], ip=client_ip(),
                       result=result, detail=detail or {})
    db.session.add(entry)
    g.audited = True
    return entry


def _operation() -> str:
    return f"{request.method} {request.endpoint or 'unknown'}"


# Long-running services write as the system, not as an operator: not audited as commands.
SERVICE_COMMANDS = {"worker", "scheduler", "ingest", "run", "shell"}


def _audit_committed_write(session) -> None:
    if not (session.new or session.dirty or session.deleted):
        return
    if has_request_context():
        if request.method not in SAFE_METHODS and not g.get("audited") and request.endpoint not in NOT_AUDITED:
            audit_entry(_operation(), "ok")
        return
    command = click.get_current_context(silent=True)
    if command is None or not has_app_context() or g.get("audited"):
        return
    path = command.command_path.split()
    if set(path[1:2]) & SERVICE_COMMANDS:
        return
    g.audited = True
    session.add(AuditEntry(operator=f"cli:{getpass.getuser()}"[:64], operation=("cli " + " ".join(path[1:]))[:64],
                           target=" ".join(command.args)[:200] if command.args else "", ip="local",
                           result="ok", detail={"params": {k: str(v) for k, v in command.params.items()
                                                            if k not in {"password", "data_json"}}}))


def register_audit(app: Flask) -> None:
    """Audit every write of the app's requests and CLI commands (create_app calls this for
    every app, so no process writes unaudited whatever it imported).

    The entry of a committed write must be in the same transaction as the write, and writes
    commit in many units of work across every blueprint and command: a before-commit hook on
    the session is the one place that sees them all without each caller remembering to. It
    is registered here, by the factory, not as a side effect of importing this module."""
    if not event.contains(Session, "before_commit", _audit_committed_write):
        event.listen(Session, "before_commit", _audit_committed_write)

    @app.after_request
    def _audit_other_writes(response):
        if request.method in SAFE_METHODS or g.get("audited") or request.endpoint in NOT_AUDITED | {"static"}:
            return response
        result = "ok" if response.status_code < 400 else ("refused" if response.status_code < 500 else "error")
        db.session.rollback()
        with transaction():
            audit_entry(_operation(), result, detail={"status": response.status_code})
        return response
