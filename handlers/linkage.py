"""Linkage (联动): what an alarm makes other devices do, published on their ``.../cmd`` topics.

What a category sets off is the catalogue's (its linkage and pattern columns): a fire alarm
unlocks the door controllers of its building (6.2.1.5 e) and sounds the monitoring room's sound
and light units (6.2.2.2); gas and fence intrusion sound them too (6.2.1.6). Every command is
kept in ``device_commands`` and recorded on the alarm's case.
Commands carry a ``cmd_id`` that is the same when a command is sent again (after a crash
between publishing and recording), so a device can ignore the repeat, and a signature the
device checks before it acts (an unlock above all): HMAC-SHA256 of the command, keyed with the
SHA-256 of the target device's own key (docs/devices.md, section 6). Only the service account
may publish on ``.../cmd`` (the broker's ACL); the signature holds even past the broker.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import uuid
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from flask import current_app
from sqlalchemy import select

from extensions import db
from handlers.broker_account import service_credentials
from handlers.catalogue import linkage_of
from models import Alarm, Case, CaseEvent, Device, DeviceCommand, OrgUnit, transaction, utcnow

log = logging.getLogger(__name__)
PUBLISH_TIMEOUT = 5.0
ACTOR = "system:linkage"


def needs_linkage(category: str) -> bool:
    """Whether an alarm of this category sets off commands (the category's linkage column)."""
    return bool(linkage_of(category)[0])


@dataclass(frozen=True)
class Command:
    device_id: int
    device_code: str
    command: str
    topic: str
    payload: dict


def command_signature(payload: dict, key_hash: str | None) -> str:
    """HMAC-SHA256 (hex) of the command without ``sig``, as compact JSON with sorted keys and
    UTF-8 text, keyed with the device key's SHA-256 in hex (what the device computes from its
    key; we keep nothing else of it). A device without a key gets an empty signature."""
    if not key_hash:
        return ""
    body = json.dumps({k: v for k, v in payload.items() if k != "sig"}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False).encode()
    return hmac.new(key_hash.encode(), body, hashlib.sha256).hexdigest()


def plan_commands(alarm: Alarm, case_ref: str | None) -> list[Command]:
    """The commands an alarm sets off: door controllers of its building, sound/light units of
    its community. Empty when its category has no linkage."""
    actions, pattern = linkage_of(alarm.category)
    source = alarm.device
    community = db.session.get(OrgUnit, source.community_id)
    commands = []
    for action in actions:
        query = select(Device).where(Device.community_id == source.community_id).order_by(Device.id)
        if action == "unlock":
            if not source.building:
                continue
            query = query.where(Device.kind == "door_controller", Device.building == source.building)
        else:
            query = query.where(Device.kind == "sound_light_alarm")
        for target in db.session.scalars(query):
            payload = {"cmd_id": f"alarm-{alarm.id}-{action}-{target.id}", "command": action,
                       "reason": alarm.category, "alarm_id": alarm.id, "case_ref": case_ref,
                       "source_device": source.code, "building": source.building,
                       "ts": utcnow().isoformat()}
            if action == "sound_light":
                payload.update(mode="on", pattern=pattern or alarm.category, duration_s=300)
            payload["sig"] = command_signature(payload, target.key_hash)
            commands.append(Command(target.id, target.code, action,
                                    f"community/{community.code}/{target.kind}/{target.code}/cmd", payload))
    return commands


def link_alarm(alarm_id: int) -> list[Command]:
    """Publish the alarm's linkage commands once and record them on its case.

    Does nothing when the alarm has no linkage pending or no case yet. Publishing happens
    before the row is locked (a broker timeout must not hold the alarm); a command that
    could not be published is recorded as failed and the linkage stays pending for the sweep."""
    alarm = db.session.get(Alarm, alarm_id, populate_existing=True)
    if alarm is None or alarm.linkage != "pending" or alarm.case_id is None:
        db.session.rollback()
        return []
    case_ref = db.session.scalar(select(Case.ref).where(Case.id == alarm.case_id))
    commands = plan_commands(alarm, case_ref)
    db.session.rollback()
    results = [(command, _publish(command)) for command in commands]
    with transaction():
        alarm = db.session.get(Alarm, alarm_id, with_for_update=True, populate_existing=True)
        if alarm is None or alarm.linkage != "pending":
            return []
        failed = [c for c, error in results if error]
        for command, error in results:
            db.session.add(DeviceCommand(
                device_id=command.device_id, alarm_id=alarm.id, case_id=alarm.case_id,
                command=command.command, topic=command.topic, payload=command.payload,
                status="failed" if error else "sent", error=error, sent_at=utcnow()))
        for action in linkage_of(alarm.category)[0]:
            done = [(c, e) for c, e in results if c.command == action]
            db.session.add(CaseEvent(case_id=alarm.case_id, at=utcnow(), kind="linkage", actor_label=ACTOR,
                                     data={"alarm_id": alarm.id, "command": action,
                                           "devices": [c.device_code for c, _ in done],
                                           "failed": [c.device_code for c, e in done if e],
                                           "building": alarm.device.building}))
        if not failed:
            alarm.linkage = "done"
    return commands


class _Publisher:
    """One MQTT connection per process for commands, made on first use and again after a failure."""

    def __init__(self, host: str, port: int, username: str, password: str) -> None:
        self.connected = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                                  client_id=f"community-cmd-{uuid.uuid4().hex[:8]}")
        # The service account: the broker lets no one else publish on .../cmd.
        self.client.username_pw_set(username, password)
        self.client.on_connect = lambda _c, _u, _f, reason, _p: None if reason.is_failure else self.connected.set()
        self.client.connect(host, port, keepalive=30)
        self.client.loop_start()
        if not self.connected.wait(PUBLISH_TIMEOUT):
            self.close()
            raise TimeoutError(f"no answer from the MQTT broker at {host}:{port}")

    def publish(self, topic: str, payload: dict) -> None:
        info = self.client.publish(topic, json.dumps(payload, ensure_ascii=False), qos=1)
        info.wait_for_publish(PUBLISH_TIMEOUT)
        if not info.is_published():
            raise TimeoutError("the broker did not acknowledge the command")

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


_lock = threading.Lock()
_publishers: dict[tuple[str, int], _Publisher] = {}


def _publish(command: Command) -> str | None:
    """Publish one command with QoS 1; None when the broker acknowledged it, else the error."""
    config = current_app.config
    where = (config["MQTT_HOST"], config["MQTT_PORT"])
    with _lock:
        try:
            publisher = _publishers.get(where) or _publishers.setdefault(
                where, _Publisher(*where, *service_credentials(config)))
            publisher.publish(command.topic, command.payload)
            return None
        except (OSError, RuntimeError, ValueError, TimeoutError) as exc:
            log.warning("linkage command %s to %s not sent: %s", command.command, command.device_code, exc)
            stale = _publishers.pop(where, None)
            if stale is not None:
                stale.close()
            return f"{type(exc).__name__}: {exc}"
