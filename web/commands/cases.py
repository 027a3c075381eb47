"""``flask cases open|show|tasks|claim|complete``: the API's operations from the shell."""
from __future__ import annotations

import json

import click
from flask import current_app
from sqlalchemy import select

from extensions import db
from handlers.tasks import workable_tasks_query
from handlers.vocabulary import Source
from models import Case, User
from web.api.present import case_created, case_out, open_tasks, tasks_out
from workflows import CaseError, claim_task, complete_task, open_case
from workflows.cases import CaseRequest, case_by_ref
from workflows.runtime import Actor


def _echo_json(value) -> None:
    click.echo(current_app.json.dumps(value, indent=2))


def _user(account: str) -> User:
    user = db.session.scalar(select(User).where(User.account == account))
    if user is None:
        raise click.ClickException(f"no account {account!r} (flask users list)")
    return user


def _run(fn):
    try:
        return fn()
    except CaseError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from None


@click.group("cases")
def cases_cli():
    """Open cases and work their tasks."""


@cases_cli.command("open")
@click.option("--category", required=True)
@click.option("--lat", type=float)
@click.option("--lon", type=float)
@click.option("--address")
@click.option("--community", help="community code, with --address alone")
@click.option("--severity")
@click.option("--description", default="")
@click.option("--source", default=Source.GRID_WORKER.value, show_default=True)
@click.option("--account", help="who reports it (default: system)")
def open_command(category, lat, lon, address, community, severity, description, source, account):
    """Open a case and print its ref, grid, deadline and first tasks."""
    actor = Actor(_user(account)) if account else Actor(label="cli")
    case = _run(lambda: open_case(CaseRequest(
        category=category, lat=lat, lon=lon, address=address, community=community,
        severity=severity, description=description, source=source), actor))
    _echo_json(case_created(case, open_tasks(case)))


@cases_cli.command("show")
@click.argument("ref")
def show_command(ref):
    """Print a case with its history and open tasks."""
    case = case_by_ref(ref)
    if case is None:
        raise click.ClickException(f"no case {ref}")
    _echo_json(case_out(case))


@cases_cli.command("tasks")
@click.option("--account", required=True, help="whose inbox")
@click.option("--mine", is_flag=True)
@click.option("--overdue", is_flag=True)
def tasks_command(account, mine, overdue):
    """List the open tasks an account may work, one a line."""
    tasks = list(db.session.scalars(workable_tasks_query(_user(account), mine=mine, overdue=overdue)))
    refs = dict(db.session.execute(select(Case.id, Case.ref)).all()) if tasks else {}
    for task in tasks_out(tasks, refs):
        due = task["due_at"].isoformat() if task["due_at"] else "-"
        click.echo(f"{task['id']}\t{task['case_ref']}\t{task['bpmn_id']}\t{task['role']}\t"
                   f"{task['grid'] or '(unassigned)'}\t{due}\t{task['assignee'] or ''}")


@cases_cli.command("claim")
@click.argument("task_id", type=int)
@click.option("--account", required=True)
def claim_command(task_id, account):
    """Claim a task."""
    task = _run(lambda: claim_task(task_id, _user(account)))
    click.echo(f"task {task.id} claimed by {account}")


@cases_cli.command("complete")
@click.argument("task_id", type=int)
@click.option("--account", required=True)
@click.option("--data", "data_json", default="{}", help="the form data as a JSON object")
@click.option("--set", "pairs", multiple=True, help="key=value, repeatable")
def complete_command(task_id, account, data_json, pairs):
    """Complete a task with its form data and print the case's next tasks."""
    try:
        data = json.loads(data_json)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--data") from None
    if not isinstance(data, dict):
        raise click.BadParameter("must be a JSON object", param_hint="--data")
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"{pair!r} is not key=value", param_hint="--set")
        data[key] = value
    case = _run(lambda: complete_task(task_id, _user(account), data))
    _echo_json(case_created(case, open_tasks(case)))
