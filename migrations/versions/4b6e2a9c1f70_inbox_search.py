"""inbox: case search over Chinese text, and the board's indexes

Revision ID: 4b6e2a9c1f70
Revises: 998bad4e7176
Create Date: 2026-11-24 12:00:00

Hand-written (other areas add migrations on the same parent); its own branch, "inbox".

Chinese has no spaces between words, so a word index sees one "word" per sentence. Search
therefore matches substrings: on PostgreSQL a GIN index over the character unigrams and
bigrams of title and description (``case_search_grams``, the usual CJK n-gram approach,
independent of the database locale) finds the candidates and a LIKE re-check keeps exact
substring matches. SQLite (one machine, small data) scans with LIKE and needs nothing here.
"""
from alembic import op

revision = "4b6e2a9c1f70"
down_revision = "998bad4e7176"
branch_labels = ("inbox",)
depends_on = None

GRAMS_FUNCTION = r"""
CREATE OR REPLACE FUNCTION case_search_grams(doc text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 100 AS $$
  SELECT coalesce(array_agg(DISTINCT g), '{}'::text[])
  FROM (SELECT substr(d, i, n) AS g
        FROM (SELECT lower(doc) AS d) s,
             generate_series(1, 2) AS n,
             generate_series(1, length(d)) AS i
        WHERE i + n - 1 <= length(d)) grams
  WHERE g !~ '\s'
$$
"""


def upgrade():
    # The board lists a community's (or everyone's) cases newest first and counts them per status.
    op.create_index("ix_cases_community_opened", "cases", ["community_id", "opened_at"])
    op.create_index("ix_cases_community_status", "cases", ["community_id", "status"])
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(GRAMS_FUNCTION)
    op.execute("CREATE INDEX ix_cases_search_grams ON cases "
               "USING gin (case_search_grams(title || ' ' || description))")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_cases_search_grams")
        op.execute("DROP FUNCTION IF EXISTS case_search_grams(text)")
    op.drop_index("ix_cases_community_status", table_name="cases")
    op.drop_index("ix_cases_community_opened", table_name="cases")
