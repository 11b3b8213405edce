"""Share links: signed, expiring, revocable links to one session, on a real Redis and a flushed session."""
import json
import re
import time

import pytest
from itsdangerous import URLSafeSerializer

from replay.viewer.share import SALT, ShareError, ShareLinks

OTHER_SESSION = "sess_other_0123456789"


class Clock:
    """A settable clock, so expiry is tested without sleeping."""

    def __init__(self):
        self.now = time.time()

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def links(app, clock):
    svc = app.extensions["replay"]
    return ShareLinks(svc.redis, svc.keys, app.secret_key, clock=clock)


def login(client, accounts, email):
    """Log in through the real form; returns the CSRF token the replay page hands out."""
    if not accounts.user_exists(email):
        accounts.create_user(email, "correct horse")
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    r = client.post("/login", data={"email": email, "password": "correct horse", "csrf": csrf})
    assert r.status_code == 302


def page_csrf(client, session_id):
    html = client.get(f"/sessions/{session_id}").get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)


@pytest.fixture
def dev(app, accounts, recorded):
    """A logged-in client and its CSRF token."""
    client = app.test_client()
    login(client, accounts, "dev@example.com")
    return client, page_csrf(client, recorded)


def share(client, csrf, session_id, **body):
    return client.post(f"/sessions/{session_id}/share", json=body, headers={"X-CSRF-Token": csrf})


def token_of(url):
    return url.rsplit("/share/", 1)[1]


# ShareLinks on its own.

def test_a_link_verifies_and_is_listed(links, recorded):  # noqa: F811
    link_id, token = links.create(recorded, "dev@example.com", t_ms=200)
    link = links.verify(token, recorded)
    assert (link.id, link.session, link.created_by, link.t_ms, link.revoked) == \
        (link_id, recorded, "dev@example.com", 200, False)
    assert link.expires_ms - link.created_ms == 7 * 24 * 3600 * 1000
    assert [x.id for x in links.list_for_session(recorded)] == [link_id]
    assert [x.id for x in links.list_for_user("dev@example.com")] == [link_id]
    assert links.list_for_session(OTHER_SESSION) == []


def test_refusals_have_clear_codes(links, clock, recorded):  # noqa: F811
    _, token = links.create(recorded, "dev@example.com", ttl_s=60)
    with pytest.raises(ShareError) as err:
        links.verify(token, OTHER_SESSION)
    assert (err.value.code, err.value.status) == ("wrong_session", 403)
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "garbage", ""):
        with pytest.raises(ShareError) as err:
            links.verify(bad)
        assert err.value.code == "invalid"
    clock.now += 61
    with pytest.raises(ShareError) as err:
        links.verify(token)
    assert (err.value.code, err.value.status) == ("expired", 410)
    assert links.list_for_session(recorded)[0].state(links.now_ms()) == "expired"


def test_only_the_creator_revokes(links, recorded):  # noqa: F811
    link_id, token = links.create(recorded, "dev@example.com")
    with pytest.raises(ShareError) as err:
        links.revoke(link_id, "someone@example.com")
    assert err.value.code == "forbidden"
    links.verify(token)
    assert links.revoke(link_id, "dev@example.com").revoked
    with pytest.raises(ShareError) as err:
        links.verify(token)
    assert (err.value.code, err.value.status) == ("revoked", 410)
    with pytest.raises(ShareError) as err:
        links.revoke("nosuchlink", "dev@example.com")
    assert err.value.code == "not_found"


def test_a_token_signed_with_another_key_or_edited_is_invalid(app, links, recorded):  # noqa: F811
    link_id, token = links.create(recorded, "dev@example.com")
    payload = URLSafeSerializer(app.secret_key, salt=SALT).loads(token)
    forged = URLSafeSerializer("not the key", salt=SALT).dumps({**payload, "s": OTHER_SESSION})
    with pytest.raises(ShareError) as err:
        links.verify(forged)
    assert err.value.code == "invalid"
    # Even correctly signed, a payload that disagrees with the stored link is refused.
    lying = URLSafeSerializer(app.secret_key, salt=SALT).dumps({**payload, "s": OTHER_SESSION})
    with pytest.raises(ShareError) as err:
        links.verify(lying)
    assert err.value.code == "invalid"


# Routes.

