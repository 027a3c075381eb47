"""Every setting of the system, read once from the environment.

Nothing else reads ``os.environ``. Each setting has a default that runs on one machine:
SQLite under ``var/``, Redis and Mosquitto on localhost.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


@dataclass
class Settings:
    # Signs sessions, CSRF tokens and API bearer tokens. Set it in production.
    SECRET_KEY: str = field(default_factory=lambda: _env("SECRET_KEY", "dev-only-change-me"))
    # SQLAlchemy URL; SQLite by default, PostgreSQL with postgresql+psycopg://...
    DATABASE_URL: str = field(
        default_factory=lambda: _env("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'community.db'}")
    )
    # Redis holding the RQ queues and short-lived caches.
    REDIS_URL: str = field(default_factory=lambda: _env("REDIS_URL", "redis://127.0.0.1:6379/0"))
    # Prefix of every RQ queue name, so test runs and the demo do not share queues.
    QUEUE_PREFIX: str = field(default_factory=lambda: _env("QUEUE_PREFIX", "community"))
    # MQTT broker the ingest service subscribes to.
    MQTT_HOST: str = field(default_factory=lambda: _env("MQTT_HOST", "127.0.0.1"))
    MQTT_PORT: int = field(default_factory=lambda: int(_env("MQTT_PORT", "1883")))
    # The community's time zone: pages and reports show times in it; storage is UTC.
    COMMUNITY_TZ: str = field(default_factory=lambda: _env("COMMUNITY_TZ", "Asia/Shanghai"))
    # Seconds between sweeps for timers whose RQ job was lost.
    TIMER_SWEEP_SECONDS: int = field(default_factory=lambda: int(_env("TIMER_SWEEP_SECONDS", "60")))
    # Seconds a grid polygon index is trusted before it is reloaded from the database.
    GRID_CACHE_SECONDS: int = field(default_factory=lambda: int(_env("GRID_CACHE_SECONDS", "30")))
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
    # Log SQL statements (debugging only).
    SQL_ECHO: bool = field(default_factory=lambda: _bool(_env("SQL_ECHO", "false")))
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
    return settings
