"""webhook deliveries: an outbox row per pushed event and subscription

Revision ID: b81f4c2d6e95
Revises: c5a91d0e7b44
Create Date: 2026-12-01 22:45:00

A push is written in the unit of work of the alarm change that causes it and carried out by
RQ jobs and a sweep, so a Redis outage or a killed worker no longer loses it.
"""
import sqlalchemy as sa
from alembic import op

revision = "b81f4c2d6e95"
down_revision = "c5a91d0e7b44"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("alarm_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["subscription_id"], ["webhook_subscriptions.id"],
                                name=op.f("fk_webhook_deliveries_subscription_id_webhook_subscriptions"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["alarm_id"], ["alarms.id"], name=op.f("fk_webhook_deliveries_alarm_id_alarms"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    op.create_index("ix_webhook_deliveries_status_next_attempt_at", "webhook_deliveries",
                    ["status", "next_attempt_at"])
    op.create_index("ix_webhook_deliveries_subscription_id_status", "webhook_deliveries",
                    ["subscription_id", "status"])
    op.create_index(op.f("ix_webhook_deliveries_alarm_id"), "webhook_deliveries", ["alarm_id"])


def downgrade():
    op.drop_index(op.f("ix_webhook_deliveries_alarm_id"), table_name="webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_subscription_id_status", table_name="webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_status_next_attempt_at", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
