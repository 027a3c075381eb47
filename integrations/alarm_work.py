"""The follow-up of an alarm, as RQ jobs: its case, its linkage, and telling the case it cleared.

The ingest commits the alarm first and queues ``follow_up_alarms([alarm ids])`` after; the
alarm row remembers what is outstanding (``pending_since``), so a job lost with a killed
worker, or never queued because the ingest died between commit and enqueue, is found by the
sweep. Every step is exactly-once by a database rule, so running the job twice is harmless:

- the case: the unit of work that opens the case sets ``alarms.case_id``, only if it is still
  empty (``handlers.alarms.link_case_to_alarm``); a second job's case is rolled back. The
  same statement settles the usual alarm, whose case was all it needed;
- the clear: the alarm is marked and the message delivered in one transaction, under its lock;
- the linkage: marked done under the alarm's lock (see ``handlers.linkage``).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from redis.exceptions import RedisError
from rq import Queue
from sqlalchemy import select, text, update

from extensions import db, redis
from handlers.alarms import AlarmHasCase, link_case_to_alarm
from handlers.catalogue import category
from handlers.linkage import link_alarm
from handlers.vocabulary import Source
from integrations.webhooks import Subscriber, active_subscribers, notify_subscribers
from models import Alarm, Case, Device, transaction, utcnow
from workflows import deliver_message, open_case
from workflows.cases import CaseRequest
from workflows.runtime import Actor

log = logging.getLogger(__name__)
QUEUE = "alarms"
# Alarms per job: a few, so RQ's cost per job is shared, and several workers still share a burst.
JOB_CHUNK = 16


def queue_alarm_work(alarm_ids: list[int]) -> None:
    """Queue ``follow_up_alarms`` for the alarms, a few per job; a Redis failure is left to the sweep."""
    if not alarm_ids:
        return
    queue = redis.queue(QUEUE)
    chunks = [alarm_ids[i:i + JOB_CHUNK] for i in range(0, len(alarm_ids), JOB_CHUNK)]
    try:
        with redis.client.pipeline() as pipe:
            queue.enqueue_many([Queue.prepare_data(follow_up_alarms, (chunk,), result_ttl=60, failure_ttl=86400)
                                for chunk in chunks], pipeline=pipe)
            pipe.execute()
    except RedisError as exc:
        log.warning("%d alarm job(s) not queued (%s); the sweep will queue them", len(alarm_ids), exc)


@dataclass(frozen=True)
class _Facts:
    """What the follow-up needs of an alarm and its device, read once per job."""

    id: int
    case_id: int | None
    status: str
    linkage: str
    clear_sent_at: datetime | None
    type: str
    category: str
    severity: str
    first_seen_at: datetime
    detail: dict
    device: Device

    @property
    def kind(self) -> str:
        return self.device.kind


def _facts(alarm_ids: list[int]) -> dict[int, _Facts]:
    rows = db.session.execute(
        select(Alarm.id, Alarm.case_id, Alarm.status, Alarm.linkage, Alarm.clear_sent_at, Alarm.type,
               Alarm.category, Alarm.severity, Alarm.first_seen_at, Alarm.detail, Device)
        .join(Device, Device.id == Alarm.device_id).where(Alarm.id.in_(alarm_ids))).all()
    # The devices stay in the session (held by the facts), so opening a case does not read them again.
    return {row[0]: _Facts(*row[:10], row[10]) for row in rows}


def follow_up_alarms(alarm_ids: list[int]) -> list[str | None]:
    """Job: ``follow_up_alarm`` for each alarm, with the alarms and webhook subscriptions read
    once. One that fails stays pending for the sweep and does not hold up the others; the job
    then fails with its error."""
    facts = _facts(alarm_ids)
    subscribers = active_subscribers()
    refs, failure = [], None
    for alarm_id in alarm_ids:
        for attempt in (1, 2):
            try:
                refs.append(_follow_up(facts[alarm_id], subscribers) if alarm_id in facts else None)
                break
            except Exception as exc:  # noqa: BLE001 - one more try, then reported after the other alarms
                db.session.rollback()
                if attempt == 1:
                    # A lost race (a deadlock, two workers storing the same spec) passes on a retry.
                    log.warning("follow-up of alarm %s failed (%s); trying again", alarm_id, exc)
                    facts.update(_facts([alarm_id]))
                    continue
                log.exception("follow-up of alarm %s failed; it stays pending for the sweep", alarm_id)
                refs.append(None)
                failure = exc
    db.session.rollback()
    if failure is not None:
        raise failure
    return refs


def follow_up_alarm(alarm_id: int) -> str | None:
    """Give the alarm its case, run its linkage, tell the case when it cleared, push the
    webhooks. Idempotent; returns the case ref (None for an alarm that no longer exists)."""
    return follow_up_alarms([alarm_id])[0]


def _follow_up(facts: _Facts, subscribers: list[Subscriber]) -> str | None:
    opened = None
    if facts.case_id is None:
        opened, left_pending = _open_case(facts, subscribers)
        if opened is not None and not left_pending:
            return opened.ref
        facts = _facts([facts.id])[facts.id]  # something is left to do, or another job opened the case
    if facts.linkage == "pending":
        link_alarm(facts.id)
    if facts.status == "cleared" and facts.clear_sent_at is None:
        deliver_alarm_clear(facts.id, subscribers)
    _settle(facts.id)
    ref = db.session.scalar(select(Case.ref).join(Alarm, Alarm.case_id == Case.id).where(Alarm.id == facts.id))
    db.session.rollback()
    return ref


def _open_case(alarm: _Facts, subscribers: list[Subscriber] | None = None) -> tuple[Case | None, bool]:
    """Open the alarm's case: (the case, whether the alarm has work left), or (None, True)
    when another job opened it first."""
    cat = category(alarm.category)
    detail = alarm.detail or {}
    device = alarm.device
    lines = [f"设备 {device.code}（{device.kind}）告警 {alarm.type}，等级 {alarm.severity}",
             f"首次 {alarm.first_seen_at.isoformat(timespec='seconds')}"]
    if detail.get("readings"):
        lines.append("读数 " + ", ".join(f"{k}={v}" for k, v in detail["readings"].items()))
    for name, label in (("code", "代码"), ("snapshot", "快照"), ("message", "说明")):
        if detail.get(name):
            lines.append(f"{label} {detail[name]}")
    request = CaseRequest(
        category=alarm.category, severity=alarm.severity, source=Source.SENSOR, device_id=device.id,
        title=" ".join(part for part in (cat.zh, device.building, device.name) if part),
        description="\n".join(lines))
    left_pending: list[bool] = []

    def take_case(case: Case) -> None:
        # In open_case's unit of work: the alarm takes the case, or the case is rolled back.
        db.session.flush()  # the case row exists before the alarm refers to it
        left_pending.append(link_case_to_alarm(alarm.id, case.id))
        # The webhook pushes (an outbox) commit with the case, or not at all.
        notify_subscribers(alarm.id, "alarm.raised", alarm.kind, subscribers)

    try:
        _commit_without_waiting_for_disk()
        case = open_case(request, Actor(label=f"device:{device.code}"), along=take_case)
        return case, left_pending[0]
    except AlarmHasCase:
        return None, True


def _commit_without_waiting_for_disk() -> None:
    """On PostgreSQL, let the case's commit return before its WAL is flushed to disk.

    Safe for this one transaction: the alarm that asks for the case was committed durably by
    the ingest (which acknowledges the broker only then) and stays pending until the case
    commits. A database crash that loses the case loses its link to the alarm with it, and
    the sweep opens it again. On a busy disk this halves the cost of opening a case."""
    if db.session.get_bind().dialect.name == "postgresql":
        # open_case's unit of work goes on in this transaction on PostgreSQL: the setting holds for it.
        db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))


def deliver_alarm_clear(alarm_id: int, subscribers: list[Subscriber] | None = None) -> bool:
    """Deliver "alarm_cleared" to the alarm's case once, and write its webhook pushes;
    True when this call delivered it.

    The case closes itself when not yet dispatched (告警自动消除); otherwise the clear is
    noted on it for the verifier."""
    with transaction():
        alarm = db.session.get(Alarm, alarm_id, with_for_update=True, populate_existing=True)
        if alarm is None or alarm.status != "cleared" or alarm.case_id is None or alarm.clear_sent_at:
            return False
        # deliver_message's own transaction() continues this unit of work (it has a pending
        # change): the mark and the message commit together, or neither does.
        alarm.clear_sent_at = utcnow()
        notify_subscribers(alarm.id, "alarm.cleared", alarm.device.kind, subscribers)
        payload = {"alarm_id": alarm.id, "type": alarm.type, "count": alarm.count,
                   "cleared_at": alarm.cleared_at.isoformat() if alarm.cleared_at else None}
        deliver_message(alarm.case_id, "alarm_cleared", payload, Actor(label=f"device:{alarm.device.code}"))
    return True


def _settle(alarm_id: int) -> None:
    """Clear ``pending_since`` when nothing is outstanding (in one statement: an ingest that
    clears the alarm meanwhile sets it again after this)."""
    with transaction():
        db.session.execute(update(Alarm).where(
            Alarm.id == alarm_id, Alarm.pending_since.is_not(None), Alarm.case_id.is_not(None),
            Alarm.linkage != "pending",
            Alarm.status.in_(("active", "ended")) | Alarm.clear_sent_at.is_not(None),
        ).values(pending_since=None).execution_options(synchronize_session=False))


def sweep_alarm_work(grace_seconds: int = 60, limit: int = 2000) -> int:
    """Job: queue the follow-up of alarms whose work is outstanding for longer than the grace
    (their job was lost); returns how many."""
    cutoff = utcnow() - timedelta(seconds=grace_seconds)
    ids = list(db.session.scalars(select(Alarm.id).where(Alarm.pending_since <= cutoff)
                                  .order_by(Alarm.pending_since).limit(limit)))
    db.session.rollback()
    queue_alarm_work(ids)
    return len(ids)
