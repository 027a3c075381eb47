"""roles, API clients, IP block list, audit log; account policy columns on users

Revision ID: 7a3c0e5d9f12
Revises: 998bad4e7176
Create Date: 2026-11-24 09:00:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from handlers.permissions import BUILTIN_ROLES
from models.access import AUDIT_GUARD_SQL

revision = "7a3c0e5d9f12"
down_revision = "998bad4e7176"
branch_labels = ("access",)
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
UTC = sa.DateTime(timezone=True)


def upgrade():
    roles = op.create_table(
        "roles",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.Column("functions", JSON, nullable=False),
        sa.Column("api_groups", JSON, nullable=False),
    )
    op.bulk_insert(roles, [
        {"code": code, "name": spec["name"], "description": "", "builtin": True,
         "functions": spec["functions"], "api_groups": spec["api_groups"]}
        for code, spec in BUILTIN_ROLES.items()
    ])
    op.create_table(
        "api_clients",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("api_groups", JSON, nullable=False),
        sa.Column("rate_limit", sa.String(32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
    )
    op.create_table(
        "ip_blocks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("network", sa.String(64), nullable=False, unique=True),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", UTC, nullable=False),
        sa.Column("operator_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("operation", sa.String(64), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("detail", JSON, nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_operator", "audit_log", ["operator"])
    for statement in AUDIT_GUARD_SQL[op.get_bind().dialect.name]:
        op.execute(statement)
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("phone", sa.String(128), nullable=True))
        batch.add_column(sa.Column("id_number", sa.String(128), nullable=True))
        batch.add_column(sa.Column("valid_until", UTC, nullable=True))
        batch.add_column(sa.Column("session_timeout_minutes", sa.Integer(), nullable=False, server_default="30"))
        batch.add_column(sa.Column("max_login_attempts", sa.Integer(), nullable=False, server_default="5"))
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("locked_until", UTC, nullable=True))
        batch.add_column(sa.Column("password_changed_at", UTC, nullable=True))
        batch.add_column(sa.Column("last_login_at", UTC, nullable=True))


def downgrade():
    with op.batch_alter_table("users") as batch:
        for column in ("last_login_at", "password_changed_at", "locked_until", "failed_logins",
                       "max_login_attempts", "session_timeout_minutes", "valid_until", "id_number", "phone"):
            batch.drop_column(column)
    op.drop_table("audit_log")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_log_guard()")
    op.drop_table("ip_blocks")
    op.drop_table("api_clients")
    op.drop_table("roles")
