"""``flask users list|token``."""
from __future__ import annotations

import click
from sqlalchemy import select

from extensions import db
from handlers.tokens import issue_token
from models import Grid, User


@click.group("users")
def users_cli():
    """Accounts and their API tokens."""


@users_cli.command("list")
@click.option("--role")
@click.option("--grid", help="grid code")
def list_command(role, grid):
    """Accounts, one a line: account, role, grids."""
    query = select(User).order_by(User.account)
    if role:
        query = query.where(User.role == role)
    if grid:
        query = query.where(User.grids.any(Grid.code == grid))
    for user in db.session.scalars(query):
        click.echo(f"{user.account}\t{user.role}\t{','.join(g.code for g in user.grids) or '-'}")


@users_cli.command("token")
@click.argument("account")
def token_command(account):
    """Print a bearer token for the API."""
    user = db.session.scalar(select(User).where(User.account == account))
    if user is None:
        raise click.ClickException(f"no account {account!r}")
    click.echo(issue_token(user))
