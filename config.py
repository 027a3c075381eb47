"""Every setting of the system, read once from the environment.

Nothing else reads ``os.environ``. Each setting has a default that runs on one machine:
SQLite under ``var/``, Redis and Mosquitto on localhost.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

import keystore

ROOT = Path(__file__).resolve().parent


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _ints(value: str) -> tuple[int, ...]:
    return tuple(int(part) for part in value.split(",") if part.strip())


@dataclass
class Settings:
    # Signs sessions, CSRF tokens and API bearer tokens. Unset: generated once into
    # DATA_DIR/keys/secret_key (mode 600) and shared by every process; a published, empty or
    # short value is refused at start-up (keystore.py).
    SECRET_KEY: str | None = field(default_factory=lambda: os.environ.get("SECRET_KEY"))
    # SQLAlchemy URL; SQLite by default, PostgreSQL with postgresql+psycopg://...
    DATABASE_URL: str = field(
        default_factory=lambda: _env("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'community.db'}")
    )
    # The schema owner's URL: migrations (`flask db upgrade`) run through it. On PostgreSQL the
    # app's DATABASE_URL role may then only INSERT and SELECT the audit log (the upgrade grants
    # it, see handlers/db_roles.py). Empty: the same as DATABASE_URL (one role, SQLite).
    DATABASE_OWNER_URL: str = field(default_factory=lambda: _env("DATABASE_OWNER_URL", ""))
    # Redis holding the RQ queues and short-lived caches.
    REDIS_URL: str = field(default_factory=lambda: _env("REDIS_URL", "redis://127.0.0.1:6379/0"))
    # Seconds a Redis connect or command may take before the caller treats Redis as away
    # (pages then skip caches and statistics instead of hanging).
    REDIS_TIMEOUT_SECONDS: float = field(default_factory=lambda: float(_env("REDIS_TIMEOUT_SECONDS", "2")))
    # Longest wait between two tries of `flask worker` / `flask scheduler` while Redis or the
    # database is away (the wait doubles from 1 s up to this), and the delay before a job that
    # failed for that reason runs again.
    OUTAGE_RETRY_SECONDS: float = field(default_factory=lambda: float(_env("OUTAGE_RETRY_SECONDS", "30")))
    # Prefix of every RQ queue name, so test runs and the demo do not share queues.
    QUEUE_PREFIX: str = field(default_factory=lambda: _env("QUEUE_PREFIX", "community"))
    # MQTT broker the ingest service subscribes to. 1884, not 1883: the project runs its own
    # Mosquitto (broker/mosquitto.conf: persistence, no queue limit, device accounts and ACLs),
    # and a Debian machine's own Mosquitto already holds 1883 with a config that drops messages.
    MQTT_HOST: str = field(default_factory=lambda: _env("MQTT_HOST", "127.0.0.1"))
    MQTT_PORT: int = field(default_factory=lambda: int(_env("MQTT_PORT", "1884")))
    # The address the project's broker listens on (scripts/broker.sh); TLS set-up: docs/devices.md.
    MQTT_BROKER_BIND: str = field(default_factory=lambda: _env("MQTT_BROKER_BIND", "127.0.0.1"))
    # The broker account of the ingest and of linkage commands (devices sign in with code and
    # key). The name cannot be a device code ('@'); an empty password means the one generated
    # into DATA_DIR/broker/service-password on first use (mode 600) and reused by every process.
    MQTT_USERNAME: str = field(default_factory=lambda: _env("MQTT_USERNAME", "ingest@service"))
    MQTT_PASSWORD: str = field(default_factory=lambda: _env("MQTT_PASSWORD", ""))
    # The community's time zone: pages and reports show times in it; storage is UTC.
    COMMUNITY_TZ: str = field(default_factory=lambda: _env("COMMUNITY_TZ", "Asia/Shanghai"))
    # Seconds between sweeps for timers whose RQ job was lost.
    TIMER_SWEEP_SECONDS: int = field(default_factory=lambda: int(_env("TIMER_SWEEP_SECONDS", "60")))
    # Seconds a process trusts its parsed process files before checking the deployment marker
    # again: a deploy reaches every process (web, workers, ingest) within this time.
    PROCESS_RELOAD_SECONDS: float = field(default_factory=lambda: float(_env("PROCESS_RELOAD_SECONDS", "2")))
    # Largest process or decision file accepted by a deploy, in bytes.
    PROCESS_FILE_MAX_BYTES: int = field(default_factory=lambda: int(_env("PROCESS_FILE_MAX_BYTES", str(2 * 1024 * 1024))))
    # Most recent cases a decision-table impact preview runs again (the newest first; the
    # answer says when more were cut): keeps the preview a matter of seconds.
    PROCESS_IMPACT_MAX_CASES: int = field(default_factory=lambda: int(_env("PROCESS_IMPACT_MAX_CASES", "5000")))
    # Seconds a grid polygon index is trusted before it is reloaded from the database.
    GRID_CACHE_SECONDS: int = field(default_factory=lambda: int(_env("GRID_CACHE_SECONDS", "30")))
    # Seconds the catalogue (categories, departments, alarm types) is trusted before it is
    # read again: a category added in one process shows in every other within this time.
    CATALOGUE_CACHE_SECONDS: float = field(default_factory=lambda: float(_env("CATALOGUE_CACHE_SECONDS", "3")))
    # Where uploaded photos and built reports are kept.
    DATA_DIR: str = field(default_factory=lambda: _env("DATA_DIR", str(ROOT / "var")))
    # Largest request body accepted (photos included), in bytes.
    MAX_CONTENT_LENGTH: int = field(default_factory=lambda: int(_env("MAX_CONTENT_LENGTH", str(16 * 1024 * 1024))))
    # Interface language by default (zh) and the ones offered.
    BABEL_DEFAULT_LOCALE: str = field(default_factory=lambda: _env("DEFAULT_LOCALE", "zh"))
    LANGUAGES: tuple = ("zh", "en")
    # Rate-limit counters live in Redis so every gunicorn worker shares them.
    RATELIMIT_ENABLED: bool = field(default_factory=lambda: _bool(_env("RATELIMIT_ENABLED", "true")))
    # Session cookies: sent over HTTPS only when this is set (behind TLS in production).
    SESSION_COOKIE_SECURE: bool = field(default_factory=lambda: _bool(_env("SESSION_COOKIE_SECURE", "false")))
    # Reports: the CJK font named in the PDF's CSS (fonts-wqy-microhei renders ~5x faster than Noto),
    # how many overdue/reworked cases a report lists at most, and the monthly run as a UTC cron string
    # (RQ 2.12 reads cron in UTC: 01:00 UTC on the 1st is 09:00 on the 1st in Asia/Shanghai).
    REPORT_FONT: str = field(default_factory=lambda: _env("REPORT_FONT", "WenQuanYi Micro Hei"))
    REPORT_CASE_LIST_LIMIT: int = field(default_factory=lambda: int(_env("REPORT_CASE_LIST_LIMIT", "40")))
    REPORT_MONTHLY_CRON: str = field(default_factory=lambda: _env("REPORT_MONTHLY_CRON", "0 1 1 * *"))
    # MQTT ingest (``flask ingest mqtt``). The client id names the broker-side persistent session
    # (MQTT 5, clean_start off): keep it fixed per ingest process. Several processes share the
    # work with a shared subscription group ($share/<group>/...); empty: a plain subscription.
    MQTT_CLIENT_ID: str = field(default_factory=lambda: _env("MQTT_CLIENT_ID", "community-ingest"))
    MQTT_SHARED_GROUP: str = field(default_factory=lambda: _env("MQTT_SHARED_GROUP", ""))
    # Seconds the broker keeps the session (and queues messages) while the ingest is away.
    MQTT_SESSION_EXPIRY: int = field(default_factory=lambda: int(_env("MQTT_SESSION_EXPIRY", str(7 * 86400))))
    # Unacknowledged messages the broker may send ahead (MQTT 5 receive maximum): messages are
    # acknowledged only after their batch commits, and Mosquitto's default of 20 would starve it.
    MQTT_RECEIVE_MAXIMUM: int = field(default_factory=lambda: int(_env("MQTT_RECEIVE_MAXIMUM", "2000")))
    # Devices put their key in every MQTT payload; false only where the broker authenticates devices.
    MQTT_REQUIRE_KEY: bool = field(default_factory=lambda: _bool(_env("MQTT_REQUIRE_KEY", "true")))
    # A batch of messages is committed at once: at most this many, gathered for at most this long.
    INGEST_BATCH_SIZE: int = field(default_factory=lambda: int(_env("INGEST_BATCH_SIZE", "500")))
    INGEST_BATCH_MS: int = field(default_factory=lambda: int(_env("INGEST_BATCH_MS", "20")))
    # Message ids are remembered this long, so a redelivered message is applied once.
    INGEST_DEDUP_HOURS: int = field(default_factory=lambda: int(_env("INGEST_DEDUP_HOURS", "48")))
    DEAD_LETTER_DAYS: int = field(default_factory=lambda: int(_env("DEAD_LETTER_DAYS", "30")))
    # A device silent this long is marked offline and raises a device_offline alarm.
    DEVICE_OFFLINE_SECONDS: int = field(default_factory=lambda: int(_env("DEVICE_OFFLINE_SECONDS", "900")))
    # Period of the offline check and of the sweep for alarm work whose job was lost.
    DEVICE_SWEEP_SECONDS: int = field(default_factory=lambda: int(_env("DEVICE_SWEEP_SECONDS", "60")))
    # Seconds the device directory of the ingest is trusted before it is reloaded.
    DEVICE_CACHE_SECONDS: int = field(default_factory=lambda: int(_env("DEVICE_CACHE_SECONDS", "60")))
    # Events one device may send over HTTP, and one address (a gateway for many devices), as
    # Flask-Limiter rates; they replace API_RATE_LIMIT on that endpoint.
    DEVICE_EVENT_RATE_LIMIT: str = field(default_factory=lambda: _env("DEVICE_EVENT_RATE_LIMIT", "120/minute"))
    DEVICE_EVENT_IP_RATE_LIMIT: str = field(
        default_factory=lambda: _env("DEVICE_EVENT_IP_RATE_LIMIT", "6000/minute"))
    # Webhook pushes: seconds between retries (their count is the number of retries), timeout.
    WEBHOOK_RETRY_SECONDS: tuple = field(
        default_factory=lambda: _ints(_env("WEBHOOK_RETRY_SECONDS", "10,60,300,1800,7200")))
    WEBHOOK_TIMEOUT_SECONDS: float = field(default_factory=lambda: float(_env("WEBHOOK_TIMEOUT_SECONDS", "5")))
    # Access control (7.3.3, 7.3.8): minutes an account stays locked after too many failed
    # logins; the API rate for users' tokens (API clients carry their own); audit retention
    # in days (at least 30: younger entries cannot be deleted).
    LOCKOUT_MINUTES: int = field(default_factory=lambda: int(_env("LOCKOUT_MINUTES", "15")))
    # Sign-in: the lockout above holds one account for one address (an attacker elsewhere
    # cannot lock the owner out) and doubles with each lockout up to this many minutes; each
    # address may also try only this often (Flask-Limiter rate), whichever account it names.
    LOCKOUT_MAX_MINUTES: int = field(default_factory=lambda: int(_env("LOCKOUT_MAX_MINUTES", "1440")))
    LOGIN_RATE_LIMIT: str = field(default_factory=lambda: _env("LOGIN_RATE_LIMIT", "10 per minute;60 per hour"))
    API_RATE_LIMIT: str = field(default_factory=lambda: _env("API_RATE_LIMIT", "600/minute"))
    AUDIT_RETENTION_DAYS: int = field(default_factory=lambda: max(30, int(_env("AUDIT_RETENTION_DAYS", "180"))))
    # Log SQL statements (debugging only).
    SQL_ECHO: bool = field(default_factory=lambda: _bool(_env("SQL_ECHO", "false")))
    # SM4 key (32 hex digits, 128 bits) encrypting personal fields (phones, ID numbers) at rest.
    # Unset: generated once into DATA_DIR/keys/sm4_key (mode 600); the GB/T 32907 sample key and
    # other published values are refused. Retired keys (comma-separated) only decrypt: set the
    # one `flask keys rotate-sm4` replaced while processes started before the rotation run.
    SM4_KEY: str | None = field(default_factory=lambda: os.environ.get("SM4_KEY"))
    SM4_RETIRED_KEYS: tuple = field(
        default_factory=lambda: tuple(k.strip() for k in _env("SM4_RETIRED_KEYS", "").split(",") if k.strip()))
    # Where SM4_KEY came from: the key file when it was generated, empty when configured.
    SM4_KEY_FILE: str = ""
    # Per-IP limits (Flask-Limiter syntax) on the public request form, the tracking lookup
    # and Open311 POST requests.
    REQUEST_RATE_LIMIT: str = field(default_factory=lambda: _env("REQUEST_RATE_LIMIT", "5 per minute;30 per hour"))
    TRACK_RATE_LIMIT: str = field(default_factory=lambda: _env("TRACK_RATE_LIMIT", "20 per minute"))
    OPEN311_POST_RATE_LIMIT: str = field(default_factory=lambda: _env("OPEN311_POST_RATE_LIMIT", "30 per minute"))
    TESTING: bool = False

    def as_flask_config(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def load_settings(overrides: dict | None = None) -> Settings:
    """Read the environment once and apply ``overrides`` (used by tests and the CLI)."""
    settings = Settings()
    for key, value in (overrides or {}).items():
        if not hasattr(settings, key):
            raise KeyError(f"unknown setting {key!r}")
        setattr(settings, key, value)
    settings.DATABASE_OWNER_URL = settings.DATABASE_OWNER_URL or settings.DATABASE_URL
    _settle_keys(settings)
    return settings


def _settle_keys(settings: Settings) -> None:
    """Refuse known or weak keys at start-up; generate the missing ones into DATA_DIR/keys/."""
    folder = keystore.key_dir(settings.DATA_DIR)
    if settings.SECRET_KEY is None:
        settings.SECRET_KEY = keystore.read_or_create_key(folder / keystore.SECRET_KEY_FILE,
                                                          keystore.new_secret_key)
    problem = keystore.secret_key_problem(settings.SECRET_KEY)
    if settings.SM4_KEY is None:
        settings.SM4_KEY_FILE = str(folder / keystore.SM4_KEY_FILE)
        settings.SM4_KEY = keystore.read_or_create_key(Path(settings.SM4_KEY_FILE), keystore.new_sm4_key)
    problem = problem or keystore.sm4_key_problem(settings.SM4_KEY)
    for retired in settings.SM4_RETIRED_KEYS:
        problem = problem or keystore.sm4_key_problem(retired, "SM4_RETIRED_KEYS")
    if problem:
        raise ValueError(problem)
