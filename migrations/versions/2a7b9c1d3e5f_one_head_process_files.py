"""one head: step kinds on tasks and events, deployed process files, the catalogue as data

Revision ID: 2a7b9c1d3e5f
Revises: 6c2e9d4b1a87, 9d2e4f6a8b10, c11a7e3d5b90
Create Date: 2026-12-01 23:31:00

"""

# revision identifiers, used by Alembic.
revision = "2a7b9c1d3e5f"
down_revision = ("6c2e9d4b1a87", "9d2e4f6a8b10", "c11a7e3d5b90")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
