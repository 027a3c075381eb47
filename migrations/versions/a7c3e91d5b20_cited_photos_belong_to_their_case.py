"""photos cited by a case's task data belong to that case

Revision ID: a7c3e91d5b20
Revises: c5a91d0e7b44
Create Date: 2026-12-01 22:40:00

A photo is now seen through its case (``handlers.scopes``) and attached to the case the
first time a task cites it. Photos uploaded before and cited already have no case: each is
given the case that cited it first, so the staff of that case still see it. Data only.
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "a7c3e91d5b20"
down_revision = "c5a91d0e7b44"
branch_labels = None
depends_on = None

EVENTS = sa.table("case_events", sa.column("id", sa.Integer), sa.column("case_id", sa.Integer),
                  sa.column("data", sa.Text))
PHOTOS = sa.table("photos", sa.column("id", sa.String), sa.column("case_id", sa.Integer))


def _cited(data) -> list[str]:
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            return []
    if not isinstance(data, dict):
        return []
    return [i for key, ids in data.items() if key.endswith("photos") and isinstance(ids, list)
            for i in ids if isinstance(i, str) and 0 < len(i) <= 32]


def attach_cited_photos(bind) -> int:
    """Give each photo without a case the case whose event cited it first; returns how many."""
    rows = bind.execute(
        sa.select(EVENTS.c.case_id, sa.cast(EVENTS.c.data, sa.Text))
        .where(sa.cast(EVENTS.c.data, sa.Text).like("%photos%")).order_by(EVENTS.c.id)).all()
    attached = 0
    for case_id, data in rows:
        ids = _cited(data)
        if ids:  # the first case to cite a photo gets it: later ones find it taken
            attached += bind.execute(sa.update(PHOTOS).where(PHOTOS.c.id.in_(ids), PHOTOS.c.case_id.is_(None))
                                     .values(case_id=case_id)).rowcount
    return attached


def upgrade():
    attach_cited_photos(op.get_bind())


def downgrade():
    pass  # which photos had no case before cannot be told apart; keeping the link is harmless
