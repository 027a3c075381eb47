"""Built supervisor reports: what was asked for (scope, period), how the build went, where the PDF is."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.base import JSONType, UTCDateTime, utcnow
from models.people import User

REPORT_SCOPES = ("grid", "community", "street")
REPORT_PERIODS = ("day", "week", "month", "custom")
REPORT_STATUSES = ("queued", "running", "done", "failed")
# web: the reports page; cli: flask reports build; schedule: the monthly job.
REPORT_TRIGGERS = ("web", "cli", "schedule")


class Report(db.Model):
    """One PDF report of a grid, community or street over a period, and its build."""

    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_scope_period", "scope_kind", "scope_code", "starts_on"),
        Index("ix_reports_requested_at", "requested_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope_kind: Mapped[str] = mapped_column(String(16))
    # The grid's or org unit's code: stable across renames; the name is kept as it was.
    scope_code: Mapped[str] = mapped_column(String(64))
    scope_name: Mapped[str] = mapped_column(String(128))
    period_kind: Mapped[str] = mapped_column(String(8))
    # Local dates in the community time zone, both days included.
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="queued")
    trigger: Mapped[str] = mapped_column(String(12), default="web")
    job_id: Mapped[str | None] = mapped_column(String(64))
    # Relative to DATA_DIR.
    file_path: Mapped[str | None] = mapped_column(String(300))
    pages: Mapped[int | None] = mapped_column()
    size_bytes: Mapped[int | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Milliseconds spent on the figures (reading case events, computing) and on printing the PDF.
    query_ms: Mapped[int | None] = mapped_column()
    render_ms: Mapped[int | None] = mapped_column()
    # The period's figures (Indicators.to_plain) when built after the period ended, so they are
    # final: later reports show this period in their trend from here instead of reading it again.
    figures: Mapped[dict | None] = mapped_column(JSONType)

    requested_by: Mapped[User | None] = relationship()
