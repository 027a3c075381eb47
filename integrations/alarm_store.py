"""Applying a batch of alarm signals: raise once, count repeats, clear (seed: 应避免告警重复上报).

The active alarms of the batch's devices are read once, the signals are played through in
arrival order in memory, and the result is written back with one executemany UPDATE and one
multi-row INSERT, last in the transaction. The rows are not locked when read: a follow-up job
linking its case to an alarm would otherwise wait for the whole batch. So the UPDATE adds to
the count rather than setting it, clears only an alarm still active, and leaves the columns
of the follow-up (case, linkage) alone. The unique partial index on active alarms is the
final word: a concurrent ingest that raised the same alarm first makes the INSERT fail and
the caller retries the batch, which then sees that alarm as a repeat.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy import case as sa_case

from extensions import db
from handlers.catalogue import alarm_category
from handlers.linkage import needs_linkage
from integrations.directory import DeviceInfo
from integrations.kinds import Signal, graver
from models import Alarm, CaseEvent

_COLUMNS = (Alarm.id, Alarm.device_id, Alarm.type, Alarm.category, Alarm.severity, Alarm.status,
            Alarm.count, Alarm.first_seen_at, Alarm.last_seen_at, Alarm.cleared_at, Alarm.detail,
            Alarm.case_id, Alarm.pending_since)


@dataclass(frozen=True)
class SignalAt:
    device: DeviceInfo
    signal: Signal
    at: datetime  # when the message arrived


@dataclass
class _AlarmState:
    """An alarm as the batch leaves it: a row read at the start, or one to insert."""

    device: DeviceInfo
    type: str
    category: str
    severity: str
    status: str
    count: int
    first_seen_at: datetime
    last_seen_at: datetime
    detail: dict
    cleared_at: datetime | None = None
    pending_since: datetime | None = None
    case_id: int | None = None
    id: int | None = None
    changed: bool = False
    added: int = 0  # repeats in this batch, added to the stored count
    graded_from: str | None = None

    def as_row(self) -> dict:
        return {"device_id": self.device.id, "type": self.type, "category": self.category,
                "severity": self.severity, "status": self.status, "count": self.count,
                "first_seen_at": self.first_seen_at, "last_seen_at": self.last_seen_at,
                "cleared_at": self.cleared_at, "detail": self.detail, "pending_since": self.pending_since,
                "community_id": self.device.community_id, "grid_id": self.device.grid_id,
                "linkage": "pending" if needs_linkage(self.category) else "none"}


@dataclass
class AlarmChanges:
    """What a batch did: alarms raised (each needs its case), repeats, and clears."""

    raised: list[int] = field(default_factory=list)
    # Alarms that had a case when they cleared: the case hears "alarm_cleared".
    cleared_with_case: list[int] = field(default_factory=list)
    cleared: list[int] = field(default_factory=list)
    repeats: int = 0
    stray_clears: int = 0
    # (device id, alarm type) -> the alarm as the batch left it, for the HTTP answer.
    final: dict[tuple[int, str], dict] = field(default_factory=dict)


def apply_signals(items: list[SignalAt], now: datetime) -> AlarmChanges:
    """Play the signals into the alarms table inside the caller's transaction.

    Raises IntegrityError or LostRace when another ingest changed one of the alarms meanwhile
    (the caller replays the batch)."""
    changes = AlarmChanges()
    if not items:
        return changes
    current = _active_alarms(sorted({item.device.id for item in items}), {d.device.id: d.device for d in items})
    read_at_start = list(current.values())
    inserts: list[_AlarmState] = []
    for item in items:
        key = (item.device.id, item.signal.alarm)
        alarm = current.get(key)
        active = alarm is not None and alarm.status == "active"
        if item.signal.raised and active:
            _repeat(alarm, item)
            changes.repeats += 1
        elif item.signal.raised:
            alarm = _new_alarm(item, now)
            current[key] = alarm
            inserts.append(alarm)
        elif active:
            alarm.status, alarm.cleared_at, alarm.changed = "cleared", item.at, True
            alarm.pending_since = alarm.pending_since or now
            if alarm.id is not None:
                changes.cleared.append(alarm.id)
                if alarm.case_id is not None:
                    changes.cleared_with_case.append(alarm.id)
        else:
            changes.stray_clears += 1
    _write(read_at_start, inserts, changes, now)
    for (device_id, alarm_type), alarm in current.items():
        changes.final[(device_id, alarm_type)] = {
            "id": alarm.id, "type": alarm_type, "status": alarm.status, "severity": alarm.severity,
            "count": alarm.count}
    return changes


def _active_alarms(device_ids: list[int], devices: dict[int, DeviceInfo]) -> dict[tuple[int, str], _AlarmState]:
    rows = db.session.execute(
        select(*_COLUMNS).where(Alarm.status == "active", Alarm.device_id.in_(device_ids))
        .order_by(Alarm.id))
    found = {}
    for row in rows:
        found[(row.device_id, row.type)] = _AlarmState(
            device=devices[row.device_id], type=row.type, category=row.category, severity=row.severity,
            status=row.status, count=row.count, first_seen_at=row.first_seen_at,
            last_seen_at=row.last_seen_at, detail=row.detail, cleared_at=row.cleared_at,
            pending_since=row.pending_since, case_id=row.case_id, id=row.id)
    return found


def _repeat(alarm: _AlarmState, item: SignalAt) -> None:
    alarm.count += 1
    alarm.added += 1
    alarm.last_seen_at = max(alarm.last_seen_at, item.at)
    alarm.detail = item.signal.detail
    severity = graver(alarm.severity, item.signal.severity)
    if severity != alarm.severity:
        alarm.graded_from = alarm.graded_from or alarm.severity
        alarm.severity = severity
    alarm.changed = True


def _new_alarm(item: SignalAt, now: datetime) -> _AlarmState:
    return _AlarmState(
        device=item.device, type=item.signal.alarm,
        # The catalogue maps every shipped alarm type; an unmapped one shows as its own code.
        category=alarm_category(item.device.kind, item.signal.alarm) or item.signal.alarm,
        severity=item.signal.severity, status="active", count=1, first_seen_at=item.at,
        last_seen_at=item.at, detail=item.signal.detail, pending_since=now, changed=True)


class LostRace(Exception):
    """An alarm read as active was cleared by another ingest meanwhile: replay the batch."""


def _update_statement():
    table = Alarm.__table__
    at, cleared = table.c.last_seen_at.type, table.c.cleared_at.type
    return update(table).where(table.c.id == bindparam("b_id"), table.c.status == "active").values(
        count=table.c.count + bindparam("b_added"),
        last_seen_at=sa_case((table.c.last_seen_at < bindparam("b_last", type_=at), bindparam("b_last", type_=at)),
                             else_=table.c.last_seen_at),
        severity=bindparam("b_severity"), detail=bindparam("b_detail", type_=table.c.detail.type),
        status=bindparam("b_status"), cleared_at=bindparam("b_cleared", type_=cleared),
        pending_since=sa_case((bindparam("b_status") == "cleared",
                               func.coalesce(table.c.pending_since, bindparam("b_now", type_=cleared))),
                              else_=table.c.pending_since))


def _write(read_at_start: list[_AlarmState], inserts: list[_AlarmState], changes: AlarmChanges,
           now: datetime) -> None:
    # Clears of old rows go first: the index admits a new active alarm only once the old one is cleared.
    updated = [a for a in read_at_start if a.changed]
    if updated:
        result = db.session.execute(_update_statement(), [
            {"b_id": a.id, "b_added": a.added, "b_last": a.last_seen_at, "b_severity": a.severity,
             "b_detail": a.detail, "b_status": a.status, "b_cleared": a.cleared_at, "b_now": now}
            for a in updated])
        if db.session.get_bind().dialect.supports_sane_multi_rowcount and result.rowcount != len(updated):
            raise LostRace(f"{len(updated) - result.rowcount} alarm(s) changed by another ingest")
    regraded = [a for a in updated if a.graded_from and a.case_id is not None]
    if regraded:
        db.session.execute(insert(CaseEvent), [
            {"case_id": a.case_id, "at": a.last_seen_at, "kind": "alarm_regraded",
             "actor_label": f"device:{a.device.code}",
             "data": {"alarm_id": a.id, "from": a.graded_from, "to": a.severity, "count": a.count}}
            for a in regraded])
    if inserts:
        ids = db.session.scalars(insert(Alarm).returning(Alarm.id, sort_by_parameter_order=True),
                                 [a.as_row() for a in inserts]).all()
        for alarm, alarm_id in zip(inserts, ids, strict=True):
            alarm.id = alarm_id
            changes.raised.append(alarm_id)
