"""The service's own health: /healthz and /readyz for load balancers, /metrics for Prometheus.

/healthz and /readyz are public and say nothing secret (replay/core/health.py).
/metrics is private: an API token (`Authorization: Bearer`, as the JSON API) or
a client address in METRICS_ALLOW.
"""
from __future__ import annotations

import ipaddress
import logging
import os
import threading

from flask import Blueprint, Response, current_app, jsonify, request
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess

from replay.core import health, metrics  # noqa: F401 - metrics: this process's families exist before a scrape
from replay.core import redis_conn
from replay.core.scrape import RedisCollector
from replay.web.errors import ApiError
from replay.web.services import services

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)

EXTENSION = "replay.health"
# The text format generate_latest writes, as every Prometheus version reads it.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class HealthState:
    """Per process: the probe's Redis client, the metrics allow-list, and whether the last /readyz was ready."""

    def __init__(self, redis, settings):
        self.probe_redis = redis_conn.probe_client(redis, settings.READY_TIMEOUT_S)
        # The RQ queue's Redis, when QUEUE_REDIS_URL names another one (None: the same).
        self.probe_queue = redis_conn.probe_client(redis_conn.queue_connect(settings), settings.READY_TIMEOUT_S) \
            if settings.QUEUE_REDIS_URL else None
        self.allow = allowed_networks(settings.METRICS_ALLOW)
        self.ready: bool | None = None
        self._lock = threading.Lock()

    def changed(self, ready: bool) -> bool:
        with self._lock:
            was, self.ready = self.ready, ready
            return was != ready


def allowed_networks(value: str) -> tuple:
    """METRICS_ALLOW as networks; a bad entry stops the start with its name."""
    try:
        return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in value.split(",") if part.strip())
    except ValueError as exc:
        raise SystemExit(f"REPLAY_METRICS_ALLOW: {exc}") from exc


def _state() -> HealthState:
    return current_app.extensions[EXTENSION]


@bp.route("/healthz")
def healthz():
    """The process is up and serving requests; nothing else is asked."""
    return jsonify({"ok": True})


@bp.route("/readyz")
def readyz():
    svc, state = services(), _state()
    report = health.check(state.probe_redis, svc.keys, svc.store, svc.settings, state.probe_queue)
    if state.changed(report.ready):
        if report.ready:
            log.info("ready: Redis, object storage and the flush queue are fine")
        else:
            log.warning("not ready: %s", "; ".join(report.notes), extra={"failed": report.failed})
    response = jsonify(report.as_dict())
    response.status_code = 200 if report.ready else 503
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/metrics")
def metrics_page():
    _check_metrics_access()
    svc = services()
    redis_registry = CollectorRegistry(auto_describe=False)
    redis_registry.register(RedisCollector(_state().probe_redis, svc.keys, svc.settings.QUEUE_NAME, _state().probe_queue))
    body = _process_metrics() + generate_latest(redis_registry)
    return Response(body, mimetype=None, headers={"Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"})


def _process_metrics() -> bytes:
    """This process's counters, or under `replay serve` every gunicorn worker's summed (multi-process mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def _check_metrics_access() -> None:
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and services().accounts.check_token(token.strip()):
            return
        raise ApiError(401, "unauthorized", "the bearer token is not valid")
    allow = _state().allow
    if allow and _address_in(request.remote_addr, allow):
        return
    raise ApiError(401 if not allow else 403, "unauthorized" if not allow else "forbidden",
                   "send Authorization: Bearer <token> (replay token create), or list this client's network in "
                   "REPLAY_METRICS_ALLOW")


def _address_in(address: str | None, networks: tuple) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in networks)
