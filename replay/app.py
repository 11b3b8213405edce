"""The application factory: it only wires things together."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Mapping

from flask import Flask, current_app
from redis import Redis

from replay import errors, redis_conn, settings as settings_mod
from replay.accounts import Accounts
from replay.extensions import sock
from replay.ingest import Ingest
from replay.paths import templates_dir, static_dir
from replay.settings import Settings
from worker.keys import RedisKeys


@dataclass
class Services:
    """The clients one web process shares between its requests."""

    settings: Settings
    redis: Redis
    keys: RedisKeys
    accounts: Accounts
    ingest: Ingest
    store: Any  # worker.storage.ObjectStore


def services() -> Services:
    return current_app.extensions["replay"]


def create_app(overrides: Mapping[str, Any] | None = None, redis: Redis | None = None) -> Flask:
    settings = settings_mod.load(overrides)
    app = Flask(__name__, template_folder=str(templates_dir()), static_folder=str(static_dir()),
                static_url_path="/static")
    redis = redis or redis_conn.connect(settings)
    keys = RedisKeys(settings.KEY_PREFIX)

    from worker.scheduling import request_flush
    from worker.storage import make_store

    def flush(session: str, delay_ms: int) -> None:
        request_flush(redis, settings, session, delay_ms)

    app.extensions["replay"] = Services(
        settings=settings, redis=redis, keys=keys, accounts=Accounts(redis, keys),
        ingest=Ingest(settings, redis, keys, flush), store=make_store(settings))
    app.config.update(
        SECRET_KEY=settings.SECRET_KEY or _shared_secret(redis, keys),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.PUBLIC_URL.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=settings.LOGIN_TTL_S,
        MAX_CONTENT_LENGTH=settings.MAX_HTTP_BATCH_BYTES * 2,
        SOCK_SERVER_OPTIONS={"max_message_size": settings.MAX_MESSAGE_BYTES, "ping_interval": 25},
    )
    errors.init_app(app)
    sock.init_app(app)

    from replay import api, assets, export_routes, ingest_routes, pages, share_routes

    for module in (ingest_routes, assets, api, pages, share_routes, export_routes):
        app.register_blueprint(module.bp)
    return app


def _shared_secret(redis: Redis, keys: RedisKeys) -> str:
    """One generated signing key for every web process on this Redis."""
    key = keys.prefix + "secret_key"
    redis.set(key, secrets.token_urlsafe(48), nx=True)
    return redis.get(key).decode()
