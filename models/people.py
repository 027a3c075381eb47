"""Accounts of staff and residents, and the grids each may work."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.base import UTCDateTime, utcnow
from models.org import Grid, OrgUnit

# The prefix of an SM4-encrypted personal field (handlers.crypto.PREFIX).
SEALED_PREFIX = "sm4:"

user_grids = Table(
    "user_grids",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("grid_id", ForeignKey("grids.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    # Personal fields are stored encrypted or not at all (handlers.crypto); SQLite enforces
    # the same with triggers (migration f3d8b6a2c417).
    __table_args__ = (
        CheckConstraint(f"phone IS NULL OR phone LIKE '{SEALED_PREFIX}%'", name="ck_users_phone_sealed"),
        CheckConstraint(f"id_number IS NULL OR id_number LIKE '{SEALED_PREFIX}%'", name="ck_users_id_number_sealed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32), index=True)
    # For department handlers: the department they answer for (e.g. "property", "municipal").
    department: Mapped[str | None] = mapped_column(String(32))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    password_hash: Mapped[str | None] = mapped_column(String(256))
    # Raising it revokes every bearer token issued before.
    token_version: Mapped[int] = mapped_column(default=1)
    # Raising it ends every signed-in session of the account at once (logout, password reset,
    # disabling, a change of validity): sessions carry the version they were opened with.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Personal data, SM4-encrypted at rest (handlers.crypto); shown masked to most roles.
    phone: Mapped[str | None] = mapped_column(String(128))
    id_number: Mapped[str | None] = mapped_column(String(128))
    # Account policy (7.3.3): validity, idle timeout, lockout after failed logins.
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    session_timeout_minutes: Mapped[int] = mapped_column(default=30)
    max_login_attempts: Mapped[int] = mapped_column(default=5)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    community: Mapped[OrgUnit | None] = relationship()
    grids: Mapped[list[Grid]] = relationship(secondary=user_grids, order_by=Grid.code)

    @property
    def is_active(self) -> bool:
        return self.active

    # Not stored: grid ids read with the account (see handlers.tokens), saving a query.
    known_grid_ids = None

    @property
    def grid_ids(self) -> set[int]:
        if self.known_grid_ids is not None:
            return self.known_grid_ids
        return {grid.id for grid in self.grids}
