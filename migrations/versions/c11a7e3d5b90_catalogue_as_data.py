"""categories, departments and device alarm types as data (seeded from the former Python lists)

Revision ID: c11a7e3d5b90
Revises: 1f0a2b3c4d5e
Create Date: 2026-12-01 23:05:00
"""
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from handlers.catalogue_seed import CATALOGUE_FUNCTION, seed_rows

revision = "c11a7e3d5b90"
down_revision = "1f0a2b3c4d5e"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
UTC = sa.DateTime(timezone=True)
NOW = "2026-12-01T23:05:00+00:00"


def upgrade():
    categories = op.create_table(
        "categories",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("name_zh", sa.String(64), nullable=False),
        sa.Column("name_en", sa.String(128), nullable=False),
        sa.Column("family", sa.String(16), nullable=False),
        sa.Column("default_severity", sa.String(16), nullable=False),
        sa.Column("process_id", sa.String(64), nullable=False),
        sa.Column("national_code", sa.String(32), nullable=True),
        sa.Column("clause", sa.String(32), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("photo_required", sa.Boolean(), nullable=False),
        sa.Column("open311_batch", sa.Boolean(), nullable=False),
        sa.Column("private_details", sa.Boolean(), nullable=False),
        sa.Column("form", sa.String(32), nullable=True),
        sa.Column("linkage", JSON, nullable=False),
        sa.Column("linkage_pattern", sa.String(16), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
    )
    departments = op.create_table(
        "departments",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("name_zh", sa.String(64), nullable=False),
        sa.Column("name_en", sa.String(128), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
    )
    alarm_types = op.create_table(
        "device_alarm_types",
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("alarm_type", sa.String(32), primary_key=True),
        sa.Column("category_code", sa.String(64), sa.ForeignKey("categories.code"), nullable=False),
    )
    op.create_index("ix_device_alarm_types_category_code", "device_alarm_types", ["category_code"])
    category_rows, department_rows, alarm_rows = seed_rows(datetime.fromisoformat(NOW))
    op.bulk_insert(categories, category_rows)
    op.bulk_insert(departments, department_rows)
    op.bulk_insert(alarm_types, alarm_rows)
    _grant_admins(True)


def _grant_admins(grant: bool) -> None:
    """The built-in administrator role manages the catalogue (a new function permission)."""
    roles = sa.table("roles", sa.column("code", sa.String), sa.column("functions", JSON))
    connection = op.get_bind()
    row = connection.execute(sa.select(roles.c.functions).where(roles.c.code == "admin")).first()
    if row is None:
        return
    functions = [f for f in (row[0] or []) if f != CATALOGUE_FUNCTION] + ([CATALOGUE_FUNCTION] if grant else [])
    connection.execute(roles.update().where(roles.c.code == "admin").values(functions=functions))


def downgrade():
    _grant_admins(False)
    op.drop_index("ix_device_alarm_types_category_code", "device_alarm_types")
    op.drop_table("device_alarm_types")
    op.drop_table("departments")
    op.drop_table("categories")
