"""The project's Mosquitto: its configuration, password file and ACL, written from the registry.

``broker/mosquitto.conf`` is the shipped configuration; its ``@...@`` values (port, address,
folder, account) are filled in here. The password file holds the service account (the ingest
and linkage commands) and every device, whose username is its code and password its key. A
device key is shown once and stored as SHA-256, so its Mosquitto hash (PBKDF2-SHA512, the
"$7$" format of ``mosquitto_passwd``) is computed when the key is issued and kept on the row.
The ACL lets a device publish only on its own ``event``/``status`` topics and read only its own
``cmd`` topic; the service account reads every device's topics and writes every ``cmd``.
"""
from __future__ import annotations

import base64
import getpass
import hashlib
import os
import secrets
import signal
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from config import ROOT
from extensions import db
from handlers.broker_account import broker_folder, service_credentials
from models import Device

TEMPLATE = ROOT / "broker" / "mosquitto.conf"
# Mosquitto's own default count; a device key is 192 random bits, so the count adds nothing
# an attacker could not, and each connection costs the broker this many rounds.
ITERATIONS = 101
SALT_BYTES = 12
PID_FILE = "mosquitto.pid"


def mosquitto_hash(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """``password`` as a Mosquitto 2 password-file hash: ``$7$<iterations>$<salt>$<hash>``."""
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


@dataclass(frozen=True)
class Gateway:
    """An account publishing for many devices (a gateway, a test or benchmark load)."""

    username: str
    password: str
    topics: tuple[str, ...] = field(default=("community/+/+/+/event", "community/+/+/+/status"))
    reads: tuple[str, ...] = ()  # topics it may subscribe to (a monitoring console)


def render_config(config: Mapping, folder: Path) -> str:
    values = {"@PORT@": str(config["MQTT_PORT"]), "@BIND@": config["MQTT_BROKER_BIND"],
              "@FOLDER@": str(folder), "@USER@": getpass.getuser()}
    text = TEMPLATE.read_text()
    for name, value in values.items():
        text = text.replace(name, value)
    return text


def acl_text(service_user: str, gateways: Iterable[Gateway] = ()) -> str:
    lines = ["# Written by `flask broker files`: do not edit (see broker/mosquitto.conf).",
             f"user {service_user}", "topic read community/+/+/+/event", "topic read community/+/+/+/status",
             "topic write community/+/+/+/cmd", ""]
    for gateway in gateways:
        lines += [f"user {gateway.username}", *(f"topic write {t}" for t in gateway.topics),
                  *(f"topic read {t}" for t in gateway.reads), ""]
    # Patterns apply to every account: %u is the device code, the account's username.
    lines += ["pattern write community/+/+/%u/event", "pattern write community/+/+/%u/status",
              "pattern read community/+/+/%u/cmd", ""]
    return "\n".join(lines)


def write_broker_files(config: Mapping, devices: Iterable[tuple[str, str]],
                       gateways: Iterable[Gateway] = ()) -> Path:
    """Write mosquitto.conf, passwords and acl into the broker folder; returns the conf path.

    ``devices`` are (code, broker hash) pairs; files are replaced atomically, so a broker
    reloading meanwhile reads the old or the new file, never half of one."""
    folder = broker_folder(config)
    folder.mkdir(parents=True, exist_ok=True)
    gateways = list(gateways)
    user, password = service_credentials(config)
    entries = [f"{user}:{mosquitto_hash(password)}"]
    entries += [f"{g.username}:{mosquitto_hash(g.password)}" for g in gateways]
    entries += [f"{code}:{hashed}" for code, hashed in devices if hashed]
    _replace(folder / "passwords", "\n".join(entries) + "\n")
    _replace(folder / "acl", acl_text(user, gateways))
    _replace(folder / "mosquitto.conf", render_config(config, folder))
    return folder / "mosquitto.conf"


def _replace(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)


def reload_broker(config: Mapping) -> bool:
    """Tell a running project broker (its pid file, written by scripts/broker.sh) to read its
    password file and ACL again; False when none runs here."""
    path = broker_folder(config) / PID_FILE
    try:
        os.kill(int(path.read_text().strip()), signal.SIGHUP)
    except (OSError, ValueError):
        return False
    return True


def registry_devices() -> list[tuple[str, str]]:
    """(code, broker hash) of every device that has one, for the password file."""
    # A connection of its own: the caller's session (a request that just changed a device)
    # keeps its objects as they are.
    with db.engine.connect() as connection:
        rows = connection.execute(select(Device.code, Device.broker_hash)
                                  .where(Device.broker_hash.is_not(None)).order_by(Device.code)).all()
    return [(code, hashed) for code, hashed in rows]


def refresh_local_broker(config: Mapping) -> bool:
    """After a device or key changed: rewrite the files of the broker run from this data
    directory (if one was set up here) and make it reload them; False when there is none."""
    if not (broker_folder(config) / "mosquitto.conf").exists():
        return False
    write_broker_files(config, registry_devices())
    return reload_broker(config)
