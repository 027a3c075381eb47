"""An alarm lives as long as its case (seed 6.2.x): the rules that tie the two together.

The ingest raises, repeats and clears alarms; these are the steps the case side takes, each
inside the caller's unit of work, so both change together or neither does:

- ``link_case_to_alarm``: the case opened for an alarm becomes its case, once;
- ``end_alarms_of_case``: closing or auto-closing a case ends its alarm, so the next raise
  from that device is a new alarm and opens a new case ("同一设备再次告警");
- ``alarm_of_case``: what the case page and the verifier see of it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select, update
from sqlalchemy import case as sa_case

from extensions import db
from models import Alarm, Case, Device


class AlarmHasCase(Exception):
    """Another job gave the alarm its case first; this case must be rolled back."""


def link_case_to_alarm(alarm_id: int, case_id: int) -> bool:
    """Make ``case_id`` the alarm's case; True when the alarm still has work left (its
    linkage, or a clear to deliver). Raises AlarmHasCase when it has a case already.

    The usual alarm (active, no linkage) needs nothing else: it is settled in this statement."""
    table = Alarm.__table__
    settled = sa_case((and_(table.c.status == "active", table.c.linkage != "pending"), None),
                      else_=table.c.pending_since)
    linked = db.session.execute(update(table).where(table.c.id == alarm_id, table.c.case_id.is_(None))
                                .values(case_id=case_id, pending_since=settled)
                                .returning(table.c.pending_since)).first()
    if linked is None:
        raise AlarmHasCase(f"alarm {alarm_id} has its case already")
    return linked.pending_since is not None


def end_alarms_of_case(case_id: int, at: datetime) -> int:
    """In the unit of work that closes a case: its alarms still active end with it (status
    ``ended``), nothing stays outstanding for them, and a linkage not yet run is skipped (the
    case is over: no door opens for it now). Returns how many ended."""
    table = Alarm.__table__
    return db.session.execute(
        update(table).where(table.c.case_id == case_id, table.c.status == "active")
        .values(status="ended", cleared_at=at, pending_since=None,
                linkage=sa_case((table.c.linkage == "pending", "skipped"), else_=table.c.linkage))
    ).rowcount


@dataclass(frozen=True)
class CaseAlarm:
    """The alarm behind a case, as the case page and the verifier see it."""

    id: int
    type: str
    status: str  # active | cleared | ended
    count: int
    first_seen_at: datetime
    last_seen_at: datetime
    cleared_at: datetime | None
    device_code: str
    device_status: str
    earlier_case_ref: str | None  # the case of the device's previous alarm of this type
    later_case_ref: str | None  # the case of its next one

    @property
    def still_in_alarm(self) -> bool:
        """The device has not said the alarm is over."""
        return self.status == "active"


def alarm_of_case(case_id: int) -> CaseAlarm | None:
    """The alarm that opened the case, with the cases of the same device's alarm before and
    after it; None for a case no alarm opened."""
    row = db.session.execute(
        select(Alarm.id, Alarm.type, Alarm.status, Alarm.count, Alarm.first_seen_at, Alarm.last_seen_at,
               Alarm.cleared_at, Alarm.device_id, Device.code.label("device_code"),
               Device.status.label("device_status"))
        .join(Device, Device.id == Alarm.device_id).where(Alarm.case_id == case_id)
        .order_by(Alarm.id).limit(1)).first()
    if row is None:
        return None
    same = (Alarm.device_id == row.device_id, Alarm.type == row.type, Alarm.case_id.is_not(None))
    earlier = db.session.scalar(select(Case.ref).join(Alarm, Alarm.case_id == Case.id)
                                .where(*same, Alarm.id < row.id).order_by(Alarm.id.desc()).limit(1))
    later = db.session.scalar(select(Case.ref).join(Alarm, Alarm.case_id == Case.id)
                              .where(*same, Alarm.id > row.id).order_by(Alarm.id).limit(1))
    return CaseAlarm(row.id, row.type, row.status, row.count, row.first_seen_at, row.last_seen_at,
                     row.cleared_at, row.device_code, row.device_status, earlier, later)
