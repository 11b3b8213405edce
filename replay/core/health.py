"""Is this service ready: Redis and object storage reachable, the flush queue moving. For /readyz and `replay status`.

What a check reports is safe to show anyone (/readyz is public): whether it
passed, counts and ages, and a failure's kind (an exception's class name), never
a host name, URL or message text; the web log has those.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from redis import Redis
from redis.exceptions import BusyLoadingError, RedisError

from replay.core import backlog
from replay.core.keys import RedisKeys
from replay.core.settings import Settings

# The object a storage check asks about: whether it exists does not matter, only that the store answers.
PROBE_KEY = "health/readyz-probe"


@dataclass
class Report:
    checks: dict[str, dict] = field(default_factory=dict)
    # What failed, with the exceptions' own words: for the log, never for the answer.
    notes: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return all(c["ok"] for c in self.checks.values())

    @property
    def failed(self) -> list[str]:
        return [name for name, c in self.checks.items() if not c["ok"]]

    def as_dict(self) -> dict:
        return {"ok": self.ready, "failed": self.failed, "checks": self.checks}


def check(redis: Redis, keys: RedisKeys, store, settings: Settings, queue_redis: Redis | None = None) -> Report:
    """Each check in turn; the queue is checked only when Redis answered. `store`: an ObjectStore.
    `queue_redis`: the queue's Redis when it is another one (QUEUE_REDIS_URL)."""
    report = Report()
    report.checks["redis"] = _redis(redis, report.notes)
    report.checks["storage"] = _storage(store, report.notes)
    if report.checks["redis"]["ok"]:
        report.checks["queue"] = _queue(redis, keys, settings, report.notes, queue_redis)
    else:
        report.checks["queue"] = {"ok": False, "error": "redis_unreachable"}
    return report


def _redis(redis: Redis, notes: list[str]) -> dict:
    try:
        redis.ping()
        # PING answers while Redis loads its data; a read does not.
        redis.exists(PROBE_KEY)
        return {"ok": True}
    except BusyLoadingError:
        return {"ok": False, "error": "loading"}
    except RedisError as exc:
        notes.append(f"redis: {type(exc).__name__}: {exc}")
        return {"ok": False, "error": type(exc).__name__}


def _storage(store, notes: list[str]) -> dict:
    try:
        store.exists(PROBE_KEY)
        return {"ok": True}
    except Exception as exc:  # noqa: BLE001 - any failure of the store means "not ready"; its kind is reported
        notes.append(f"storage: {type(exc).__name__}: {exc}")
        return {"ok": False, "error": type(exc).__name__}


def _queue(redis: Redis, keys: RedisKeys, settings: Settings, notes: list[str], queue_redis: Redis | None) -> dict:
    try:
        now = backlog.read(redis, keys, settings.QUEUE_NAME, queue_redis)
    except RedisError as exc:
        notes.append(f"queue: {type(exc).__name__}: {exc}")
        return {"ok": False, "error": type(exc).__name__}
    stuck = []
    if now.oldest_job_age_s > settings.READY_MAX_JOB_AGE_S:
        stuck.append("oldest_job_too_old")
    if now.oldest_due_age_s > settings.READY_MAX_FLUSH_LAG_S:
        stuck.append("flush_overdue")
    result = {"ok": not stuck, **now.as_dict()}
    if stuck:
        result["error"] = ",".join(stuck)
        notes.append(f"queue: {result['error']} (oldest job {now.oldest_job_age_s:.0f} s, most overdue flush "
                     f"{now.oldest_due_age_s:.0f} s late, {now.workers} workers)")
    return result


STATUS_ROWS = [("queue_depth", "queue depth", ""), ("oldest_job_age_s", "oldest queued job", " s"),
               ("due_flushes", "due flushes", ""), ("oldest_due_age_s", "most overdue flush", " s"),
               ("failed_jobs", "failed jobs", ""), ("workers", "workers alive", ""),
               ("sessions_indexed", "sessions indexed", "")]


def status_lines(report: Report) -> list[str]:
    """`replay status`: the same checks and backlog as /readyz, for a terminal."""
    head = "ready" if report.ready else "NOT READY: " + ", ".join(report.failed)
    lines = [f"replay: {head}"]
    for name in ("redis", "storage", "queue"):
        c = report.checks[name]
        lines.append(f"  {name:<20}{'ok' if c['ok'] else 'FAILED (' + c.get('error', '?') + ')'}")
    queue = report.checks["queue"]
    for key, label, unit in STATUS_ROWS:
        if key in queue:
            shown = f"{queue[key]:.1f}" if isinstance(queue[key], float) else queue[key]
            lines.append(f"  {label:<20}{shown}{unit}")
    return lines
