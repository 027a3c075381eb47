"""``flask backup DIR`` and ``flask restore DIR``: the database and the uploaded files (7.2.2 d).

The database copy is consistent on its own (SQLite's online backup; pg_dump's snapshot); files
are copied after it, so every photo or report the copy refers to is in the archive.
"""
from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from extensions import db
from handlers.db_roles import secure_audit_log

FILE_DIRS = ("photos", "reports")


def _pg_dsn(url) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_path(url) -> Path:
    return Path(url.database)


@click.command("backup")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def backup_command(directory: Path):
    """Write a consistent copy of the database and uploaded files into DIRECTORY."""
    directory.mkdir(parents=True, exist_ok=True)
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        target = directory / "database.sqlite"
        with sqlite3.connect(_sqlite_path(url)) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        copy.close()
    else:
        target = directory / "database.pgdump"
        subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(target), _pg_dsn(url)], check=True)
    with db.engine.connect() as conn:
        revisions = [r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))]
        cases = conn.execute(text("SELECT count(*) FROM cases")).scalar_one()
    data_dir = Path(current_app.config["DATA_DIR"])
    with tarfile.open(directory / "files.tar.gz", "w:gz") as archive:
        for name in FILE_DIRS:
            if (data_dir / name).is_dir():
                archive.add(data_dir / name, arcname=name)
    manifest = {"made_at": datetime.now(UTC).isoformat(), "backend": url.get_backend_name(),
                "database": target.name, "revisions": sorted(revisions), "cases": cases}
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2))
    click.echo(f"backup in {directory}: {target.name}, files.tar.gz ({cases} cases)")


@click.command("restore")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="do not ask before replacing the current data")
def restore_command(directory: Path, yes: bool):
    """Replace the database and uploaded files with the copy in DIRECTORY."""
    manifest_path = directory / "manifest.json"
    if not manifest_path.exists():
        raise click.ClickException(f"{directory} holds no manifest.json: not a backup")
    manifest = json.loads(manifest_path.read_text())
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if manifest["backend"] != url.get_backend_name():
        raise click.ClickException(f"the backup is of {manifest['backend']}, this database is {url.get_backend_name()}")
    if not yes:
        click.confirm("This replaces the current database and files. Go on?", abort=True)
    db.session.remove()
    db.engine.dispose()
    if url.get_backend_name() == "sqlite":
        path = _sqlite_path(url)
        with sqlite3.connect(directory / manifest["database"]) as source, sqlite3.connect(path) as target:
            source.backup(target)
    else:
        # As the schema owner: it drops and re-creates the tables the app's role may only use.
        owner_url = make_url(current_app.config["DATABASE_OWNER_URL"])
        subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                        "--dbname", _pg_dsn(owner_url), str(directory / manifest["database"])], check=True)
        engine = create_engine(owner_url)
        with engine.begin() as conn:
            secure_audit_log(conn, current_app.config["DATABASE_URL"], current_app.config["AUDIT_RETENTION_DAYS"])
        engine.dispose()
    data_dir = Path(current_app.config["DATA_DIR"])
    for name in FILE_DIRS:
        shutil.rmtree(data_dir / name, ignore_errors=True)
    with tarfile.open(directory / "files.tar.gz", "r:gz") as archive:
        archive.extractall(data_dir, filter="data")
    click.echo(f"restored {manifest['cases']} cases from {directory} (made {manifest['made_at']})")
