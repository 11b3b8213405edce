"""The failed-call groups by confirmed cause and upstream address: counts, the cause filter, idempotent re-flushes."""
from __future__ import annotations

import pytest

from tests.samples import T0
from tests.worker.test_evidence import PROJECT, S, SKEW, access, error, file_lines, start
from replay.index import groups
from replay.index.removal import unindex_session
from replay.index.sessions import index_manifest, query_sessions
from replay.storage import recording
from worker import jobs
from worker.cause_index import index_session_causes
from worker.reindex import reindex


def by_route(ctx, **filters) -> dict:
    return {(g["method"], g["route"], g["status"]): g for g in groups.query_groups(ctx.redis, ctx.keys, **filters)}


ORDERS = ("POST", "/api/orders", 502)
CHAT = ("GET", "/api/chat", 0)


def lines_of_the_502(ctx):
    file_lines(ctx, [access("/api/orders?x=1", 502, T0 + SKEW + 235), error(T0 + SKEW + 220)])


def test_each_group_counts_its_calls_by_confirmed_cause_and_upstream(ctx):
    lines_of_the_502(ctx)
    start(ctx)
    jobs.flush_session(S)
    found = by_route(ctx)
    assert found[ORDERS]["causes"] == {"upstream_refused": 1}
    assert found[ORDERS]["upstreams"] == {"127.0.0.1:9": 1} and found[ORDERS]["upstream_count"] == 1
    # No proxy line for the network error: counted, as unconfirmed, with no upstream.
    assert found[CHAT]["causes"] == {"unconfirmed": 1} and found[CHAT]["upstreams"] == {}


def test_the_cause_filter_keeps_the_groups_with_calls_of_that_cause(ctx):
    lines_of_the_502(ctx)
    start(ctx)
    jobs.flush_session(S)
    assert list(by_route(ctx, cause="upstream_refused")) == [ORDERS]
    assert list(by_route(ctx, cause="unconfirmed")) == [CHAT]
    assert by_route(ctx, cause="upstream_timeout") == {}
    assert list(by_route(ctx, cause="upstream_refused", status="5xx", project=PROJECT)) == [ORDERS]
    assert by_route(ctx, cause="upstream_refused", status="4xx") == {}
    with pytest.raises(ValueError, match="cause is one of upstream_refused"):
        groups.query_groups(ctx.redis, ctx.keys, cause="refused")


def sessions_of(ctx, cause: str, **filters) -> list[str]:
    return [s["session"] for s in query_sessions(ctx.redis, ctx.keys, cause=cause, **filters)]


def test_the_session_list_filters_by_the_cause_of_any_of_its_failed_calls(ctx):
    start(ctx)
    jobs.flush_session(S)
    # Nothing from the proxy yet: both calls unconfirmed.
    assert sessions_of(ctx, "unconfirmed") == [S] and sessions_of(ctx, "upstream_refused") == []
    lines_of_the_502(ctx)
    jobs.flush_session(S)
    assert sessions_of(ctx, "upstream_refused") == [S]
    assert sessions_of(ctx, "upstream_refused", status="502", project=PROJECT) == [S]
    assert sessions_of(ctx, "upstream_refused", status="504") == []
    # The network error is still unconfirmed; no call timed out.
    assert sessions_of(ctx, "unconfirmed") == [S] and sessions_of(ctx, "upstream_timeout") == []
    summary = query_sessions(ctx.redis, ctx.keys, cause="upstream_refused")[0]
    assert summary["started_ms"] == recording.load_manifest(ctx.store, S)["started_ms"]
    with pytest.raises(ValueError, match="cause is one of upstream_refused"):
        query_sessions(ctx.redis, ctx.keys, cause="refused")
    unindex_session(ctx.redis, ctx.keys, S, recording.load_manifest(ctx.store, S))
    assert sessions_of(ctx, "upstream_refused") == [] and sessions_of(ctx, "unconfirmed") == []
    assert ctx.redis.zcard(ctx.keys.sessions_by_cause("upstream_refused")) == 0


def test_reflushing_and_reindexing_count_each_call_once(ctx):
    lines_of_the_502(ctx)
    start(ctx)
    jobs.flush_session(S)
    before = by_route(ctx)
    # A retried flush (nothing left in the buffer), the same lines filed again, a rebuild of the index.
    jobs.flush_session(S)
    lines_of_the_502(ctx)
    jobs.flush_session(S)
    assert by_route(ctx) == before
    assert reindex(ctx) >= 1
    assert by_route(ctx) == before
    assert list(by_route(ctx, cause="upstream_refused")) == [ORDERS]


def test_lines_that_arrive_late_turn_an_unconfirmed_call_into_a_confirmed_one(ctx):
    start(ctx)
    jobs.flush_session(S)
    assert by_route(ctx)[ORDERS]["causes"] == {"unconfirmed": 1}
    # The most recently failing first: the network error came after the 502.
    assert list(by_route(ctx, cause="unconfirmed")) == [CHAT, ORDERS]
    lines_of_the_502(ctx)
    jobs.flush_session(S)
    assert by_route(ctx)[ORDERS]["causes"] == {"upstream_refused": 1}
    assert list(by_route(ctx, cause="unconfirmed")) == [CHAT]
    assert list(by_route(ctx, cause="upstream_refused")) == [ORDERS]


def test_a_second_session_adds_to_the_same_group(ctx):
    lines_of_the_502(ctx)
    start(ctx)
    jobs.flush_session(S)
    other = "sess_evidence_other_000001"
    manifest = {**recording.load_manifest(ctx.store, S), "session": other}
    # The other session's 502 had no proxy line: the group counts one of each.
    index_manifest(ctx.redis, ctx.keys, manifest)
    index_session_causes(ctx, manifest)
    assert by_route(ctx)[ORDERS]["causes"] == {"upstream_refused": 1, "unconfirmed": 1}
    unindex_session(ctx.redis, ctx.keys, other, manifest)
    assert by_route(ctx)[ORDERS]["causes"] == {"upstream_refused": 1}


def test_a_session_taken_out_of_the_index_takes_its_counts_and_filters_along(ctx):
    lines_of_the_502(ctx)
    start(ctx)
    jobs.flush_session(S)
    unindex_session(ctx.redis, ctx.keys, S, recording.load_manifest(ctx.store, S))
    assert by_route(ctx) == {} and by_route(ctx, cause="upstream_refused") == {}
    assert not list(ctx.redis.scan_iter(match=ctx.keys.prefix + "idx:group:*"))
    assert ctx.redis.zcard(ctx.keys.groups_by_cause("upstream_refused")) == 0
