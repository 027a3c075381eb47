"""one head: alarms, inbox, reports, residents, access

Revision ID: 86728adca90c
Revises: 4b6e2a9c1f70, 5e0c7a1d2b34, 5e1d3a7c9b20, 7a3c0e5d9f12, 983d945c0b3d
Create Date: 2026-11-24 10:10:14.863912

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '86728adca90c'
down_revision = ('4b6e2a9c1f70', '5e0c7a1d2b34', '5e1d3a7c9b20', '7a3c0e5d9f12', '983d945c0b3d')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