def test_create_open_without_login_and_fetch_events(app, dev, recorded):  # noqa: F811
    client, csrf = dev
    before = time.time() * 1000
    r = share(client, csrf, recorded, t_ms=200, ttl_s=3600)
    after = time.time() * 1000
    assert r.status_code == 201
    body = r.get_json()
    assert body["url"].startswith("http://localhost/share/") and body["id"]
    assert before + 3600_000 - 1 <= body["expires_ms"] <= after + 3600_000  # an hour from now

    stranger = app.test_client()
    page = stranger.get(body["url"])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert recorded in html and "/api/orders" in html and 'data-t="200"' in html
    token = token_of(body["url"])
    assert f'data-events-url="/share/{token}/events"' in html
    # Read-only and self-contained: no way to the rest of the viewer, no user, no CSRF token.
    assert 'href="/"' not in html and "Log out" not in html and "dev@example.com" not in html
    assert "csrf" not in html.lower()
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"

    events = stranger.get(f"/share/{token}/events")
    assert events.status_code == 200
    assert len(json.loads(events.data)) == 5
    # The share token opens this session's events only: it is no API token for any session.
    for sid in (recorded, OTHER_SESSION):
        r = stranger.get(f"/api/sessions/{sid}/events", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401
    assert stranger.get(f"/sessions/{recorded}").status_code == 302


OPENED_CALL = re.compile(r'<li id="call-[^"]+" class="row call failed"[^>]*>\s*<button[^>]*>.*?</button>\s*<details open>',
                         re.S)


def test_the_link_opens_at_its_moment_and_t_can_move(app, dev, recorded):  # noqa: F811
    client, csrf = dev
    url = share(client, csrf, recorded, t_ms=100).get_json()["url"]
    html = app.test_client().get(url).get_data(as_text=True)
    # At its moment, with the failed call's diagnosis open beside it.
    assert 'data-t="100"' in html and OPENED_CALL.search(html) and "Diagnosis" in html
    assert 'data-t="150"' in app.test_client().get(url + "?t=150").get_data(as_text=True)


def test_a_link_without_a_moment_opens_where_the_failed_call_failed(app, dev, recorded):  # noqa: F811
    client, csrf = dev
    url = share(client, csrf, recorded).get_json()["url"]
    html = app.test_client().get(url).get_data(as_text=True)
    assert 'data-t="200"' in html and OPENED_CALL.search(html)  # the 502 failed 200 ms in


def test_revoked_links_are_refused(app, dev, recorded):  # noqa: F811
    client, csrf = dev
    body = share(client, csrf, recorded).get_json()
    token = token_of(body["url"])
    listed = client.get(f"/sessions/{recorded}/shares").get_json()["links"]
    assert [(x["id"], x["state"]) for x in listed] == [(body["id"], "active")]

    r = client.post(f"/share/{body['id']}/revoke", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.get_json()["revoked"] is True
    stranger = app.test_client()
    page = stranger.get(f"/share/{token}")
    assert page.status_code == 410
    assert "revoked" in page.get_data(as_text=True) and page.mimetype == "text/html"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    events = stranger.get(f"/share/{token}/events")
    assert events.status_code == 410 and events.get_json()["error"]["code"] == "revoked"
    assert client.get(f"/sessions/{recorded}/shares").get_json()["links"][0]["state"] == "revoked"


def test_expired_links_are_refused(app, links, clock, recorded):  # noqa: F811
    clock.now -= 3 * 24 * 3600  # made three days ago, for one day
    _, token = links.create(recorded, "dev@example.com", ttl_s=24 * 3600)
    stranger = app.test_client()
    page = stranger.get(f"/share/{token}")
    assert page.status_code == 410 and "expired" in page.get_data(as_text=True)
    r = stranger.get(f"/share/{token}/events")
    assert r.status_code == 410 and r.get_json()["error"]["code"] == "expired"


def test_tampered_links_are_refused(app, dev, recorded):  # noqa: F811
    client, csrf = dev
    token = token_of(share(client, csrf, recorded).get_json()["url"])
    payload, _, signature = token.rpartition(".")
    stranger = app.test_client()
    for bad in (payload + "." + signature[::-1], payload[:-1] + "." + signature, "nonsense"):
        page = stranger.get(f"/share/{bad}")
        assert page.status_code == 403 and "not valid" in page.get_data(as_text=True)
        r = stranger.get(f"/share/{bad}/events")
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "invalid"


def test_a_non_creator_cannot_revoke(app, accounts, dev, recorded):  # noqa: F811
    client, csrf = dev
    body = share(client, csrf, recorded).get_json()
    other = app.test_client()
    login(other, accounts, "other@example.com")
    other_csrf = page_csrf(other, recorded)
    r = other.post(f"/share/{body['id']}/revoke", headers={"X-CSRF-Token": other_csrf})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"
    assert app.test_client().get(body["url"]).status_code == 200
    r = client.post("/share/nosuchlink00/revoke", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"


def test_create_and_revoke_need_login_and_csrf(app, dev, recorded):  # noqa: F811
    client, csrf = dev
    assert app.test_client().post(f"/sessions/{recorded}/share", json={}).status_code == 401
    for headers in ({}, {"X-CSRF-Token": "wrong"}):
        r = client.post(f"/sessions/{recorded}/share", json={}, headers=headers)
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "csrf_failed"
    # A plain form post with the field works too.
    r = client.post(f"/sessions/{recorded}/share", data={"csrf": csrf, "ttl_s": "60"})
    assert r.status_code == 201
    link_id = r.get_json()["id"]
    assert client.post(f"/share/{link_id}/revoke").status_code == 403
    assert app.test_client().post(f"/share/{link_id}/revoke", headers={"X-CSRF-Token": csrf}).status_code == 401
    assert client.post(f"/share/{link_id}/revoke", data={"csrf": csrf}).status_code == 200


def test_create_validates_and_caps(app, dev, recorded):  # noqa: F811
    client, csrf = dev
    most_ms = app.extensions["replay"].settings.SHARE_MAX_TTL_S * 1000
    before = time.time() * 1000
    r = share(client, csrf, recorded, ttl_s=10**9)
    after = time.time() * 1000
    body = r.get_json()
    assert r.status_code == 201
    assert before + most_ms - 1 <= body["expires_ms"] <= after + most_ms  # capped at the most allowed
    for bad in ({"ttl_s": 0}, {"ttl_s": -5}, {"t_ms": "soon"}, {"t_ms": True}):
        r = share(client, csrf, recorded, **bad)
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_parameter", bad
    r = client.post(f"/sessions/{recorded}/share", data="[1]", content_type="application/json",
                    headers={"X-CSRF-Token": csrf})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_json"
    r = share(client, csrf, OTHER_SESSION)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
