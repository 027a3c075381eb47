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
from rq import Queue
from sqlalchemy import MetaData
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
        self.queue_prefix = "community"

    def init_app(self, app: Flask) -> None:
        self._url = app.config["REDIS_URL"]
        self.queue_prefix = app.config["QUEUE_PREFIX"]
        self._client = None
        app.extensions["redis"] = self

    @property
    def client(self) -> Redis:
        if self._client is None:
            if self._url is None:
                raise RuntimeError("Redis is not bound: call init_app first")
            self._client = Redis.from_url(self._url)
        return self._client

    def queue(self, name: str = "default") -> Queue:
        return Queue(f"{self.queue_prefix}-{name}", connection=self.client)


redis = RedisHandle()
