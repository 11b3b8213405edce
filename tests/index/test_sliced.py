"""A search word in many sessions: its zset is split into slices, and search, paging and removal still see it all."""
from __future__ import annotations

import threading

from replay.index import sessions as index
from replay.index import sliced
from replay.index.erase import sessions_of
from replay.index.removal import unindex_session
from tests.index.test_list import make, sid
from tests.samples import T0

COUNT = 3 * sliced.SPLIT_AT


def all_pages(redis, keys, **filters) -> list[str]:
    found, cursor = [], None
    while True:
        page = index.query_page(redis, keys, limit=50, cursor=cursor, **filters)
        found += [s["session"] for s in page.sessions]
        if not page.next_cursor:
            return found
        cursor = page.next_cursor


def test_a_word_in_hundreds_of_sessions_is_found_in_every_one_newest_first_until_removed(redis, keys):
    word_in_hundreds_of_sessions(redis, keys)


def test_on_a_cluster_too(redis_cluster):
    # The split is a script over a zset and its slices, the check a pipeline over them: all in the index's slot.
    from replay.core import redis_conn
    from replay.core.keys import RedisKeys
    from replay.core.settings import load

    redis, keys = redis_conn.connect(load({"REDIS_URL": redis_cluster})), RedisKeys("sliced:", cluster=True)
    try:
        word_in_hundreds_of_sessions(redis, keys)
    finally:
        index.drop_index(redis, keys)
        redis.close()


def small_slices(monkeypatch) -> None:
    """Slices of a few sessions (2 at first, split past 10), so hundreds of sessions make several doublings."""
    monkeypatch.setattr(sliced, "SLICES", 2)
    monkeypatch.setattr(sliced, "SPLIT_AT", 16)
    monkeypatch.setattr(sliced, "SLICE_MAX", 10)
    monkeypatch.setattr(sliced, "MAX_SPLITS", 8)


def test_the_slices_grow_with_the_word_one_split_at_a_time_and_every_query_still_sees_it_all(redis, keys, monkeypatch):
    small_slices(monkeypatch)
    slices = word_in_hundreds_of_sessions(redis, keys)
    # 2 slices at first; 256 sessions in slices of at most about 10: four doublings and more.
    assert len(slices) >= 2 * 2 ** 4
    assert max(map(len, slices.values())) <= 2 * sliced.SLICE_MAX


