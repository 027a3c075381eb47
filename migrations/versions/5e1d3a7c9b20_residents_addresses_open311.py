"""residents: address list, Open311 clients and tokens

Revision ID: 5e1d3a7c9b20
Revises: 998bad4e7176
Create Date: 2026-11-25 09:00:00

Hand-written (branch "residents"): other areas add their own migrations on the same parent.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = "5e1d3a7c9b20"
down_revision = "998bad4e7176"
branch_labels = ("residents",)
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade():
    op.create_table(
        "addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("building", sa.String(length=32), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("room", sa.String(length=16), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["org_units.id"],
                                name=op.f("fk_addresses_community_id_org_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_addresses")),
        sa.UniqueConstraint("community_id", "building", "unit", "room", name="uq_addresses_room"),
    )
    op.create_index(op.f("ix_addresses_community_id"), "addresses", ["community_id"], unique=False)

    op.create_table(
        "open311_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_clients")),
        sa.UniqueConstraint("name", name=op.f("uq_open311_clients_name")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_open311_clients_key_hash")),
    )

    op.create_table(
        "open311_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("service_code", sa.String(length=48), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["client_id"], ["open311_clients.id"],
                                name=op.f("fk_open311_tokens_client_id_open311_clients")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="SET NULL",
                                name=op.f("fk_open311_tokens_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_tokens")),
        sa.UniqueConstraint("token", name=op.f("uq_open311_tokens_token")),
    )
    op.create_index("ix_open311_tokens_state", "open311_tokens", ["state", "created_at"], unique=False)


def downgrade():
    op.drop_index("ix_open311_tokens_state", table_name="open311_tokens")
    op.drop_table("open311_tokens")
    op.drop_table("open311_clients")
    op.drop_index(op.f("ix_addresses_community_id"), table_name="addresses")
    op.drop_table("addresses")
