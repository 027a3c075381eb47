"""The broker account of the system itself (the MQTT ingest and linkage commands).

Devices sign in with their code and key; the system with ``MQTT_USERNAME`` and a password
that is configured, or else generated once into the data directory and shared by every
process (web, worker, ingest, CLI), so no known password is ever in use.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

SERVICE_PASSWORD_FILE = "service-password"


def broker_folder(config: Mapping) -> Path:
    return Path(config["DATA_DIR"]) / "broker"


def service_credentials(config: Mapping) -> tuple[str, str]:
    """(username, password) of the service account; the password is the configured one, else
    the one generated into the broker folder on first use (mode 600, kept for every process)."""
    if config["MQTT_PASSWORD"]:
        return config["MQTT_USERNAME"], config["MQTT_PASSWORD"]
    path = broker_folder(config) / SERVICE_PASSWORD_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written under another name and linked into place: a process starting at the same
        # moment either finds no file or the whole one, and the first link wins.
        draft = path.with_name(f"{path.name}.{os.getpid()}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(draft)
    return config["MQTT_USERNAME"], path.read_text().strip()
