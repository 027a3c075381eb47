"""The catalogue: case categories, departments, and which category each device alarm type opens.

Rows, not code: an administrator adds, renames or retires them (``handlers.catalogue``);
every page, form, API and job reads them through that module's short-lived cache.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from models.base import JSONType, UTCDateTime, utcnow

FAMILIES = ("device", "people")


class Category(db.Model):
    """What a case is about (事件类别), and how it is carried: process, default severity."""

    __tablename__ = "categories"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(128))
    family: Mapped[str] = mapped_column(String(16))  # "device" (an alarm) or "people" (a report)
    default_severity: Mapped[str] = mapped_column(String(16), default="normal")
    process_id: Mapped[str] = mapped_column(String(64), default="grid_case")
    # The national classification of 城市管理部件/事件 (GB/T 30428.2 style), when there is one.
    national_code: Mapped[str | None] = mapped_column(String(32))
    # The clause of the standard the category serves (documentation only).
    clause: Mapped[str] = mapped_column(String(32), default="")
    # Offered on the resident form and as an Open311 service.
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    photo_required: Mapped[bool] = mapped_column(Boolean, default=False)
    # Open311: a POST is answered with a token and the case opened by a worker ("batch").
    open311_batch: Mapped[bool] = mapped_column(Boolean, default=False)
    # What the resident wrote stays out of public Open311 reads (only a client's key sees it).
    private_details: Mapped[bool] = mapped_column(Boolean, default=False)
    # The resident form's question set ("repair", "hazard", ...); None: the general questions.
    form: Mapped[str | None] = mapped_column(String(32))
    # Linkage commands an alarm of this category sets off, and the sound/light pattern.
    linkage: Mapped[list] = mapped_column(JSONType, default=list)
    linkage_pattern: Mapped[str | None] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer, default=1000)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Department(db.Model):
    """A department a case can be dispatched to (the routing table names them by code)."""

    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(128))
    position: Mapped[int] = mapped_column(Integer, default=1000)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DeviceAlarmType(db.Model):
    """The category an alarm type of a device kind opens; kind "*" holds for every kind."""

    __tablename__ = "device_alarm_types"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    alarm_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"), index=True)
