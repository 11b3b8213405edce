"""After the join: the session's failed calls counted by confirmed cause and upstream address (replay/index/causes.py)."""
from __future__ import annotations

from replay.index.causes import index_causes
from replay.storage.evidence import load_evidence
from replay.storage.manifest import failure_groups
from worker.context import Context


def index_session_causes(ctx: Context, manifest: dict) -> None:
    """Index the causes of the session's failed calls from its stored evidence (read only when it has failed calls)."""
    evidence = load_evidence(ctx.store, manifest["session"]) if failure_groups(manifest) else {}
    index_causes(ctx.redis, ctx.keys, manifest, evidence)
