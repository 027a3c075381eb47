"""``flask processes list|deploy|impact``: the deployed process and decision files, from the shell."""
from __future__ import annotations

import getpass
from pathlib import Path

import click
from flask import g

from extensions import db
from handlers.scopes import EVERYTHING
from models import AuditEntry, transaction
from web.commands.process_check import check_command
from workflows.deployments import DeployRefused, deploy_file, deployed_files
from workflows.errors import NotFound
from workflows.impact import MAX_DAYS, table_impact


@click.group("processes")
def processes_cli():
    """Process (.bpmn) and decision (.dmn) files: list, check, preview the impact of a table, deploy."""


processes_cli.add_command(check_command)


@processes_cli.command("list")
def list_command():
    """The deployed files, one a line: name, version, sha256, who deployed it and when."""
    with transaction():  # the files of bpmn/ are deployed on first use
        rows = deployed_files()
        lines = [f"{r.name}\tv{r.version}\t{r.sha256}\t{r.deployed_by}\t{r.deployed_at.isoformat()}" for r in rows]
    for line in lines:
        click.echo(line)


@processes_cli.command("deploy")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", help="deploy under this file name (default: the file's own name)")
def deploy_command(path: Path, name: str | None):
    """Check FILE and deploy it as the next version: every process uses it for its next case
    within seconds. Problems are listed and nothing changes (exit status 1)."""
    operator = f"cli:{getpass.getuser()}"[:64]
    name = name or path.name
    try:
        with transaction():
            deployed = deploy_file(name, path.read_bytes(), operator)
            # The deploy's own entry, with the hash; the generic CLI entry is not written.
            g.audited = True
            db.session.add(AuditEntry(
                operator=operator, operation="cli processes deploy", target=name[:200], ip="local", result="ok",
                detail={"file": deployed.file.name, "version": deployed.file.version,
                        "sha256": deployed.file.sha256, "unchanged": deployed.unchanged, "path": str(path)}))
    except DeployRefused as refused:
        for problem in refused.problems:
            click.echo(f"- {problem}", err=True)
        raise click.ClickException(f"{name} is not deployed ({len(refused.problems)} problems)") from None
    row = deployed.file
    state = "unchanged, still" if deployed.unchanged else "deployed as"
    click.echo(f"{row.name} {state} version {row.version} (sha256 {row.sha256})")


@processes_cli.command("impact")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", help="compare with this deployed table (default: the file's own name)")
@click.option("--days", type=click.IntRange(1, MAX_DAYS), default=30, show_default=True,
              help="cases opened in the last DAYS days")
def impact_command(path: Path, name: str | None, days: int):
    """What deploying the decision table FILE would have changed for the recent cases (of every
    community): cases that would have gone to another role or department, or had other
    deadlines, with examples. Nothing is deployed."""
    name = name or path.name
    try:
        with transaction():
            impact = table_impact(name, path.read_bytes(), days, scope=EVERYTHING)
    except (DeployRefused, NotFound) as refused:
        for problem in getattr(refused, "problems", [refused.message]):
            click.echo(f"- {problem}", err=True)
        raise click.ClickException(f"no impact shown for {name}") from None
    cut = f" (the newest {impact.limit}; more were cut)" if impact.cut else ""
    click.echo(f"{name} v{impact.version} -> proposed: {impact.cases} cases of the last {days} days{cut}, "
               f"{impact.changed} changed")
    for label, group in (("another role or department", impact.rerouted), ("other deadlines", impact.deadline),
                         ("other outputs", impact.other), ("could not be run", impact.failed)):
        click.echo(f"{label}: {group.count}")
        for example in group.examples:
            change = example.get("error") or f"{example['old']} -> {example['new']}"
            click.echo(f"  {example['ref']}\t{example['category']}\t{example['severity']}\t{change}")
