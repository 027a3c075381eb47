"""Device messages in, alarms and measurements out: one transaction per batch.

Used by the MQTT service (a batch of up to ``INGEST_BATCH_SIZE`` messages) and by the HTTP
endpoint (a batch of one). A batch is decoded without the database, then applied in one
transaction: dead letters, message-id dedup, presence, measurements, alarms. Follow-up jobs
are queued only after the commit; the alarm rows say what is outstanding if that is lost.
"""
from __future__ import annotations

import base64
import logging
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from extensions import db
from integrations.alarm_store import AlarmChanges, LostRace, SignalAt, apply_signals
from integrations.alarm_work import queue_alarm_work
from integrations.directory import (
    DeviceInfo,
    device_by_code,
    device_by_id,
    forget_devices,
    key_matches,
    refreshed,
)
from integrations.kinds import (
    Signal,
    back_online_signal,
    checked_readings,
    interpret,
    kind_spec,
    offline_signal,
)
from integrations.payloads import DEVICE_CODE, Rejected, parse_event, parse_status, parse_topic, storable_text
from models import DeadLetter, Device, IngestedMessage, Measurement, transaction, utcnow

log = logging.getLogger(__name__)
ATTEMPTS = 4
PAYLOAD_KEPT = 4000  # characters (or bytes, in base64) of a rejected payload kept in the dead letter
# SQLSTATEs of a database that is away or busy, not of a message it refuses: connection
# exceptions (08...), shutdown and restart (57P01-57P03), too many connections, lost races.
_UNAVAILABLE_STATES = ("57P01", "57P02", "57P03", "53300", "40001", "40P01")


@dataclass(frozen=True)
class Incoming:
    """A message as it arrived: from MQTT (topic) or HTTP (device id and X-Device-Key)."""

    channel: str  # mqtt | http
    payload: bytes
    received_at: datetime
    topic: str | None = None
    device_id: int | None = None
    device_code: str | None = None  # HTTP: the device named by its code instead of its id
    key: str | None = None
    remote_addr: str | None = None


@dataclass
class _Decoded:
    index: int
    device: DeviceInfo
    msg_id: str | None
    presence: str  # online | offline
    signals: list[Signal]
    readings: dict[str, float]
    at: datetime  # the device's time of the readings (its ts, else arrival)
    received_at: datetime


@dataclass
class Outcome:
    """What became of one message: applied, duplicate (applied before) or rejected."""

    status: str
    reason: str | None = None
    detail: str | None = None
    device_id: int | None = None
    alarms: list[dict] = field(default_factory=list)


def decode(incoming: Incoming, index: int = 0) -> _Decoded:
    """Who sent it and what it says; raises Rejected with the reason."""
    if incoming.channel == "mqtt":
        topic = parse_topic(incoming.topic or "")
        device = device_by_code(topic.device)
        if device is None:
            raise Rejected("unknown_device", f"no device {topic.device!r} is registered")
        channel = topic.channel
        if (device.kind, device.community) != (topic.kind, topic.community):
            device = refreshed(device) or device
            if (device.kind, device.community) != (topic.kind, topic.community):
                raise Rejected("topic_mismatch", f"{device.code} is a {device.kind} of {device.community}: "
                                                 f"publish on community/{device.community}/{device.kind}/"
                                                 f"{device.code}/{channel}")
    else:
        device = _http_device(incoming)
        _check_key(device, incoming.key, "X-Device-Key header")
        channel = "event"
    if channel == "status":
        message = parse_status(incoming.payload, incoming.received_at)
        signals, readings = [], checked_readings(kind_spec(device.kind), message.readings)
        presence, msg_id = message.state, message.msg_id
    else:
        message = parse_event(incoming.payload, incoming.received_at)
        signals, readings, presence, msg_id = interpret(device.kind, message), message.readings, "online", message.msg_id
    if incoming.channel == "mqtt" and current_app.config["MQTT_REQUIRE_KEY"]:
        _check_key(device, message.key, "'key' field")
    return _Decoded(index, device, msg_id, presence, signals, readings, message.ts or incoming.received_at,
                    incoming.received_at)


def _http_device(incoming: Incoming) -> DeviceInfo:
    """The device an HTTP event names: by code, or by id (digits that are no code)."""
    ref = incoming.device_code
    device = None
    if incoming.device_id is not None:
        device = device_by_id(incoming.device_id)
    elif ref is not None and DEVICE_CODE.match(ref):  # nothing else is looked up (NUL, 1 MB paths...)
        device = device_by_code(ref)
        if device is None and ref.isascii() and ref.isdigit() and len(ref) <= 9:
            device = device_by_id(int(ref))
    if device is None:
        named = incoming.device_id if incoming.device_id is not None else storable_text(ref or "")[:64]
        raise Rejected("unknown_device", f"no device {named!r} is registered")
    return device


