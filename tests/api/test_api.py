"""The JSON API and the viewer pages over a session that went through ingest and the flush job."""
import json
import re

import pytest

from tests.web_fixtures import ORIGIN, T0, get




def test_api_needs_a_valid_token(client, token):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {token}"}):
        r = client.get("/api/sessions", headers=headers)
        assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"
    assert get(client, "/api/sessions", token).status_code == 200


def test_sessions_are_found_by_status_url_and_user(client, token, recorded):
    for query in ("status=502", "status=5xx", "url=/api/orders", "user=u-42", "status=502&user=u-42"):
        found = get(client, f"/api/sessions?{query}", token).get_json()["sessions"]
        assert [s["session"] for s in found] == [recorded], query
    for query in ("status=404", "status=4xx", "status=error", "user=someone-else", "url=/nothing", f"since={T0 + 10**7}"):
        assert get(client, f"/api/sessions?{query}", token).get_json()["sessions"] == [], query
    listed = get(client, "/api/sessions", token).get_json()["sessions"][0]
    assert listed["replay_url"].endswith(f"/sessions/{recorded}")


@pytest.mark.parametrize("query", ["status=teapot", "limit=0", "limit=abc", "since=yesterday",
                                   f"since={T0 + 1}&until={T0}"])
def test_bad_filters_are_400_json(client, token, query):
    for path in ("/api/sessions", "/api/failures"):
        r = get(client, f"{path}?{query}", token)
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_parameter", path


def test_session_detail_has_the_failed_call(client, token, recorded):
    body = get(client, f"/api/sessions/{recorded}", token).get_json()
    [failure] = body["network_failures"]
    assert (failure["method"], failure["url"], failure["status"]) == ("GET", ORIGIN + "/api/orders", 502)
    assert failure["response_headers"] == {"server": "nginx"}
    assert "502 Bad Gateway" in failure["response_body"]
    assert failure["replay_url"].endswith(f"/sessions/{recorded}?t=200")
    assert body["user"]["id"] == "u-42"


def test_events_stream_in_time_order(client, token, recorded):
    events = json.loads(get(client, f"/api/sessions/{recorded}/events", token).data)
    assert [e["timestamp"] for e in events] == sorted(e["timestamp"] for e in events)
    assert len(events) == 5


def test_unknown_sessions_are_404_json(client, token):
    for sid in ("sess_doesnotexist00", "../../etc/passwd", "x"):
        r = get(client, f"/api/sessions/{sid}", token)
        assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"


def test_replay_page_needs_a_login_and_sends_a_strict_csp(client, accounts, recorded):
    r = client.get(f"/sessions/{recorded}?t=200")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    accounts.create_user("dev@example.com", "correct horse")
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    r = client.post("/login", data={"email": "dev@example.com", "password": "wrong", "csrf": csrf})
    assert r.status_code == 401
    r = client.post(f"/login?next=/sessions/{recorded}?t=200",
                    data={"email": "dev@example.com", "password": "correct horse", "csrf": csrf})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/sessions/{recorded}?t=200")
    r = client.get(f"/sessions/{recorded}?t=200")
    assert r.status_code == 200
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    html = r.get_data(as_text=True)
    assert "/api/orders" in html and 'data-t="200"' in html


def test_replay_page_opens_where_a_call_failed_with_its_diagnosis(viewer, token, recorded):
    client = viewer
    [failure] = get(client, f"/api/sessions/{recorded}", token).get_json()["network_failures"]
    html = client.get(f"/sessions/{recorded}?call={failure['id']}").get_data(as_text=True)
    # The 502 failed 200 ms in: the page opens there; playing the lead-up starts 3 s before it was sent,
    # clamped to the start.
    assert 'data-t="200"' in html
    assert re.search(r'<button type="button" id="play-lead" class="primary" data-from="0">', html)
    assert re.search(r'<li id="call-[^"]+" class="row call failed"[^>]*>\s*<button[^>]*>.*?</button>\s*<details open>',
                     html, re.S)
    assert "Diagnosis" in html and "nginx" in html


def test_failure_groups_lead_to_the_sessions_and_their_calls(client, token, recorded):
    body = get(client, "/api/failures?status=5xx", token).get_json()
    [group] = body["groups"]
    assert (group["method"], group["route"], group["status"], group["count"], group["sessions"]) == \
        ("GET", "/api/orders", 502, 1, 1)
    behind = get(client, f"/api/failures/{group['id']}/sessions", token).get_json()
    [item] = behind["sessions"]
    assert item["session"] == recorded
    # The link opens the session at its first failed call of the group (the viewer resolves it; see below).
    assert item["replay_url"].endswith(f"/failures/{group['id']}/sessions/{recorded}")
    assert get(client, "/api/failures/nope/sessions", token).status_code == 404
    assert get(client, "/api/failures?status=4xx", token).get_json()["groups"] == []


def test_failed_calls_pages_list_the_group_and_link_to_the_call(viewer, recorded):
    client = viewer
    html = client.get("/failures?status=502").get_data(as_text=True)
    assert "/api/orders" in html
    gid = re.search(r'href="/failures/([0-9a-f]+)"', html).group(1)
    detail = client.get(f"/failures/{gid}").get_data(as_text=True)
    link = f"/failures/{gid}/sessions/{recorded}"
    assert f'href="{link}"' in detail
    # The link opens the session at its first failed call of the group.
    [failure] = client.get(f"/api/sessions/{recorded}").get_json()["network_failures"]
    r = client.get(link)
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/sessions/{recorded}?call={failure['id']}")
    assert client.get("/failures?status=teapot").status_code == 400
    swapped = client.get("/failures?since=2024-11-22T10:00&until=2024-11-22T09:00")
    assert swapped.status_code == 400 and "after its end" in swapped.get_data(as_text=True)
    swapped = client.get("/?since=2024-11-22T10:00&until=2024-11-22T09:00").get_data(as_text=True)
    assert "after its end" in swapped


def test_hourly_bars_scale_to_the_busiest_hour():
    from replay.viewer.pages import bars

    drawn = bars([[0, 1], [3600_000, 0], [7200_000, 4]], width=30, height=20)
    assert [(b["x"], b["h"], b["count"]) for b in drawn] == [(0, 5.0, 1), (20.0, 20.0, 4)]
    assert bars([]) == []


def test_a_moment_past_the_end_opens_at_the_end(viewer, recorded):
    client = viewer
    html = client.get(f"/sessions/{recorded}?t={10**30}").get_data(as_text=True)
    duration = re.search(r'data-t="(\d+)"', html).group(1)
    assert int(duration) == 300  # the recorded session's last event is 300 ms in
