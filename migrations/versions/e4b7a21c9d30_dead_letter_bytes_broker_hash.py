"""dead letters keep raw bytes as base64; devices carry their broker password hash

Revision ID: e4b7a21c9d30
Revises: c5a91d0e7b44
Create Date: 2026-12-01 22:20:00

A dead letter whose payload PostgreSQL cannot store as text (a NUL byte, invalid UTF-8) is
kept as base64 of its bytes, and ``payload_encoding`` says so. A device's key is also kept
in Mosquitto's "$7$" form, from which the broker's password file is written.
"""
import sqlalchemy as sa
from alembic import op

revision = "e4b7a21c9d30"
down_revision = "c5a91d0e7b44"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("dead_letters") as batch:
        batch.add_column(sa.Column("payload_encoding", sa.String(8), nullable=False, server_default="utf-8"))
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("broker_hash", sa.String(160), nullable=True))


def downgrade():
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("broker_hash")
    with op.batch_alter_table("dead_letters") as batch:
        batch.drop_column("payload_encoding")
