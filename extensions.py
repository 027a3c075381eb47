"""Unbound handles to the outside: database, Redis, queues. Bound in ``create_app``.

No connection opens at import time; Redis connects on first use.
"""
from __future__ import annotations

from flask import Flask
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Queue
from sqlalchemy import MetaData
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# Objects stay readable after a commit: answers are shaped from them without reloading.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# Storage comes from RATELIMIT_STORAGE_URI (Redis), set in create_app.
limiter = Limiter(key_func=get_remote_address, default_limits=[])


class RedisHandle:
    """One Redis client per process, created on first use."""

    def __init__(self) -> None:
        self._url: str | None = None
        self._client: Redis | None = None
        self._timeout = 2.0
        self.queue_prefix = "community"

    def init_app(self, app: Flask) -> None:
        self._url = app.config["REDIS_URL"]
        self._timeout = app.config["REDIS_TIMEOUT_SECONDS"]
        self.queue_prefix = app.config["QUEUE_PREFIX"]
        self._client = None
        app.extensions["redis"] = self

    @property
    def client(self) -> Redis:
        if self._client is None:
            if self._url is None:
                raise RuntimeError("Redis is not bound: call init_app first")
            # Bounded waits: a Redis that hangs costs a request seconds, never a worker for good.
            # The RQ worker raises the read timeout above its blocking pop by itself.
            self._client = Redis.from_url(self._url, socket_connect_timeout=self._timeout,
                                          socket_timeout=self._timeout)
        return self._client

    def queue(self, name: str = "default") -> Queue:
        return Queue(f"{self.queue_prefix}-{name}", connection=self.client)


redis = RedisHandle()


def is_outage(exc: BaseException) -> bool:
    """True when ``exc`` says Redis or the database cannot be reached right now (refused,
    timed out, connection dropped by a restart), as opposed to a bug or bad data: the caller
    may answer 503 or try again later."""
    if isinstance(exc, (RedisConnectionError, RedisTimeoutError)):
        return True
    # No statement: the connection itself failed; invalidated: the server dropped it mid-way.
    # A statement the database refused (a bug, bad data, a lock) is neither.
    return isinstance(exc, DBAPIError) and (exc.statement is None or exc.connection_invalidated)


def outage_of(exc: BaseException) -> str:
    """Which service an outage error is about: "redis" or "database"."""
    return "redis" if isinstance(exc, (RedisConnectionError, RedisTimeoutError)) else "database"
