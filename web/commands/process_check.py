"""``flask processes check [FILE...]``: lint the process and decision files before anything runs."""
from __future__ import annotations

from pathlib import Path

import click

from workflows.lint import lint_files

BPMN_DIR = Path(__file__).resolve().parent.parent.parent / "bpmn"


@click.command("check")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def check_command(paths: tuple[Path, ...]):
    """Check the files of bpmn/, each FILE in place of the shipped file of its name (a new
    name is added to the set): lanes with roles, steps with kinds and declared forms, labelled
    statuses and branches, decision tables true to their hit policy, every category routed.
    Lists the problems and exits with status 1 when there are any."""
    files = {p.name: p.read_text("utf-8") for p in sorted(BPMN_DIR.glob("*.bpmn")) + sorted(BPMN_DIR.glob("*.dmn"))}
    for path in paths:
        files[path.name] = path.read_text("utf-8", errors="replace")
    problems = lint_files(files)
    for problem in problems:
        click.echo(f"- {problem}", err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} problems in the process files")
    click.echo(f"{len(files)} files checked: no problems ({', '.join(sorted(files))})")
