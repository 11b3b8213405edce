"""Merging records into a manifest: idempotent, capped, and summarised."""
from __future__ import annotations

from tests import samples
from tests.samples import SITE, T0
from replay.storage import manifest as mf
from replay.core.records import Record

S, W = "sess_mf_0123456789", "win_mf_0123456789"


def merge(m, records, max_body_chars=1000):
    return mf.merge(m, records, project="p", user_agent="ua", segment_keys=["k1"], max_body_chars=max_body_chars)


def test_merging_the_same_records_twice_counts_once():
    records = [Record(W, seq, T0, SITE, [samples.network(502, SITE + "/a", T0 + seq)]) for seq in (1, 2, 4)]
    once = merge(mf.new(S), records)
    # Received at T0 with events up to T0 + 4: the browser's clock is (at least) 4 ms ahead.
    assert once["windows"][W] == {"seqs": [[1, 2], [4, 4]], "clock_offset_ms": -4}
    assert merge(once, records) == once
    assert mf.uncovered(once, records + [Record(W, 3, T0, SITE, [])]) == [Record(W, 3, T0, SITE, [])]
    later = merge(once, [Record(W, 3, T0, SITE, [])])
    assert later["windows"][W] == {"seqs": [[1, 4]], "clock_offset_ms": -4} and later["counts"]["network_failures"] == 3


def test_lists_are_capped_but_counts_are_not():
    many = [samples.network(500 + (i % 2), f"{SITE}/u{i % 3}", T0 + i, responseBody="b" * 100) for i in range(600)]
    m = merge(mf.new(S), [Record(W, 1, T0, SITE, many)], max_body_chars=10)
    assert m["counts"]["network_failures"] == 600 and len(m["network_failures"]) == mf.MAX_FAILURES
    assert m["network_failures"][0]["response_body"] == "b" * 10
    assert m["network_failures"][0]["response_body_truncated"] is True
    assert m["failed_statuses"] == [500, 501] and len(m["failed_urls"]) == 3


def test_last_identify_wins_by_time_not_by_flush_order():
    later = merge(mf.new(S), [Record(W, 2, T0, SITE, [samples.identify("new", T0 + 10)])])
    m = merge(later, [Record(W, 1, T0, SITE, [samples.identify("old", T0 + 1)])])
    assert m["user"]["id"] == "new"


def test_pages_from_meta_events_else_from_hello():
    m = merge(mf.new(S), [
        Record(W, 1, T0, SITE + "/a", [samples.meta(SITE + "/a", T0), samples.meta(SITE + "/a", T0 + 5),
                                       samples.meta(SITE + "/b", T0 + 9)]),
        Record("win_other_0123456", 1, T0 + 50, SITE + "/c", [samples.snapshot(T0 + 40)]),
    ])
    assert [(p["url"], p["ts"]) for p in m["pages"]] == [(SITE + "/a", T0), (SITE + "/b", T0 + 9), (SITE + "/c", T0 + 40)]
    assert mf.summary(m)["first_url"] == SITE + "/a"


def test_a_record_without_timestamps_dates_the_session_by_arrival():
    m = merge(mf.new(S), [Record(W, 1, T0, "", ["junk", {"type": 3}])])
    assert (m["started_ms"], m["ended_ms"], m["duration_ms"]) == (T0, T0, 0)
    assert m["counts"]["events"] == 2 and m["pages"] == []
