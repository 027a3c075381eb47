"""one head: dead letters, session versions and audit role, webhook deliveries, cited photos

Revision ID: 1f0a2b3c4d5e
Revises: a7c3e91d5b20, b81f4c2d6e95, e4b7a21c9d30, f3d8b6a2c417
Create Date: 2026-12-01 22:55:00

"""

# revision identifiers, used by Alembic.
revision = "1f0a2b3c4d5e"
down_revision = ("a7c3e91d5b20", "b81f4c2d6e95", "e4b7a21c9d30", "f3d8b6a2c417")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
