"""The per-session Redis buffer: append, dedupe, acked mark, read and trim."""
from __future__ import annotations

import pytest

from replay.ingest.buffer import Buffer

S, W, W2 = "sess_buf_0123456789", "win_buf_0123456789", "win_buf_abcdefghij"


@pytest.fixture
def buffer(redis, keys, settings):
    return Buffer(redis, keys, settings)


def held(redis, keys, token="mine"):
    """The session's flush lock, held by `token`."""
    redis.set(keys.flush_lock(S), token)
    return keys.flush_lock(S), token


def test_append_then_duplicate_is_dropped(buffer):
    first = buffer.append(S, W, 1, [{"type": 4}], 1000, "https://a/")
    again = buffer.append(S, W, 1, [{"type": 4}], 1001, "https://a/")
    assert (first.stored, first.acked) == (True, 1)
    assert (again.stored, again.acked) == (False, 1)
    records, _ = buffer.read(S, 1 << 20)
    assert [(r.window, r.seq, r.url) for r in records] == [(W, 1, "https://a/")]


def test_out_of_order_seqs_and_the_contiguous_acked_mark(buffer):
    assert buffer.append(S, W, 2, [], 1).acked == 0  # 1 is missing
    assert buffer.append(S, W, 4, [], 1).acked == 0
    assert buffer.append(S, W, 1, [], 1).acked == 2  # 1, 2 held; 3 missing
    assert buffer.append(S, W, 4, [], 1).stored is False  # above the mark, still a duplicate
    assert buffer.append(S, W, 3, [], 1).acked == 4
    assert buffer.append(S, W, 2, [], 1).stored is False  # below the mark
    assert buffer.acked(S, W) == 4
    assert buffer.acked(S, W2) == 0  # windows are counted apart
    assert buffer.append(S, W2, 1, [], 1).acked == 1


def test_read_is_oldest_first_and_capped_then_trim(buffer, redis, keys):
    for seq in range(1, 6):
        buffer.append(S, W, seq, [{"type": 3, "timestamp": seq, "data": {"x": "y" * 100}}], seq)
    total = buffer.size_bytes(S)
    records, nbytes = buffer.read(S, 1 << 20)
    assert [r.seq for r in records] == [1, 2, 3, 4, 5] and nbytes == total
    some, some_bytes = buffer.read(S, 1)  # at least one record, however small the cap
    assert [r.seq for r in some] == [1]
    assert buffer.trim(S, len(some), some_bytes, held(redis, keys), 0) == 4
    assert [r.seq for r in buffer.read(S, 1 << 20)[0]] == [2, 3, 4, 5]
    assert buffer.size_bytes(S) == total - some_bytes and buffer.length(S) == 4
    records, nbytes = buffer.read(S, 1 << 20)
    assert buffer.trim(S, len(records), nbytes, held(redis, keys), 0) == 0
    assert buffer.length(S) == 0 and buffer.size_bytes(S) == 0
    assert not redis.exists(keys.buffer_bytes(S))


def test_a_read_is_the_head_of_the_buffer_even_when_appends_land_between_its_pages(buffer, redis, keys):
    """A flush reads the first page with its lock; batches appended before it reads on must not leave a gap
    in what it reads (the trim drops as many as were read, from the head)."""
    for seq in range(1, 4):
        buffer.append(S, W, seq, [], seq)
    pipe = redis.pipeline(transaction=False)
    buffer.queue_first_page(S, pipe)
    [first_page] = pipe.execute()
    for seq in range(4, 80):  # past the first page's 64 while the flush was busy elsewhere
        buffer.append(S, W, seq, [], seq)
    records, nbytes = buffer.read(S, 1 << 20, first_page=first_page)
    assert [r.seq for r in records] == [1, 2, 3]
    assert buffer.trim(S, len(records), nbytes, held(redis, keys), 0) == 76
    assert [r.seq for r in buffer.read(S, 1 << 20)[0]] == list(range(4, 80))


def test_trim_guarded_by_a_lock_it_no_longer_holds(buffer, redis, keys):
    buffer.append(S, W, 1, [], 1)
    records, nbytes = buffer.read(S, 1 << 20)
    held(redis, keys, "someone-else")
    assert buffer.trim(S, len(records), nbytes, (keys.flush_lock(S), "mine"), 0) is None
    assert buffer.length(S) == 1
    assert buffer.trim(S, len(records), nbytes, held(redis, keys, "mine"), 0) == 0
    assert buffer.length(S) == 0


def test_append_reports_what_the_buffer_holds(buffer):
    first = buffer.append(S, "win_0123456789ab", 1, [{"type": 3, "timestamp": 1}], 1)
    second = buffer.append(S, "win_0123456789ab", 2, [{"type": 3, "timestamp": 2}], 2)
    duplicate = buffer.append(S, "win_0123456789ab", 2, [{"type": 3, "timestamp": 2}], 2)
    assert 0 < first.buffered_bytes < second.buffered_bytes == buffer.size_bytes(S) == duplicate.buffered_bytes


