"""`replay worker`: an RQ worker (with its scheduler) on the configured Redis."""
from __future__ import annotations

from rq import Queue, Worker

from replay.core.settings import Settings
from worker.context import Context, configure
from worker.sweep import schedule_sweep


def run_worker(settings: Settings, burst: bool = False, context: Context | None = None) -> bool:
    """Build the clients once, then work the flush queue; returns whether any job ran."""
    # Configured before RQ forks a work-horse per job: each horse inherits these clients
    # (redis-py pools reconnect after a fork by checking the pid).
    ctx = configure(context or Context(settings))
    # Fail at start, not at the first job, when storage is misconfigured.
    ctx.store.prepare()
    if not burst:
        schedule_sweep(ctx.redis, ctx.settings)
    queue = Queue(settings.QUEUE_NAME, connection=ctx.redis)
    worker = Worker([queue], connection=ctx.redis)
    # The scheduler moves delayed flushes (debounce) and retry waits onto the queue when due.
    return worker.work(burst=burst, with_scheduler=True)
