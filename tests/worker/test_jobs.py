"""The flush job end to end: real buffer, real Redis, real object store (folder and S3)."""
from __future__ import annotations

import gzip
import json

import pytest
from minio import Minio

from tests.conftest import free_port
from tests import samples
from tests.samples import SITE, T0
from replay.ingest import flush as schedule
from worker import jobs
from replay.index import sessions as index
from replay.storage import recording
from replay.core.keys import manifest_key, segment_key, segments_prefix
from replay.storage.store import StorageError

S = "sess_jobs_0123456789"
WA, WB = "win_aaaaaaaaaaaa", "win_bbbbbbbbbbbb"


def start_session(ctx, batches=None) -> int:
    ctx.redis.hset(ctx.keys.session_meta(S), mapping={"project": "proj-key", "ua": "Mozilla/5.0 test",
                                                      "first_seen_ms": T0, "last_seen_ms": T0})
    return samples.append_all(ctx.buffer, S, batches or samples.checkout_session())


def test_flush_stores_segments_manifest_and_index(ctx):
    total = start_session(ctx)
    result = jobs.flush_session(S)
    assert result["records"] == 4 and result["remaining"] == 0

    # One gzip JSON segment per window, named by its seq range.
    assert sorted(ctx.store.list(segments_prefix(S))) == [segment_key(S, WA, 1, 3), segment_key(S, WB, 1, 1)]
    segment = json.loads(gzip.decompress(ctx.store.get(segment_key(S, WA, 1, 3))))
    assert (segment["session"], segment["window"]) == (S, WA)
    assert [b["seq"] for b in segment["batches"]] == [1, 2, 3]
    assert segment["batches"][0]["url"] == SITE + "/cart"
    # The masked password input is stored as the snippet sent it: masked.
    [typed] = [e for e in segment["batches"][0]["events"] if isinstance(e, dict) and e.get("type") == 3]
    assert typed["data"]["text"] == "********"
    # Credential headers never reach storage, even when a modified snippet sends them.
    [stored_502] = [e for e in segment["batches"][1]["events"] if e["data"]["payload"].get("status") == 502]
    assert "authorization" not in stored_502["data"]["payload"]["requestHeaders"]
    assert "set-cookie" not in stored_502["data"]["payload"]["responseHeaders"]
    assert stored_502["data"]["payload"]["responseHeaders"]["server"] == "nginx/1.22.1"

    m = recording.load_manifest(ctx.store, S)
    assert (m["session"], m["project"], m["user_agent"]) == (S, "proj-key", "Mozilla/5.0 test")
    assert (m["started_ms"], m["ended_ms"], m["duration_ms"]) == (T0, T0 + 600, 600)
    assert m["counts"] == {"events": total, "network": 3, "network_failures": 2, "console_errors": 1, "exceptions": 1,
                           "rage_clicks": 0, "dead_clicks": 0, "retries": 0}
    assert m["user"]["id"] == "u-42" and m["user"]["traits"] == {"plan": "pro"}
    assert [(p["url"], p["window"]) for p in m["pages"]] == [(SITE + "/cart", WA), (SITE + "/help", WB)]
    # Each window's clock offset: its quickest batch arrived this long after its last event.
    assert m["windows"] == {WA: {"seqs": [[1, 3]], "clock_offset_ms": 699}, WB: {"seqs": [[1, 1]], "clock_offset_ms": 400}}
    bad, no_response = m["network_failures"]
    assert (bad["method"], bad["url"], bad["status"], bad["status_text"]) == (
        "POST", SITE + "/api/orders?x=1", 502, "Bad Gateway")
    assert (bad["window"], bad["seq"], bad["ts"], bad["start_ms"], bad["end_ms"]) == (WA, 2, T0 + 200, T0 + 200, T0 + 241)
    assert bad["response_headers"] == {"server": "nginx/1.22.1", "content-type": "text/html"}
    assert bad["request_headers"] == {"content-type": "application/json"}  # never the credentials
    assert "502 Bad Gateway" in bad["response_body"] and bad["response_size"] == 157
    assert (no_response["status"], no_response["error"], no_response["window"]) == (0, "network", WB)
    assert [(e["kind"], e["message"]) for e in m["errors"]] == [
        ("console_error", 'Failed to load orders {"id":1}'), ("exception", "TypeError: x is undefined")]
    assert m["errors"][1]["line"] == 12 and m["errors"][1]["stack"].startswith("TypeError")
    assert sorted(m["segments"]) == sorted(ctx.store.list(segments_prefix(S)))

    # Indexed: found by code, class, no-response, user, project and failed URL.
    def found(**filters):
        return [s["session"] for s in index.query_sessions(ctx.redis, ctx.keys, **filters)]

    for filters in ({"status": "502"}, {"status": "5xx"}, {"status": "error"}, {"user": "u-42"},
                    {"project": "proj-key"}, {"url": "/api/orders"}, {"url": "API/ORDERS"},
                    {"url": SITE + "/api/orders?x=1"}, {"url": "/api/chat"}, {"status": 502, "user": "u-42"}):
        assert found(**filters) == [S], filters
    assert found(status="404") == [] and found(url="x=1") == []
    summary = index.get_summary(ctx.redis, ctx.keys, S)
    assert summary["statuses"] == [0, 502] and summary["first_url"] == SITE + "/cart"
    assert summary["failed_urls"] == [SITE + "/api/orders", SITE + "/api/chat"]

    # Drained: buffer trimmed, lock gone, off the flush schedule.
    assert ctx.buffer.length(S) == 0 and ctx.buffer.size_bytes(S) == 0
    assert not ctx.redis.exists(ctx.keys.flush_lock(S))
    assert schedule.due_at(ctx.redis, ctx.keys, S) is None

    events = list(recording.iter_events(ctx.store, S))
    assert len(events) == total
    stamps = [e["timestamp"] for e in events if isinstance(e, dict) and isinstance(e.get("timestamp"), int)]
    assert stamps == sorted(stamps)
    assert len(stamps) == total - 3  # all but the three malformed events without a usable timestamp