def test_each_append_makes_its_session_due_and_an_earlier_due_time_stands(buffer, redis, keys, settings):
    buffer.append(S, W, 1, [], 10_000)
    assert redis.zscore(keys.flush_due(), S) == 10_000 + settings.FLUSH_AGE_MS
    buffer.append(S, W, 2, [], 10_500, idle=True)  # a beacon: the page is going away
    assert redis.zscore(keys.flush_due(), S) == 10_500 + settings.FLUSH_IDLE_MS
    buffer.append(S, W, 3, [], 11_000)  # a later, longer wait does not push it back
    assert redis.zscore(keys.flush_due(), S) == 10_500 + settings.FLUSH_IDLE_MS
    buffer.append(S, W, 3, [], 9_000, idle=True)  # a duplicate schedules nothing
    assert redis.zscore(keys.flush_due(), S) == 10_500 + settings.FLUSH_IDLE_MS


def test_a_full_buffer_is_due_at_once_and_stays_due_while_full(redis, keys, settings):
    from dataclasses import replace

    small = Buffer(redis, keys, replace(settings, FLUSH_BYTES=300))
    small.append(S, W, 1, [{"type": 3, "timestamp": 1, "data": {"x": "y" * 400}}], 5_000)
    assert redis.zscore(keys.flush_due(), S) == 5_000
    small.append(S, W, 2, [{"type": 3, "timestamp": 2, "data": {"x": "y" * 400}}], 6_000)
    first, first_bytes = small.read(S, 1)
    redis.zadd(keys.flush_due(), {S: 99_999})  # as a claim's lease leaves it
    # The trim leaves a full buffer behind: due at once again.
    assert small.trim(S, len(first), first_bytes, held(redis, keys), 7_000) == 1
    assert redis.zscore(keys.flush_due(), S) == 7_000


def test_emptying_the_buffer_takes_the_session_off_the_schedule(buffer, redis, keys):
    buffer.append(S, W, 1, [], 1_000)
    records, nbytes = buffer.read(S, 1 << 20)
    assert buffer.trim(S, len(records), nbytes, held(redis, keys), 2_000) == 0
    assert redis.zscore(keys.flush_due(), S) is None
    # A batch that arrives after the read is still there after the trim, and keeps its due time.
    buffer.append(S, W, 2, [], 3_000)
    records, nbytes = buffer.read(S, 1 << 20)
    buffer.append(S, W, 3, [], 3_500)
    assert buffer.trim(S, len(records), nbytes, held(redis, keys), 4_000) == 1
    assert redis.zscore(keys.flush_due(), S) is not None


@pytest.mark.parametrize("bucket", ["window", "session", "project"])
def test_rate_limits_refuse_past_the_burst_then_refill(redis, keys, settings, bucket):
    from dataclasses import replace

    tight = {"window": dict(RATE_WINDOW_PER_S=1, RATE_WINDOW_BURST=3),
             "session": dict(RATE_SESSION_PER_S=1, RATE_SESSION_BURST=3),
             "project": dict(RATE_PROJECT_PER_S=1, RATE_PROJECT_BURST=3)}[bucket]
    limited = Buffer(redis, keys, replace(settings, **tight))
    # Another window of the same session (the session and project buckets are shared), then this one.
    windows = [W2, W, W] if bucket != "window" else [W, W, W]
    for seq, window in enumerate(windows, start=1):
        assert limited.append(S, window, seq, [], 1_000, project="pk_p").stored
    refused = limited.append(S, W, 9, [], 1_000, project="pk_p")
    assert (refused.stored, refused.limited) == (False, bucket)
    assert limited.length(S) == 3  # refused: not stored, and it cost no token
    assert limited.append(S, W, 9, [], 2_100, project="pk_p").stored  # a second later, one token is back
    other = limited.append("sess_other_012345678", "win_other_0123456", 1, [], 2_100, project="pk_other")
    assert other.stored  # other sessions and projects have buckets of their own


def test_a_batch_stored_as_it_came_reads_back_as_the_same_events(buffer):
    import json

    events = [{"type": 3, "timestamp": 5, "data": {"text": "é ✓ \\u2028"}}, {"type": 5, "timestamp": 6, "data": {}}]
    sent = json.dumps({"type": "batch", "seq": 1, "events": events, "extra": [1, 2]}, ensure_ascii=False).encode()
    buffer.append(S, W, 1, events, 1_000, "https://a/", batch_json=sent)
    buffer.append(S, W, 2, events, 1_001, "https://a/")  # encoded afresh (an event time was reset)
    records, _ = buffer.read(S, 1 << 20)
    assert [(r.seq, r.received_ms, r.url, r.events) for r in records] == [(1, 1_000, "https://a/", events),
                                                                          (2, 1_001, "https://a/", events)]


def test_appends_do_not_hurry_a_session_whose_flushes_are_failing(buffer, redis, keys, settings):
    from replay.ingest import flush

    buffer.append(S, W, 1, [], 1_000)
    delay = flush.retry_later(redis, keys, S, 5_000, 60_000)  # storage is down: try again in 5 s
    retry_at = flush.due_at(redis, keys, S)
    buffer.append(S, W, 2, [], 1_500)  # would make it due long ago (1.5 s + FLUSH_AGE_MS) otherwise
    assert flush.due_at(redis, keys, S) == retry_at and delay == 5_000
    flush.succeeded(redis, keys, S)
    buffer.append(S, W, 3, [], 2_000)
    assert flush.due_at(redis, keys, S) == 2_000 + settings.FLUSH_AGE_MS
