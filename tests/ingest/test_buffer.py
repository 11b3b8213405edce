"""The per-session Redis buffer: append, dedupe, acked mark, read and trim."""
from __future__ import annotations

import pytest

from replay.ingest.buffer import Buffer

S, W, W2 = "sess_buf_0123456789", "win_buf_0123456789", "win_buf_abcdefghij"


@pytest.fixture
def buffer(redis, keys):
    return Buffer(redis, keys, seq_ttl_s=60, buffer_ttl_s=60)


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
    buffer.trim(S, len(some), some_bytes)
    assert [r.seq for r in buffer.read(S, 1 << 20)[0]] == [2, 3, 4, 5]
    assert buffer.size_bytes(S) == total - some_bytes and buffer.length(S) == 4
    records, nbytes = buffer.read(S, 1 << 20)
    buffer.trim(S, len(records), nbytes)
    assert buffer.length(S) == 0 and buffer.size_bytes(S) == 0
    assert not redis.exists(keys.buffer_bytes(S))


def test_trim_guarded_by_a_lock_it_no_longer_holds(buffer, redis, keys):
    buffer.append(S, W, 1, [], 1)
    records, nbytes = buffer.read(S, 1 << 20)
    lock = keys.flush_lock(S)
    redis.set(lock, "someone-else")
    assert buffer.trim(S, len(records), nbytes, lock=(lock, "mine")) is False
    assert buffer.length(S) == 1
    redis.set(lock, "mine")
    assert buffer.trim(S, len(records), nbytes, lock=(lock, "mine")) is True
    assert buffer.length(S) == 0


def test_append_reports_what_the_buffer_holds(buffer):
    first = buffer.append(S, "win_0123456789ab", 1, [{"type": 3, "timestamp": 1}], 1)
    second = buffer.append(S, "win_0123456789ab", 2, [{"type": 3, "timestamp": 2}], 2)
    duplicate = buffer.append(S, "win_0123456789ab", 2, [{"type": 3, "timestamp": 2}], 2)
    assert 0 < first.buffered_bytes < second.buffered_bytes == buffer.size_bytes(S) == duplicate.buffered_bytes
