"""Deployed process and decision files: every version of every file, kept for good.

The current deployment is, for each file name, its highest version. The largest ``id`` is the
deployment marker every process checks before opening a case (``workflows.specs``).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from models.base import UTCDateTime, utcnow


class ProcessFile(db.Model):
    """One version of a BPMN or DMN file as it was deployed."""

    __tablename__ = "process_files"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_process_files_name_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    xml: Mapped[str] = mapped_column(Text)
    deployed_by: Mapped[str] = mapped_column(String(64))
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
