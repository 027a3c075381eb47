"""Deadline arithmetic the BPMN scripts call (``add_hours``, ``add_minutes``)."""
from __future__ import annotations

from datetime import datetime, timedelta


def add_hours(iso: str, hours: float) -> str:
    return (datetime.fromisoformat(iso) + timedelta(hours=float(hours))).isoformat()


def add_minutes(iso: str, minutes: float) -> str:
    return (datetime.fromisoformat(iso) + timedelta(minutes=float(minutes))).isoformat()


SCRIPT_FUNCTIONS = {"add_hours": add_hours, "add_minutes": add_minutes}
