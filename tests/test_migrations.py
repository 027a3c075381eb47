"""The migrations form one line of history: several heads mean two changes that were never
put in order, and `flask db upgrade` (without "heads") refuses to run."""
from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def test_one_migration_head():
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"merge these heads with `flask db merge`: {heads}"
