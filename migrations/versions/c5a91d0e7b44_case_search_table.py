"""search grams in a table of their own, written once per case

Revision ID: c5a91d0e7b44
Revises: 86728adca90c
Create Date: 2026-11-24 10:30:00

The gram index was an expression index on ``cases``: every update of a case (each task
completed) re-computed the grams of its text. The grams now live in ``case_search``, written
when a case opens, so case updates leave the index alone.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from handlers.search import search_grams

revision = "c5a91d0e7b44"
down_revision = "86728adca90c"
branch_labels = None
depends_on = None

GRAMS = sa.JSON().with_variant(postgresql.ARRAY(sa.Text()), "postgresql")


def upgrade():
    search = op.create_table(
        "case_search",
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id", name="fk_case_search_case_id_cases",
                                                         ondelete="CASCADE"), primary_key=True),
        sa.Column("grams", GRAMS, nullable=False),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, title, description FROM cases")).all()
    if rows:
        op.bulk_insert(search, [{"case_id": r.id, "grams": search_grams(r.title, r.description)} for r in rows])
    if bind.dialect.name == "postgresql":
        op.create_index("ix_case_search_grams", "case_search", ["grams"], postgresql_using="gin")
        op.execute("DROP INDEX IF EXISTS ix_cases_search_grams")
        op.execute("DROP FUNCTION IF EXISTS case_search_grams(text)")
    else:
        op.create_index("ix_case_search_grams", "case_search", ["grams"])


def downgrade():
    op.drop_index("ix_case_search_grams", table_name="case_search")
    op.drop_table("case_search")