def test_a_stored_session_missing_from_the_index_flushes_into_its_manifest(ctx):
    """The first flush of a session not indexed reads no manifest; one it finds stored anyway is merged into."""
    total = start_session(ctx)
    jobs.flush_session(S)
    index.drop_index(ctx.redis, ctx.keys)  # as `replay reindex` does while pages are still recording
    ctx.buffer.append(S, WA, 4, [samples.failed_502(SITE + "/api/orders", T0 + 700)], T0 + 2000)
    jobs.flush_session(S)
    m = recording.load_manifest(ctx.store, S)
    assert m["windows"][WA]["seqs"] == [[1, 4]] and m["windows"][WB]["seqs"] == [[1, 1]]
    assert m["counts"]["events"] == total + 1
    assert len(list(recording.iter_events(ctx.store, S))) == total + 1
    assert [s["session"] for s in index.query_sessions(ctx.redis, ctx.keys)] == [S]


class FailOnce:
    """Wraps a real store; the first write of a key matching `part` fails as a broken server would."""

    def __init__(self, store, part: str):
        self.store, self.part, self.failed = store, part, False

    def put(self, key, data, content_type="application/octet-stream"):
        self._fail_once(key)
        self.store.put(key, data, content_type)

    def put_new(self, key, data, content_type="application/octet-stream"):
        self._fail_once(key)
        return self.store.put_new(key, data, content_type)

    def _fail_once(self, key):
        if self.part in key and not self.failed:
            self.failed = True
            raise StorageError(f"injected failure writing {key}")

    def __getattr__(self, name):
        return getattr(self.store, name)


def test_crash_after_segments_then_retry_has_no_duplicates(ctx):
    total = start_session(ctx)
    real = ctx.store
    ctx.store = FailOnce(real, "manifest.json")
    with pytest.raises(StorageError):
        jobs.flush_session(S)
    assert ctx.buffer.length(S) == 4  # nothing trimmed
    assert not real.exists(manifest_key(S)) and len(list(real.list(segments_prefix(S)))) == 2
    assert not ctx.redis.exists(ctx.keys.flush_lock(S))  # the failed job let go of its lock

    # More batches arrive before the retry: the retry writes a superset segment.
    ctx.buffer.append(S, WA, 4, [samples.failed_502(SITE + "/api/orders", T0 + 700)], T0 + 2000)
    jobs.flush_session(S)
    assert sorted(real.list(segments_prefix(S))) == sorted(
        [segment_key(S, WA, 1, 3), segment_key(S, WA, 1, 4), segment_key(S, WB, 1, 1)])
    events = list(recording.iter_events(real, S))
    assert len(events) == total + 1
    m = recording.load_manifest(real, S)
    assert m["counts"]["events"] == total + 1 and m["counts"]["network_failures"] == 3
    assert ctx.buffer.length(S) == 0