def _check_key(device: DeviceInfo, key: str | None, where: str) -> None:
    if not key:
        raise Rejected("missing_key", f"the device key is required in the {where}")
    if not key_matches(device, key):
        fresh = refreshed(device)  # the key may have been rotated since it was cached
        if fresh is None or not key_matches(fresh, key):
            raise Rejected("wrong_key", f"the key does not match device {device.code}")


def ingest_batch(batch: list[Incoming]) -> list[Outcome]:
    """Apply a batch of messages; one outcome per message, in order. Rejected messages are
    kept as dead letters. Database errors other than a lost race propagate: nothing of the
    batch is committed and it may be applied again as a whole."""
    decoded: list[_Decoded] = []
    rejected: list[tuple[int, Rejected]] = []
    outcomes: dict[int, Outcome] = {}
    for index, incoming in enumerate(batch):
        try:
            decoded.append(decode(incoming, index))
        except Rejected as exc:
            rejected.append((index, exc))
            outcomes[index] = Outcome("rejected", exc.reason, exc.detail, incoming.device_id)
    db.session.rollback()  # end the reads of decoding: on SQLite the unit of work starts as a writer
    for attempt in range(1, ATTEMPTS + 1):
        try:
            changes, fresh = _apply(batch, decoded, rejected, utcnow())
            break
        except (IntegrityError, OperationalError, LostRace) as exc:
            # A concurrent ingest raised the same alarm, or a deadlock: read again and replay.
            if attempt == ATTEMPTS or not _is_lost_race(exc):
                raise
            log.info("ingest batch replayed after %s", type(exc).__name__)
    queue_alarm_work(changes.raised + changes.cleared_with_case)
    for item in decoded:
        alarms = [changes.final[(item.device.id, s.alarm)] for s in item.signals
                  if (item.device.id, s.alarm) in changes.final]
        outcomes[item.index] = Outcome("applied" if item.index in fresh else "duplicate",
                                       device_id=item.device.id, alarms=alarms)
    return [outcomes[index] for index in range(len(batch))]


def _is_lost_race(exc: Exception) -> bool:
    if isinstance(exc, LostRace):
        return True
    if isinstance(exc, IntegrityError):
        return "uq_alarms_active_device_type" in str(exc.orig) or "alarms.device_id, alarms.type" in str(exc.orig)
    code = getattr(exc.orig, "sqlstate", None)
    return code in ("40P01", "40001") or "database is locked" in str(exc.orig)


def _apply(batch: list[Incoming], decoded: list[_Decoded], rejected: list[tuple[int, Rejected]],
           now: datetime) -> tuple[AlarmChanges, set[int]]:
    with transaction():
        if rejected:
            db.session.execute(insert(DeadLetter), [_dead_letter(batch[i], exc, now) for i, exc in rejected])
        fresh_items = _fresh(decoded, now)
        fresh = {item.index for item in fresh_items}
        signals = _presence(fresh_items, now)
        measurements = [{"device_id": item.device.id, "quantity": name, "value": value, "at": item.at}
                        for item in fresh_items for name, value in item.readings.items()]
        if measurements:
            db.session.execute(insert(Measurement), measurements)
        signals += [SignalAt(item.device, signal, item.received_at) for item in fresh_items for signal in item.signals]
        changes = apply_signals(signals, now)
    return changes, fresh


def _fresh(decoded: list[_Decoded], now: datetime) -> list[_Decoded]:
    """The messages not applied before: each (device, msg_id) is inserted once; a message
    whose id is already there (a redelivery) is left out. Status messages without an id pass."""
    keyed: dict[tuple[int, str], _Decoded] = {}
    for item in decoded:
        if item.msg_id is not None:
            keyed.setdefault((item.device.id, item.msg_id), item)
    inserted: set[tuple[int, str]] = set()
    if keyed:
        rows = [{"device_id": d, "msg_id": m, "received_at": now} for d, m in keyed]
        dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
        table = IngestedMessage.__table__
        statement = dialect.insert(table).on_conflict_do_nothing().returning(table.c.device_id, table.c.msg_id)
        inserted.update(tuple(r) for r in db.session.execute(statement, rows))
    return [item for item in decoded if item.msg_id is None
            or ((item.device.id, item.msg_id) in inserted and keyed[(item.device.id, item.msg_id)] is item)]