def test_sessions_are_found_while_other_flushes_split_the_slices(redis, keys, monkeypatch):
    small_slices(monkeypatch)
    manifests = [make(n, T0 + n * 1000, pages=("/checkout",)) for n in range(COUNT)]
    for m in manifests[:COUNT // 2]:
        index.index_manifest(redis, keys, m)
    before = {sid(n) for n in range(COUNT // 2)}
    writer = threading.Thread(target=lambda: [index.index_manifest(redis, keys, m) for m in manifests[COUNT // 2:]])
    writer.start()
    seen = []
    while writer.is_alive() or not seen:
        found = all_pages(redis, keys, q="checkout", project="p1")
        # Every session indexed before is there, each once, newest first, whatever split ran meanwhile.
        assert before <= set(found) and len(set(found)) == len(found)
        assert found == sorted(found, reverse=True)
        assert before <= set(sessions_of(redis, keys, project="p1"))
        seen.append(len(found))
    writer.join()
    assert all_pages(redis, keys, q="checkout") == [sid(n) for n in reversed(range(COUNT))]
    assert sliced.slice_count(redis, keys.by_term("checkout")) > 2 * 2 ** 3


def word_in_hundreds_of_sessions(redis, keys):
    manifests = {}
    for n in range(COUNT):
        # Every session has the host; two in three a checkout page; one in five a 502; many share a start time.
        pages = ("/checkout",) if n % 3 else ("/cart",)
        failures = [(502, "/api/pay")] if n % 5 == 0 else []
        project = "p2" if n % 7 == 0 else "p1"
        manifests[n] = make(n, T0 + (n // 4) * 1000, pages=pages, failures=failures, project=project)
        index.index_manifest(redis, keys, manifests[n])
    newest_first = [sid(n) for n in sorted(range(COUNT), key=lambda n: (T0 + (n // 4) * 1000, sid(n)), reverse=True)]
    # The term's sessions moved to slices (the zset keeps only what came since the last split), each session
    # in the one its id hashes to among the slices there are now.
    assert redis.zcard(keys.by_term("checkout")) <= sliced.SPLIT_AT
    count = sliced.slice_count(redis, keys.by_term("checkout"))
    slices = {n: [m.decode() for m in redis.zrange(sliced.slice_key(keys.by_term("checkout"), n), 0, -1)]
              for n in range(count)}
    assert sum(map(len, slices.values())) > sliced.SPLIT_AT
    assert all(sliced.slice_of(member, count) == n for n, members in slices.items() for member in members)

    assert all_pages(redis, keys, q="checkout") == [s for s in newest_first if int(s[-6:]) % 3]
    assert all_pages(redis, keys, q="cart") == [s for s in newest_first if int(s[-6:]) % 3 == 0]
    assert all_pages(redis, keys, q="checkout", status="502") == [
        s for s in newest_first if int(s[-6:]) % 3 and int(s[-6:]) % 5 == 0]
    assert all_pages(redis, keys, project="p1") == [s for s in newest_first if int(s[-6:]) % 7]
    assert all_pages(redis, keys, project="p1", q="cart") == [
        s for s in newest_first if int(s[-6:]) % 21 in (3, 6, 9, 12, 15, 18)]
    assert sessions_of(redis, keys, project="p2") == sorted(s for s in newest_first if int(s[-6:]) % 7 == 0)
    host = index.get_summary(redis, keys, sid(0))["first_url"].split("/")[2]
    assert all_pages(redis, keys, q=f"{host} checkout") == all_pages(redis, keys, q="checkout")

    for n in range(0, COUNT, 2):
        unindex_session(redis, keys, sid(n), manifests[n])
    assert all_pages(redis, keys, q="checkout") == [s for s in newest_first if int(s[-6:]) % 3 and int(s[-6:]) % 2]
    cart = keys.by_term("cart")
    assert not any(redis.zscore(key, sid(0)) for key in sliced.all_keys(cart, sliced.slice_count(redis, cart)))

    # `replay reindex` drops the index and builds it again: the same answers.
    index.drop_index(redis, keys)
    for n in range(1, COUNT, 2):
        index.index_manifest(redis, keys, manifests[n])
    assert all_pages(redis, keys, q="checkout") == [s for s in newest_first if int(s[-6:]) % 3 and int(s[-6:]) % 2]
    assert all_pages(redis, keys, project="p1") == [s for s in newest_first if int(s[-6:]) % 7 and int(s[-6:]) % 2]
    return slices


def test_the_alert_counts_active_sessions_grow_their_slices_and_count_each_session_once(redis, keys, monkeypatch):
    from replay.index import alert_counts

    small_slices(monkeypatch)
    now, day = T0 + 10_000_000, 24 * 3600
    for n in range(COUNT):
        # Each session flushed twice (its second flush moves it later, in the same slice).
        alert_counts.record_calls(redis, keys, {"session": sid(n), "project": "p1"}, {}, now + n, day)
        alert_counts.record_calls(redis, keys, {"session": sid(n), "project": "p1"}, {}, now + COUNT + n, day)
    assert sliced.slice_count(redis, keys.alert_sessions("p1")) >= 2 * 2 ** 4
    assert alert_counts.session_share(redis, keys, "p1", now, now + 10 * COUNT) == (COUNT, 0)
    assert alert_counts.session_share(redis, keys, "p1", now + COUNT, now + COUNT + 9) == (10, 0)
    for n in range(0, COUNT, 2):
        alert_counts.forget_session(redis, keys, {"session": sid(n), "project": "p1"})
    assert alert_counts.session_share(redis, keys, "p1", now, now + 10 * COUNT) == (COUNT // 2, 0)


def test_a_whole_zset_of_an_index_built_before_moves_to_its_slices_a_bounded_part_at_a_time(redis, keys, monkeypatch):
    small_slices(monkeypatch)
    monkeypatch.setattr(sliced, "MOVE_MAX", 50)
    manifests = [make(n, T0 + n * 1000, pages=("/checkout",)) for n in range(COUNT)]
    # What an older version left: every session in the word's one zset, no slices (made here from slices).
    for m in manifests[:-1]:
        index.index_manifest(redis, keys, m)
    name = keys.by_term("checkout")
    members = {m: s for key in sliced.all_keys(name, sliced.slice_count(redis, name))
               for m, s in redis.zrange(key, 0, -1, withscores=True)}
    redis.delete(*sliced.all_keys(name, sliced.slice_count(redis, name)), sliced.record_key(name))
    redis.zadd(name, members)

    index.index_manifest(redis, keys, manifests[-1])
    # One session added moved at most MOVE_MAX of the old zset; every session is still found.
    assert redis.zcard(name) >= COUNT - 1 - 50
    assert all_pages(redis, keys, q="checkout") == [sid(n) for n in reversed(range(COUNT))]
    for n in range(COUNT):
        index.index_manifest(redis, keys, manifests[n])
    assert redis.zcard(name) <= sliced.SPLIT_AT
    assert all_pages(redis, keys, q="checkout") == [sid(n) for n in reversed(range(COUNT))]
