"""Flask CLI commands: cases, users, demo, the RQ worker and the scheduler."""
from __future__ import annotations

from flask import Flask


def register_commands(app: Flask) -> None:
    from web.commands.backup import backup_command, restore_command
    from web.commands.cases import cases_cli
    from web.commands.demo import demo_command
    from web.commands.ingest import ingest_cli
    from web.commands.keys import keys_cli
    from web.commands.processes import processes_cli
    from web.commands.reports import reports_cli
    from web.commands.services import scheduler_command, timers_cli, worker_command
    from web.commands.users import users_cli

    for command in (cases_cli, users_cli, demo_command, worker_command, scheduler_command, timers_cli,
                    reports_cli, backup_command, restore_command, ingest_cli, keys_cli,
                    processes_cli):
        app.cli.add_command(command)