def _presence(items: list[_Decoded], now: datetime) -> list[SignalAt]:
    """Mark the devices heard from as seen; a device back online clears its offline alarm, a
    last will ("offline") raises it at once."""
    last_state: dict[int, _Decoded] = {}
    for item in items:
        last_state[item.device.id] = item
    if not last_state:
        return []
    table = Device.__table__
    db.session.execute(update(table).where(table.c.id.in_(sorted(last_state))).values(last_seen_at=now))
    signals = []
    for state in ("online", "offline"):
        ids = sorted(d for d, item in last_state.items() if item.presence == state)
        if not ids:
            continue
        changed = db.session.execute(update(table).where(table.c.id.in_(ids), table.c.status != state)
                                     .values(status=state).returning(table.c.id)).scalars().all()
        for device_id in changed:
            device = last_state[device_id].device
            signal = back_online_signal() if state == "online" else offline_signal(device.kind, now.isoformat())
            signals.append(SignalAt(device, signal, now))
    return signals


def database_unavailable(exc: Exception) -> bool:
    """Whether a database error means "try again later" (the server is away, restarting, busy)
    rather than "this message cannot be stored": only the latter is dead-lettered."""
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    if getattr(exc, "connection_invalidated", False) or "database is locked" in str(exc.orig):
        return True
    state = getattr(exc.orig, "sqlstate", None)
    return state is None or state.startswith("08") or state in _UNAVAILABLE_STATES


def ingest_isolated(batch: list[Incoming]) -> list[Outcome]:
    """``ingest_batch``, with every message accounted for: when the batch fails for a reason
    other than the database being away, its messages are applied one by one, and one that
    still fails is kept as a ``processing_failed`` dead letter. Raises only when the database
    is unavailable (nothing of the batch is then committed: apply it again later)."""
    try:
        return ingest_batch(batch)
    except Exception as exc:
        db.session.rollback()
        if database_unavailable(exc):
            raise
        if len(batch) > 1:
            log.exception("a batch of %d failed; applying its messages one by one", len(batch))
        else:
            error = exc
    if len(batch) > 1:
        return [outcome for incoming in batch for outcome in ingest_isolated([incoming])]
    # The likeliest failure of ours is a directory that no longer matches the registry (a
    # device removed, or re-created under the same code): read it again and try once more.
    forget_devices()
    try:
        return ingest_batch(batch)
    except Exception as exc:
        db.session.rollback()
        if database_unavailable(exc):
            raise
        error = exc
    log.error("message on %r failed (%s: %s); kept as a dead letter", batch[0].topic or batch[0].device_id,
              type(error).__name__, error, exc_info=error)
    reject_unprocessable(batch[0], error)
    return [Outcome("rejected", "processing_failed", "the message could not be processed; it was kept "
                    "for the administrators", batch[0].device_id)]


def _kept_payload(payload: bytes) -> tuple[str, str]:
    """(text, encoding) of a payload's first bytes for its dead letter: text when it is UTF-8
    without NUL, else base64 of the raw bytes, so whatever was sent can be looked at later."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and "\x00" not in text:
        return text[:PAYLOAD_KEPT], "utf-8"
    return base64.b64encode(payload[:PAYLOAD_KEPT]).decode("ascii"), "base64"


def _dead_letter(incoming: Incoming, exc: Rejected, now: datetime) -> dict:
    code = incoming.device_code
    if incoming.topic:
        parts = incoming.topic.split("/")
        code = parts[3] if len(parts) > 3 else None
    payload, encoding = _kept_payload(incoming.payload)
    text = {"topic": (incoming.topic or "")[:255] or None, "device_code": (code or "")[:64] or None,
            "detail": exc.detail[:2000], "remote_addr": (incoming.remote_addr or "")[:64] or None}
    return {"received_at": now, "channel": incoming.channel, "device_id": incoming.device_id,
            "reason": exc.reason[:32], "payload": payload, "payload_encoding": encoding,
            **{name: storable_text(value) if value else value for name, value in text.items()}}


def reject_unprocessable(incoming: Incoming, error: Exception) -> None:
    """Keep a message that failed for a reason of ours (not the device's) as a dead letter, so
    one poisonous message cannot stop the ingest. Raises only when the database is away."""
    detail = storable_text(f"{type(error).__name__}: {error}")
    try:
        with transaction():
            db.session.execute(insert(DeadLetter), [_dead_letter(
                incoming, Rejected("processing_failed", detail), utcnow())])
        return
    except Exception as exc:  # noqa: BLE001 - the last resort below must run whatever failed here
        if database_unavailable(exc):
            raise
        log.exception("the dead letter of a message on %r failed; keeping its bytes only", incoming.topic)
    with transaction():  # the bare minimum, all of it storable whatever the message was
        db.session.execute(insert(DeadLetter), [{
            "received_at": utcnow(), "channel": incoming.channel, "reason": "processing_failed",
            "detail": type(error).__name__, "payload_encoding": "base64",
            "payload": base64.b64encode(incoming.payload[:PAYLOAD_KEPT]).decode("ascii")}])
