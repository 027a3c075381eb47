"""process files deployed in the database; specs know their serializer format and source files

Revision ID: 9d2e4f6a8b10
Revises: 1f0a2b3c4d5e
Create Date: 2026-12-01 23:10:00

Deployed BPMN/DMN files live in ``process_files`` (every version kept); the files of bpmn/ are
deployed as version 1 on first use. Stored specs say in which SpiffWorkflow serializer format
they were written (those before were written by SpiffWorkflow 3.2.0: format 1.5) and which
file versions they came from. Administrators and supervisors get the process-admin function.
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "9d2e4f6a8b10"
down_revision = "1f0a2b3c4d5e"
branch_labels = None
depends_on = None

ROLES = sa.table("roles", sa.column("code", sa.String), sa.column("functions", sa.Text),
                 sa.column("api_groups", sa.Text))
SPECS = sa.table("process_specs", sa.column("engine_version", sa.String),
                 sa.column("serializer_version", sa.String))
PROCESS_ADMINS = ("admin", "supervisor")


def _as_list(value) -> list:
    return json.loads(value) if isinstance(value, str) else list(value or [])


def _grant(bind, function: str, group: str, revoke: bool = False) -> None:
    for code, functions, groups in bind.execute(sa.select(
            ROLES.c.code, sa.cast(ROLES.c.functions, sa.Text), sa.cast(ROLES.c.api_groups, sa.Text))
            .where(ROLES.c.code.in_(PROCESS_ADMINS))).all():
        functions, groups = _as_list(functions), _as_list(groups)
        if revoke:
            functions, groups = [f for f in functions if f != function], [g for g in groups if g != group]
        else:
            functions += [function] if function not in functions else []
            groups += [group] if group not in groups else []
        table = sa.table("roles", sa.column("code", sa.String), sa.column("functions", sa.JSON),
                         sa.column("api_groups", sa.JSON))
        bind.execute(sa.update(table).where(table.c.code == code).values(functions=functions, api_groups=groups))


def upgrade():
    op.create_table(
        "process_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("xml", sa.Text(), nullable=False),
        sa.Column("deployed_by", sa.String(length=64), nullable=False),
        sa.Column("deployed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_files")),
        sa.UniqueConstraint("name", "version", name="uq_process_files_name_version"),
    )
    with op.batch_alter_table("process_specs") as batch:
        batch.add_column(sa.Column("serializer_version", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("files", sa.JSON().with_variant(
            sa.dialects.postgresql.JSONB(), "postgresql"), nullable=True))
        batch.add_column(sa.Column("source_file", sa.String(length=128), nullable=True))
    bind = op.get_bind()
    bind.execute(sa.update(SPECS).where(SPECS.c.engine_version == "SpiffWorkflow 3.2.0")
                 .values(serializer_version="1.5"))
    _grant(bind, "processes.deploy", "processes")


def downgrade():
    _grant(op.get_bind(), "processes.deploy", "processes", revoke=True)
    with op.batch_alter_table("process_specs") as batch:
        batch.drop_column("source_file")
        batch.drop_column("files")
        batch.drop_column("serializer_version")
    op.drop_table("process_files")
