"""Request bodies reach storage only for a project that opted in for that URL, scrubbed again by the worker."""
from __future__ import annotations

import gzip
import json

import pytest

from tests import samples
from tests.samples import SITE, T0
from worker import jobs
from replay.core import body_capture
from replay.core.accounts import Accounts
from replay.core.keys import segments_prefix
from replay.storage import recording

S = "sess_bodies_0123456789"
W = "win_bodies_0123456789"
# As a modified snippet might send it: unscrubbed, and to a URL the project may not have opted in for.
BODY = '{"email":"a@b.test","password":"hunter2","card":"4111 1111 1111 1111"}'


def record(ctx, project_key):
    ctx.redis.hset(ctx.keys.session_meta(S), mapping={"project": project_key, "ua": "test", "first_seen_ms": T0,
                                                      "last_seen_ms": T0})
    events = [samples.meta(SITE + "/cart", T0),
              samples.network(502, SITE + "/api/pay?token=abc", T0 + 100, method="POST", requestBody=BODY),
              samples.network(502, SITE + "/other/pay", T0 + 200, method="POST", requestBody=BODY)]
    samples.append_all(ctx.buffer, S, {W: [(1, events)]})
    jobs.flush_session(S)
    [key] = ctx.store.list(segments_prefix(S))
    stored = json.loads(gzip.decompress(ctx.store.get(key)))["batches"][0]["events"]
    return [e["data"]["payload"] for e in stored if e["type"] == 5], recording.load_manifest(ctx.store, S)


@pytest.mark.parametrize("backend", ["local"], indirect=True)
def test_an_opted_in_url_keeps_its_body_scrubbed_others_lose_theirs(ctx):
    key = Accounts(ctx.redis, ctx.keys).create_project("shop", [SITE]).key
    body_capture.set_patterns(ctx.redis, ctx.keys, key, ["/api/*"])
    (pay, other), m = record(ctx, key)
    assert pay["requestBody"] == '{"email":"a@b.test","password":"[masked]","card":"[masked]"}'
    assert pay["requestBodyScrubbed"] is True and pay["url"] == SITE + "/api/pay?token=[masked]"
    assert "requestBody" not in other
    first, second = m["network_failures"]
    assert first["request_body"] == pay["requestBody"] and first["request_body_scrubbed"] is True
    assert first["query"] == [{"name": "token", "value": "[masked]", "masked": True}]
    assert second["request_body"] is None
    assert "hunter2" not in json.dumps(m) and "4111" not in json.dumps(m)


@pytest.mark.parametrize("backend", ["local"], indirect=True)
def test_a_project_not_opted_in_stores_no_body_at_all(ctx):
    key = Accounts(ctx.redis, ctx.keys).create_project("shop", [SITE]).key
    payloads, m = record(ctx, key)
    assert all("requestBody" not in p for p in payloads)
    assert all(f["request_body"] is None for f in m["network_failures"])


@pytest.mark.parametrize("backend", ["local"], indirect=True)
def test_a_page_url_with_a_secret_in_it_is_stored_masked(ctx):
    # A modified or older snippet sent the page's URL as it was: a reset link's token, an OAuth fragment.
    key = Accounts(ctx.redis, ctx.keys).create_project("shop", [SITE]).key
    url = SITE + "/reset?email=a%40b.test&token=s3cret#access_token=t0k3n&state=1"
    ctx.redis.hset(ctx.keys.session_meta(S), mapping={"project": key, "ua": "test", "first_seen_ms": T0,
                                                      "last_seen_ms": T0})
    samples.append_all(ctx.buffer, S, {W: [(1, [samples.meta(url, T0)])]})
    jobs.flush_session(S)
    [seg] = ctx.store.list(segments_prefix(S))
    stored = gzip.decompress(ctx.store.get(seg)).decode()
    m = recording.load_manifest(ctx.store, S)
    for text in (stored, json.dumps(m)):
        assert "s3cret" not in text and "t0k3n" not in text
    assert m["pages"][0]["url"] == SITE + "/reset?email=a%40b.test&token=[masked]#access_token=[masked]&state=1"
