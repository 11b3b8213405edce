"""The index's memory per session, by kind: what bench/flush.py and bench/list_queries.py print."""
from __future__ import annotations


def family_of(name: str) -> str:
    """A key's kind: its first two words under idx: and alerts:count:, else its first (ids and values left out;
    a sliced zset's slices and record, name + "#...", are of its kind)."""
    parts = name.split("#")[0].split(":")
    if parts[0] == "alerts" and parts[1:2] == ["count"]:
        return ":".join(parts[:3])
    return ":".join(parts[:2]) if parts[0] == "idx" else parts[0]


# What grows with every indexed session: the index (keys.index_patterns: session:*, idx:*) and the alert
# counts (alerts:count:*, outside idx: since reindex keeps them; each member expires with the baseline).
INDEX_KINDS = ("session", "idx:", "alerts:count:")


def index_bytes(redis, keys) -> tuple[int, int, dict[str, list]]:
    """(bytes, key count, {kind: [bytes, keys, {encoding: keys}]}) of every key that grows per indexed session.

    MEMORY USAGE (samples=0: every member) of each key; keys of other kinds (accounts, RQ, the ingest
    bookkeeping a flush leaves) are not counted.
    """
    total = count = 0
    families: dict[str, list] = {}
    batch: list[bytes] = []

    def measure() -> None:
        nonlocal total, count
        pipe = redis.pipeline(transaction=False)
        for key in batch:
            pipe.memory_usage(key, samples=0)
            pipe.object("encoding", key)
        replies = pipe.execute()
        for key, used, encoding in zip(batch, replies[::2], replies[1::2]):
            entry = families.setdefault(family_of(key.decode()[len(keys.prefix):]), [0, 0, {}])
            entry[0] += used or 0
            entry[1] += 1
            encoding = (encoding or b"?").decode()
            entry[2][encoding] = entry[2].get(encoding, 0) + 1
            total += used or 0
            count += 1
        batch.clear()

    for key in redis.scan_iter(match=keys.prefix + "*", count=1000):
        if family_of(key.decode()[len(keys.prefix):]).startswith(INDEX_KINDS):
            batch.append(key)
            if len(batch) >= 1000:
                measure()
    measure()
    return total, count, families


def report(label: str, redis, keys, sessions: int) -> str:
    """One line: the index's bytes per session, in all and by kind (biggest first)."""
    used, count, families = index_bytes(redis, keys)
    per = max(sessions, 1)
    return (f"{label}index memory {used / 1024:.0f} KiB in {count} keys = {used / per:.0f} B "
            f"per indexed session (MEMORY USAGE of session:*, idx:*, alerts:count:*); by kind, per session: "
            + ", ".join(f"{name} {b / per:.0f} B ({n} keys: " + " ".join(f"{e} {k}" for e, k in sorted(enc.items()))
                        + ")" for name, (b, n, enc) in sorted(families.items(), key=lambda kv: -kv[1][0])))
