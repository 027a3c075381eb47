"""alarms, ingested messages, dead letters, measurements, device commands, webhooks

Revision ID: 983d945c0b3d
Revises: 998bad4e7176
Create Date: 2026-11-24 10:00:00

Written by hand (other branches add tables at the same time). The unique partial index
``uq_alarms_active_device_type`` is the rule "one active alarm per device and type".
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "983d945c0b3d"
down_revision = "998bad4e7176"
branch_labels = ("alarms",)
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ACTIVE = sa.text("status = 'active'")
PENDING = sa.text("pending_since IS NOT NULL")


def upgrade():
    op.create_table(
        "alarms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=48), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=True),
        sa.Column("detail", JSON, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("linkage", sa.String(length=8), nullable=False),
        sa.Column("clear_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pending_since", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], name=op.f("fk_alarms_device_id_devices"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["community_id"], ["org_units.id"],
                                name=op.f("fk_alarms_community_id_org_units")),
        sa.ForeignKeyConstraint(["grid_id"], ["grids.id"], name=op.f("fk_alarms_grid_id_grids")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_alarms_case_id_cases"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarms")),
    )
    op.create_index("uq_alarms_active_device_type", "alarms", ["device_id", "type"], unique=True,
                    postgresql_where=ACTIVE, sqlite_where=ACTIVE)
    op.create_index("ix_alarms_pending", "alarms", ["pending_since"],
                    postgresql_where=PENDING, sqlite_where=PENDING)
    op.create_index("ix_alarms_device_id", "alarms", ["device_id", "id"])
    op.create_index("ix_alarms_status_id", "alarms", ["status", "id"])
    op.create_index(op.f("ix_alarms_case_id"), "alarms", ["case_id"])

    op.create_table(
        "ingested_messages",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("msg_id", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"],
                                name=op.f("fk_ingested_messages_device_id_devices"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("device_id", "msg_id", name=op.f("pk_ingested_messages")),
    )
    op.create_index(op.f("ix_ingested_messages_received_at"), "ingested_messages", ["received_at"])

    op.create_table(
        "dead_letters",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("topic", sa.String(length=255), nullable=True),
        sa.Column("device_code", sa.String(length=64), nullable=True),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("remote_addr", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
    )
    op.create_index(op.f("ix_dead_letters_received_at"), "dead_letters", ["received_at"])
    op.create_index(op.f("ix_dead_letters_reason"), "dead_letters", ["reason"])

    op.create_table(
        "measurements",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"],
                                name=op.f("fk_measurements_device_id_devices"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measurements")),
    )
    op.create_index("ix_measurements_device_quantity_at", "measurements", ["device_id", "quantity", "at"])

    op.create_table(
        "device_commands",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("alarm_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("command", sa.String(length=32), nullable=False),
        sa.Column("topic", sa.String(length=255), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"],
                                name=op.f("fk_device_commands_device_id_devices"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["alarm_id"], ["alarms.id"],
                                name=op.f("fk_device_commands_alarm_id_alarms"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"],
                                name=op.f("fk_device_commands_case_id_cases"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_commands")),
    )
    op.create_index(op.f("ix_device_commands_device_id"), "device_commands", ["device_id"])
    op.create_index(op.f("ix_device_commands_alarm_id"), "device_commands", ["alarm_id"])

    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("events", JSON, nullable=False),
        sa.Column("kinds", JSON, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_webhook_subscriptions_created_by_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscriptions")),
    )


def downgrade():
    op.drop_table("webhook_subscriptions")
    op.drop_index(op.f("ix_device_commands_alarm_id"), table_name="device_commands")
    op.drop_index(op.f("ix_device_commands_device_id"), table_name="device_commands")
    op.drop_table("device_commands")
    op.drop_index("ix_measurements_device_quantity_at", table_name="measurements")
    op.drop_table("measurements")
    op.drop_index(op.f("ix_dead_letters_reason"), table_name="dead_letters")
    op.drop_index(op.f("ix_dead_letters_received_at"), table_name="dead_letters")
    op.drop_table("dead_letters")
    op.drop_index(op.f("ix_ingested_messages_received_at"), table_name="ingested_messages")
    op.drop_table("ingested_messages")
    op.drop_index(op.f("ix_alarms_case_id"), table_name="alarms")
    op.drop_index("ix_alarms_status_id", table_name="alarms")
    op.drop_index("ix_alarms_device_id", table_name="alarms")
    op.drop_index("ix_alarms_pending", table_name="alarms")
    op.drop_index("uq_alarms_active_device_type", table_name="alarms")
    op.drop_table("alarms")
