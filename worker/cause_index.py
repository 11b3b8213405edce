"""After the join: the session's failed calls counted by confirmed cause and upstream address (replay/index/causes.py),
and its recent ones where alert rules count them (replay/index/alert_counts.py)."""
from __future__ import annotations

import time

from replay.index.alert_counts import record_calls
from replay.index.causes import index_causes
from replay.storage.evidence import load_evidence
from replay.storage.manifest import failure_groups
from worker.context import Context


def index_session_causes(ctx: Context, manifest: dict) -> None:
    """Index the causes of the session's failed calls from its stored evidence (read only when it has failed calls)."""
    evidence = load_evidence(ctx.store, manifest["session"]) if failure_groups(manifest) else {}
    index_causes(ctx.redis, ctx.keys, manifest, evidence)
    record_calls(ctx.redis, ctx.keys, manifest, evidence, int(time.time() * 1000), ctx.settings.ALERT_BASELINE_S)
