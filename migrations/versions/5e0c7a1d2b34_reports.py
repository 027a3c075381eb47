"""reports: built supervisor PDF reports

Revision ID: 5e0c7a1d2b34
Revises: 998bad4e7176
Create Date: 2026-11-24 10:00:00

Hand-written (other areas add tables at the same time); its own branch, "reports".
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = "5e0c7a1d2b34"
down_revision = "998bad4e7176"
branch_labels = ("reports",)
depends_on = None


def upgrade():
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope_kind", sa.String(length=16), nullable=False),
        sa.Column("scope_code", sa.String(length=64), nullable=False),
        sa.Column("scope_name", sa.String(length=128), nullable=False),
        sa.Column("period_kind", sa.String(length=8), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("trigger", sa.String(length=12), nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=True),
        sa.Column("file_path", sa.String(length=300), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=True),
        sa.Column("size_bytes", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("query_ms", sa.Integer(), nullable=True),
        sa.Column("render_ms", sa.Integer(), nullable=True),
        sa.Column("figures", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                  nullable=True),
        sa.ForeignKeyConstraint(["requested_by_id"], ["users.id"],
                                name=op.f("fk_reports_requested_by_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
    )
    op.create_index("ix_reports_scope_period", "reports", ["scope_kind", "scope_code", "starts_on"])
    op.create_index("ix_reports_requested_at", "reports", ["requested_at"])


def downgrade():
    op.drop_index("ix_reports_requested_at", table_name="reports")
    op.drop_index("ix_reports_scope_period", table_name="reports")
    op.drop_table("reports")
