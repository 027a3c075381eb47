"""Cases, their open and finished tasks, and the event history of every transition."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.base import JSONType, UTCDateTime, utcnow
from models.org import Grid, OrgUnit
from models.people import User

# Statuses, sources and severities are words of handlers.vocabulary (stored as their codes).


class ProcessSpec(db.Model):
    """A parsed BPMN process, stored once per file hash so cases in flight survive edits."""

    __tablename__ = "process_specs"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    process_id: Mapped[str] = mapped_column(String(64))
    engine_version: Mapped[str] = mapped_column(String(32))
    spec: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # SpiffWorkflow's format of ``spec``: an older one is migrated when the spec is read.
    serializer_version: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # The deployed file versions it was parsed from ({name: version}) and the file holding
    # the process: the case page draws the diagram of the case's own version.
    files: Mapped[dict | None] = mapped_column(JSONType, nullable=True)
    source_file: Mapped[str | None] = mapped_column(String(128), nullable=True)


class Case(db.Model):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_grid_status", "grid_id", "status"),
        Index("ix_cases_next_timer", "next_timer_at"),
        # The case board: a community's cases newest first, and counted per status.
        Index("ix_cases_community_opened", "community_id", "opened_at"),
        Index("ix_cases_community_status", "community_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str | None] = mapped_column(String(32), unique=True)
    process_id: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(48), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24), index=True)
    source: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    community_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    # None: outside every grid, waiting in the community's unassigned queue.
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(200))
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reporter_name: Mapped[str | None] = mapped_column(String(64))
    reporter_phone: Mapped[str | None] = mapped_column(String(128))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"), index=True)
    handler_role: Mapped[str | None] = mapped_column(String(32))
    department: Mapped[str | None] = mapped_column(String(32))
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    rework_count: Mapped[int] = mapped_column(default=0)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Earliest waiting timer: the sweep's index for timers whose job was lost.
    next_timer_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Optimistic-lock counter, raised by every change of the workflow state.
    version: Mapped[int] = mapped_column(default=1)
    spec_hash: Mapped[str] = mapped_column(ForeignKey("process_specs.hash"))
    engine_version: Mapped[str] = mapped_column(String(32))
    serializer_version: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(Text)

    community: Mapped[OrgUnit] = relationship()
    grid: Mapped[Grid | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    # Not stored: the open task rows as the last unit of work left them, so an answer can
    # be shaped without reading them back.
    open_task_rows = None


OPEN = text("status = 'open'")


class Task(db.Model):
    """A user task of a case: open ones are the inbox, finished ones stay for the record."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_inbox", "role", "grid_id", "due_at",
              postgresql_where=OPEN, sqlite_where=OPEN),
        Index("ix_tasks_community_open", "community_id", "role",
              postgresql_where=OPEN, sqlite_where=OPEN),
        Index("ix_tasks_assignee_open", "assignee_id",
              postgresql_where=OPEN, sqlite_where=OPEN),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    # The SpiffWorkflow task id (UUID) inside the case's state.
    engine_task_id: Mapped[str] = mapped_column(String(36))
    bpmn_id: Mapped[str] = mapped_column(String(64))
    # What the step means (handlers.vocabulary.StepKind), from its stepKind property in the
    # process file: what reports and pages read, whatever the step's id in that file.
    step_kind: Mapped[str | None] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(128))
    form_key: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(12), default="open")
    role: Mapped[str] = mapped_column(String(32))
    department: Mapped[str | None] = mapped_column(String(32))
    community_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    case: Mapped[Case] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])


class CaseSearch(db.Model):
    """The search grams of a case (handlers.search), written once when it opens."""

    __tablename__ = "case_search"
    __table_args__ = (Index("ix_case_search_grams", "grams", postgresql_using="gin"),)

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    grams: Mapped[list] = mapped_column(JSON().with_variant(ARRAY(Text), "postgresql"))

    case: Mapped[Case] = relationship()


class CaseEvent(db.Model):
    """One transition of a case: who, when, what and with which data."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Who acted when it was not a person: "system", "timer", "device:<code>".
    actor_label: Mapped[str | None] = mapped_column(String(64))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))
    # The step kind of the event's task (None for events of no task), copied so a report reads
    # one table.
    step_kind: Mapped[str | None] = mapped_column(String(16))
    data: Mapped[dict] = mapped_column(JSONType, default=dict)

    actor: Mapped[User | None] = relationship()
    case: Mapped[Case] = relationship()
    task: Mapped[Task | None] = relationship()