def test_crash_before_trim_then_retry_changes_nothing(ctx):
    total = start_session(ctx)
    buf, nbytes = ctx.keys.buffer(S), ctx.keys.buffer_bytes(S)
    raw, size = ctx.redis.lrange(buf, 0, -1), ctx.redis.get(nbytes)
    jobs.flush_session(S)
    manifest, segments = recording.load_manifest(ctx.store, S), sorted(ctx.store.list(segments_prefix(S)))
    summary = index.get_summary(ctx.redis, ctx.keys, S)
    # As if the job died after indexing, before the trim: the same records are back in the buffer.
    ctx.redis.rpush(buf, *raw)
    ctx.redis.set(nbytes, size)
    result = jobs.flush_session(S)
    assert result["stored"] == 0 and result["records"] == 4
    assert recording.load_manifest(ctx.store, S) == manifest
    assert sorted(ctx.store.list(segments_prefix(S))) == segments
    assert index.get_summary(ctx.redis, ctx.keys, S) == summary
    assert len(list(recording.iter_events(ctx.store, S))) == total
    assert ctx.buffer.length(S) == 0


def test_second_flush_appends_a_segment_and_updates_counts(ctx):
    total = start_session(ctx)
    jobs.flush_session(S)
    more = [samples.network(504, SITE + "/api/pay", T0 + 5000), samples.identify("u-43", T0 + 5100),
            samples.meta(SITE + "/pay", T0 + 4900)]
    ctx.buffer.append(S, WA, 4, more, T0 + 6000, SITE + "/pay")
    jobs.flush_session(S)
    assert segment_key(S, WA, 4, 4) in set(ctx.store.list(segments_prefix(S)))
    m = recording.load_manifest(ctx.store, S)
    assert m["counts"]["events"] == total + 3 and m["counts"]["network_failures"] == 3
    assert m["ended_ms"] == T0 + 5100 and m["user"]["id"] == "u-43"
    assert m["windows"][WA] == {"seqs": [[1, 4]], "clock_offset_ms": 699}
    assert [p["url"] for p in m["pages"]] == [SITE + "/cart", SITE + "/help", SITE + "/pay"]
    assert [s["session"] for s in index.query_sessions(ctx.redis, ctx.keys, status="504")] == [S]
    # The user changed: the old user's index no longer lists the session.
    assert index.query_sessions(ctx.redis, ctx.keys, user="u-42") == []
    assert [s["session"] for s in index.query_sessions(ctx.redis, ctx.keys, user="u-43")] == [S]


def test_unreachable_storage_fails_the_job_and_keeps_the_buffer(make_ctx):
    ctx = make_ctx("s3", S3_ENDPOINT=f"127.0.0.1:{free_port()}")
    start_session(ctx)
    before = schedule.now_ms()
    with pytest.raises(StorageError):
        jobs.flush_session(S)
    assert ctx.buffer.length(S) == 4
    assert index.get_summary(ctx.redis, ctx.keys, S) is None
    # Due again after the first backoff step, and the lock is free for that retry.
    assert schedule.due_at(ctx.redis, ctx.keys, S) >= before + ctx.settings.FLUSH_RETRY_BASE_MS
    assert not ctx.redis.exists(ctx.keys.flush_lock(S))


def test_removed_bucket_fails_the_job_and_keeps_the_buffer(make_ctx, s3_server):
    ctx = make_ctx("s3")
    start_session(ctx)
    jobs.flush_session(S)
    client = Minio(s3_server["endpoint"], access_key="testing", secret_key="testing", secure=False, region="us-east-1")
    bucket = ctx.settings.S3_BUCKET
    for obj in client.list_objects(bucket, recursive=True):
        client.remove_object(bucket, obj.object_name)
    client.remove_bucket(bucket)
    ctx.buffer.append(S, WA, 4, [samples.network(502, SITE + "/x", T0 + 9000)], T0 + 9000)
    with pytest.raises(StorageError):
        jobs.flush_session(S)
    assert ctx.buffer.length(S) == 1


def test_locked_session_reschedules_and_returns(make_ctx):
    ctx = make_ctx("local")
    start_session(ctx)
    ctx.redis.set(ctx.keys.flush_lock(S), "another-flush")
    ctx.redis.zadd(ctx.keys.flush_due(), {S: schedule.now_ms() + 60_000})  # as the claim's lease left it
    assert jobs.flush_session(S) == {"session": S, "locked": True}
    assert ctx.buffer.length(S) == 4
    # Looked at again soon, in case the holder died before seeing these batches.
    assert schedule.due_at(ctx.redis, ctx.keys, S) <= schedule.now_ms() + jobs.LOCKED_RETRY_MS


def test_empty_buffer_is_a_no_op_that_leaves_the_schedule(make_ctx):
    ctx = make_ctx("local")
    schedule.request_flush(ctx.redis, ctx.keys, S, 0)
    assert jobs.flush_session(S)["records"] == 0
    assert recording.load_manifest(ctx.store, S) is None
    assert schedule.due_at(ctx.redis, ctx.keys, S) is None


def test_bad_session_id_is_refused(make_ctx):
    make_ctx("local")
    with pytest.raises(ValueError):
        jobs.flush_session("../../etc")
