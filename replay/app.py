"""The application factory: it only wires things together."""
from __future__ import annotations

import secrets
from typing import Any, Mapping

from flask import Flask
from redis import Redis
from werkzeug.middleware.proxy_fix import ProxyFix

from replay.api import routes as api_routes
from replay.core import redis_conn
from replay.core import settings as settings_mod
from replay.core.accounts import Accounts
from replay.core.keys import RedisKeys
from replay.ingest import log_routes
from replay.ingest import routes as ingest_routes
from replay.ingest import server_routes
from replay.ingest.flush import request_flush
from replay.ingest.proxy_logs import ProxyLogs
from replay.ingest.server_events import ServerEvents
from replay.ingest.service import Ingest
from replay.ingest.sockets import SocketCaps
from replay.storage.store import make_store
from replay.viewer import alerts_page, deletion, export, pages, session_view, settings_page, share_routes
from replay.web import assets, bounded_deflate, errors, health, security
from replay.web.extensions import sock
from replay.web.paths import static_dir, templates_dir
from replay.web.services import EXTENSION, Services


def create_app(overrides: Mapping[str, Any] | None = None, redis: Redis | None = None) -> Flask:
    settings = settings_mod.load(overrides)
    app = Flask(__name__, template_folder=str(templates_dir()), static_folder=str(static_dir()),
                static_url_path="/static")
    # Two pools: ingest's own, so that the viewer and the API never wait behind a storm of sockets for a
    # connection (a client given by the caller serves both).
    ingest_redis = redis or redis_conn.connect(settings, settings.INGEST_REDIS_MAX_CONNECTIONS)
    redis = redis or redis_conn.connect(settings)
    keys = RedisKeys.of(settings)

    def flush(session: str, delay_ms: int) -> None:
        request_flush(ingest_redis, keys, session, delay_ms)

    app.extensions[EXTENSION] = Services(settings=settings, redis=redis, keys=keys, accounts=Accounts(redis, keys),
                                         store=make_store(settings), diagnose=session_view.call_diagnosis)
    app.extensions[ingest_routes.EXTENSION] = Ingest(settings, ingest_redis, keys, flush)
    app.extensions[ingest_routes.CAPS_EXTENSION] = SocketCaps(settings)
    proxy_logs = app.extensions[log_routes.EXTENSION] = ProxyLogs(settings, ingest_redis, keys)
    app.extensions[server_routes.EXTENSION] = ServerEvents(settings, ingest_redis, keys, proxy_logs.server_keys)
    app.extensions[health.EXTENSION] = health.HealthState(redis, settings)
    app.config.update(
        SECRET_KEY=settings.SECRET_KEY or _shared_secret(redis, keys),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.PUBLIC_URL.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=settings.LOGIN_TTL_S,
        MAX_CONTENT_LENGTH=settings.MAX_HTTP_BATCH_BYTES * 2,
        SOCK_SERVER_OPTIONS={"max_message_size": settings.MAX_MESSAGE_BYTES, "ping_interval": 25},
    )
    if settings.TRUSTED_PROXIES:
        # Only then is X-Forwarded-For believed (it names the client failed logins are counted by).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.TRUSTED_PROXIES, x_proto=0)
    errors.init_app(app)
    app.after_request(security.nosniff)
    bounded_deflate.install(settings.MAX_MESSAGE_BYTES)
    sock.init_app(app)
    for module in (health, ingest_routes, log_routes, server_routes, assets, api_routes, pages, settings_page,
                   alerts_page, share_routes, export, deletion):
        app.register_blueprint(module.bp)
    return app


def _shared_secret(redis: Redis, keys: RedisKeys) -> str:
    """One generated signing key for every web process on this Redis."""
    key = keys.prefix + "secret_key"
    redis.set(key, secrets.token_urlsafe(48), nx=True)
    return redis.get(key).decode()
