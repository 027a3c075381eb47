"""What a device sends: topics, the event and status payloads, and why one is rejected.

Topics: ``community/{community}/{kind}/{device}/event`` (alarms, readings) and
``.../status`` (heartbeats); commands go out on ``.../cmd``. The HTTP endpoint
``POST /api/v1/devices/<id>/events`` takes the same event payload. docs/devices.md shows examples.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, Strict, ValidationError, field_validator

TOPIC_ROOT = "community"
TOPIC_CHANNELS = ("event", "status")
_SEGMENT = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
DEVICE_CODE = _SEGMENT  # a device code is a topic segment
MAX_PAYLOAD_BYTES = 16 * 1024
# A device clock this far ahead of ours is wrong, not early: its time is set aside.
MAX_CLOCK_AHEAD = timedelta(minutes=5)

Reading = Annotated[float, Strict()]


class Rejected(Exception):
    """A message that cannot be applied; ``reason`` is a stable code, ``detail`` says why."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Topic:
    community: str
    kind: str
    device: str
    channel: str  # event | status


def parse_topic(topic: str) -> Topic:
    """``community/{community}/{kind}/{device}/{event|status}``; raises Rejected."""
    parts = topic.split("/")
    if len(parts) != 5 or parts[0] != TOPIC_ROOT or parts[4] not in TOPIC_CHANNELS:
        raise Rejected("bad_topic", "topics are community/{community}/{kind}/{device}/event or .../status")
    if not all(_SEGMENT.match(p) for p in parts[1:4]):
        raise Rejected("bad_topic", "community, kind and device are 1-64 letters, digits, '_', '-' or '.'")
    return Topic(parts[1], parts[2], parts[3], parts[4])


def command_topic(community: str, kind: str, device: str) -> str:
    return f"{TOPIC_ROOT}/{community}/{kind}/{device}/cmd"


def _device_time(value: object) -> datetime | None:
    """ISO 8601 with an offset, or epoch seconds (milliseconds are recognised by size)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("ts must be ISO 8601 text or epoch seconds")
    if isinstance(value, (int, float)):
        seconds = value / 1000 if value > 1e11 else value
        if not 0 < seconds < 1e10:
            raise ValueError("ts in epoch seconds is out of range")
        return datetime.fromtimestamp(seconds, UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("ts must be ISO 8601, e.g. 2026-11-24T08:00:00+08:00") from None
        if parsed.tzinfo is None:
            raise ValueError("ts needs its UTC offset, e.g. +08:00 or Z")
        try:
            return parsed.astimezone(UTC)
        except OverflowError:  # 0001-01-01T00:00+01:00 has no UTC time: not a ValueError, so say it here
            raise ValueError("ts is out of range") from None
    raise ValueError("ts must be ISO 8601 text or epoch seconds")


def storable_text(text: str) -> str:
    """``text`` as PostgreSQL can store it: NUL (refused in text and JSON) and lone surrogates
    (not encodable as UTF-8) are written out as visible escapes; anything else is kept."""
    if "\x00" not in text and not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text.replace("\x00", "\\u0000"))


_SURROGATE = re.compile("[\ud800-\udfff]")


class _DeviceMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    ts: datetime | None = Field(None, description="device time: ISO 8601 with offset, or epoch seconds")
    readings: dict[str, Reading] = Field(default_factory=dict, max_length=32,
                                         description="quantity -> number, see docs/devices.md per kind")
    message: str | None = Field(None, max_length=200, description="free text from the device")
    key: str | None = Field(None, max_length=128, description="the device key (MQTT; HTTP uses X-Device-Key)")
    # The device's time when it lay too far in our future: the message counts at its arrival.
    _clock_ahead: datetime | None = PrivateAttr(None)

    @field_validator("ts", mode="before")
    @classmethod
    def _ts(cls, value: object) -> datetime | None:
        return _device_time(value)

    @field_validator("message", "key", mode="after")
    @classmethod
    def _storable(cls, value: str | None) -> str | None:
        # Free text from a device reaches the alarm's detail and the case: keep it storable.
        return storable_text(value) if value is not None else None


class EventIn(_DeviceMessage):
    """An alarm (raised or cleared), a set of readings, or a heartbeat over HTTP."""

    msg_id: str = Field(..., pattern=r"^[A-Za-z0-9._:\-]{1,64}$",
                        description="unique per device; a repeated msg_id is applied once")
    type: str = Field(..., pattern=r"^[a-z][a-z0-9_]{0,31}$",
                      description="an alarm type of the device's kind, 'reading' or 'heartbeat'")
    state: Literal["alarm", "clear"] = Field("alarm", description="'clear' ends the alarm of this type")
    code: str | None = Field(None, max_length=32, description="fault code (elevators)")
    snapshot: str | None = Field(None, max_length=500, description="camera snapshot URL or object id")

    @field_validator("code", "snapshot", mode="after")
    @classmethod
    def _storable_fields(cls, value: str | None) -> str | None:
        return storable_text(value) if value is not None else None


class StatusIn(_DeviceMessage):
    """A heartbeat (or a last will saying the device went away)."""

    msg_id: str | None = Field(None, pattern=r"^[A-Za-z0-9._:\-]{1,64}$")
    state: Literal["online", "offline"] = "online"


def _parse(model: type[_DeviceMessage], payload: bytes, received_at: datetime):
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise Rejected("too_large", f"payloads are at most {MAX_PAYLOAD_BYTES} bytes")
    try:
        message = model.model_validate_json(payload)
    except RecursionError:
        raise Rejected("bad_json", "the payload is nested too deeply") from None
    except ValidationError as exc:
        errors = exc.errors()
        if any(e["type"] in ("json_invalid", "json_type") for e in errors):
            raise Rejected("bad_json", "the payload is not valid JSON: " + errors[0]["msg"]) from None
        raise Rejected("invalid_payload", "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'payload'}: {e['msg']}" for e in errors[:8])) from None
    if message.ts is not None and message.ts > received_at + MAX_CLOCK_AHEAD:
        # A wrong clock must not cost an alarm: it counts at its arrival, the clock is noted.
        message._clock_ahead, message.ts = message.ts, None
    return message


def parse_event(payload: bytes, received_at: datetime) -> EventIn:
    """The event payload; raises Rejected (too_large, bad_json, invalid_payload)."""
    return _parse(EventIn, payload, received_at)


def parse_status(payload: bytes, received_at: datetime) -> StatusIn:
    """The status payload; an empty one is a plain heartbeat. Raises Rejected."""
    return _parse(StatusIn, payload or b"{}", received_at)
