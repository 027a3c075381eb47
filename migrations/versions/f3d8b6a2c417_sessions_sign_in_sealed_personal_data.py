"""session versions, sign-in failures per account and address, personal data sealed

Revision ID: f3d8b6a2c417
Revises: c5a91d0e7b44
Create Date: 2026-12-01 22:30:00

Personal fields stored before are encrypted under the app's SM4 key (the upgrade runs in the
app context, `flask db upgrade`), then the database refuses a value without the ``sm4:``
prefix: a CHECK constraint on PostgreSQL, triggers on SQLite (adding a CHECK there means
rebuilding ``cases``, which its foreign keys make unsafe).
"""
import sqlalchemy as sa
from alembic import op

revision = "f3d8b6a2c417"
down_revision = "c5a91d0e7b44"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)
SEALED = (("cases", "reporter_phone"), ("users", "phone"), ("users", "id_number"))


def _name(table: str, column: str) -> str:
    return f"ck_{table}_{column}_sealed"


def _seal_existing(bind, table: str, column: str) -> None:
    from handlers.crypto import encrypt_personal

    rows = bind.execute(sa.text(f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL "
                                f"AND {column} NOT LIKE 'sm4:%'")).all()
    for row_id, value in rows:
        sealed = encrypt_personal(value.strip()) if value.strip() else None
        bind.execute(sa.text(f"UPDATE {table} SET {column} = :v WHERE id = :id"), {"v": sealed, "id": row_id})


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default="1"))
    op.create_table(
        "sign_in_failures",
        sa.Column("account", sa.String(64), primary_key=True),
        sa.Column("address", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("lockouts", sa.Integer(), nullable=False),
        sa.Column("locked_until", UTC, nullable=True),
        sa.Column("last_failure_at", UTC, nullable=False),
    )
    op.create_index("ix_sign_in_failures_last_failure_at", "sign_in_failures", ["last_failure_at"])
    bind = op.get_bind()
    for table, column in SEALED:
        _seal_existing(bind, table, column)
        check = f"{column} IS NULL OR {column} LIKE 'sm4:%'"
        if bind.dialect.name == "postgresql":
            op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {_name(table, column)} CHECK ({check})")
            continue
        refusal = f"SELECT RAISE(ABORT, 'CHECK constraint failed: {_name(table, column)}')"
        plain = f"NEW.{column} IS NOT NULL AND NEW.{column} NOT LIKE 'sm4:%'"
        op.execute(f"CREATE TRIGGER {_name(table, column)}_insert BEFORE INSERT ON {table} "
                   f"WHEN {plain} BEGIN {refusal}; END")
        op.execute(f"CREATE TRIGGER {_name(table, column)}_update BEFORE UPDATE OF {column} ON {table} "
                   f"WHEN {plain} BEGIN {refusal}; END")


def downgrade():
    bind = op.get_bind()
    for table, column in SEALED:
        if bind.dialect.name == "postgresql":
            op.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {_name(table, column)}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {_name(table, column)}_insert")
            op.execute(f"DROP TRIGGER IF EXISTS {_name(table, column)}_update")
    op.drop_index("ix_sign_in_failures_last_failure_at", table_name="sign_in_failures")
    op.drop_table("sign_in_failures")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
