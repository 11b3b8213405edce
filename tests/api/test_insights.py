"""Frustration signals, releases, free-text search and the failing endpoint: ingest -> real flush job -> API and pages."""
import json

import pytest

from replay.ingest.service import Connection
from tests.web_fixtures import ORIGIN, SECRET, T0, get, net
from worker import context, jobs

W = "win_insights_0123456789"


def frustration(kind, t, **extra):
    payload = {"kind": kind, "count": 1, "x": 120, "y": 80, "target": 'button#save "Save"', **extra}
    return {"type": 5, "timestamp": t, "data": {"tag": "replay.frustration", "payload": payload}}


def console(level, t, *args):
    return {"type": 5, "timestamp": t, "data": {"tag": "replay.console", "payload": {"level": level, "args": list(args)}}}


def identify(user, t, **traits):
    return {"type": 5, "timestamp": t, "data": {"tag": "replay.identify", "payload": {"userId": user, "traits": traits}}}


def record(app, key, session, events, *, release=None, environment=None, path="/checkout"):
    """One session through the real ingest (a hello naming the release) and the real flush job."""
    conn, ingest = Connection(origin=ORIGIN), app.extensions["replay.ingest"]
    hello = {"type": "hello", "v": 1, "key": key, "secret": SECRET, "session": session, "window": W,
             "url": ORIGIN + path, "ua": "pytest"}
    hello.update({k: v for k, v in (("release", release), ("environment", environment)) if v})
    ingest.receive(conn, json.dumps(hello))
    page = {"type": 4, "timestamp": T0, "data": {"href": ORIGIN + path, "width": 800, "height": 600}}
    ingest.receive(conn, json.dumps({"type": "batch", "seq": 1, "events": [page, *events]}))
    context.configure(app.extensions["replay"].settings)
    jobs.flush_session(session)
    return session


@pytest.fixture
def sessions(app, project_key):
    raging = record(app, project_key, "sess_rage_000000000001", [
        net(502, ORIGIN + "/api/orders/17", T0 + 100, method="POST"),
        frustration("rage", T0 + 150, count=4),
        net(502, ORIGIN + "/api/orders/17", T0 + 300, method="POST"),  # the page tries again: a retry
        console("error", T0 + 400, "Checkout failed: payment gateway unavailable"),
        identify("alice@example.com", T0 + 500, plan="enterprise"),
    ], release="2.4.1", environment="production")
    dead = record(app, project_key, "sess_dead_000000000002", [
        frustration("dead", T0 + 50, target='a#more "More"'),
        console("log", T0 + 60, "rendered the help page"),
        net(200, ORIGIN + "/api/help", T0 + 70),
    ], release="2.5.0", path="/help")
    plain = record(app, project_key, "sess_plain_00000000003", [net(404, ORIGIN + "/api/items/9", T0 + 20)],
                   path="/items")
    return {"rage": raging, "dead": dead, "plain": plain}


def found(client, token, query):
    r = get(client, f"/api/sessions?{query}", token)
    assert r.status_code == 200, r.get_json()
    return sorted(s["session"] for s in r.get_json()["sessions"])


def test_frustration_is_counted_listed_and_filtered(client, token, sessions):
    assert found(client, token, "frustration=rage") == [sessions["rage"]]
    assert found(client, token, "frustration=retry") == [sessions["rage"]]
    assert found(client, token, "frustration=dead") == [sessions["dead"]]
    [s] = [s for s in get(client, "/api/sessions", token).get_json()["sessions"] if s["session"] == sessions["rage"]]
    assert s["frustration"] == {"rage": 1, "dead": 0, "retry": 1}
    detail = get(client, f"/api/sessions/{sessions['rage']}", token).get_json()
    assert detail["counts"]["rage_clicks"] == 1 and detail["counts"]["retries"] == 1
    kinds = [(f["kind"], f.get("count")) for f in detail["frustrations"]]
    assert kinds == [("rage", 4), ("retry", 1)]
    retry = detail["frustrations"][1]
    assert (retry["method"], retry["url"], retry["of_status"], retry["status"]) == (
        "POST", ORIGIN + "/api/orders/17", 502, 502)


def test_release_reaches_the_list_the_filter_and_the_failure_groups(client, token, sessions):
    assert found(client, token, "release=2.4.1") == [sessions["rage"]]
    assert found(client, token, "release=2.5.0") == [sessions["dead"]]
    assert found(client, token, "release=9.9") == []
    [s] = [s for s in get(client, "/api/sessions", token).get_json()["sessions"] if s["session"] == sessions["rage"]]
    assert (s["release"], s["environment"], s["releases"]) == ("2.4.1", "production", ["2.4.1"])
    [group] = [g for g in get(client, "/api/failures", token).get_json()["groups"] if g["status"] == 502]
    assert group["releases"] == [{"release": "2.4.1", "sessions": 1}] and group["count"] == 2
    assert group["first_release"] == "2.4.1"


def test_a_failure_group_names_the_release_it_was_first_seen_in(app, client, token, project_key, sessions):
    # 2.5.0 fails the same way later, and an earlier 2.4.0 session is flushed last: the first call decides.
    record(app, project_key, "sess_later_00000000004", [net(502, ORIGIN + "/api/orders/18", T0 + 900, method="POST")],
           release="2.5.0")
    [group] = [g for g in get(client, "/api/failures", token).get_json()["groups"] if g["status"] == 502]
    assert group["first_release"] == "2.4.1"
    assert {r["release"]: r["sessions"] for r in group["releases"]} == {"2.4.1": 1, "2.5.0": 1}
    record(app, project_key, "sess_early_00000000005", [net(502, ORIGIN + "/api/orders/3", T0 + 10, method="POST")],
           release="2.4.0")
    [group] = [g for g in get(client, "/api/failures", token).get_json()["groups"] if g["status"] == 502]
    assert group["first_release"] == "2.4.0" and group["count"] == 4


def test_environment_is_listed_and_filtered(client, viewer, token, sessions):
    assert found(client, token, "environment=production") == [sessions["rage"]]
    assert found(client, token, "environment=staging") == []
    html = viewer.get("/?environment=production").get_data(as_text=True)
    assert f'data-session="{sessions["rage"]}"' in html and f'data-session="{sessions["dead"]}"' not in html
    assert 'class="env" href="/?environment=production"' in html


@pytest.mark.parametrize("q, who", [
    ("payment gateway", "rage"),          # console text, every word must be there
    ("Checkout FAILED", "rage"),          # case does not matter
    ("alice@example.com", "rage"),        # the user id
    ("enterprise", "rage"),               # a trait
    ("help", "dead"),                     # a page URL and a console line
    ("rendered", "dead"),
])
def test_search_finds_sessions_by_urls_user_and_messages(client, token, sessions, q, who):
    assert found(client, token, f"q={q}") == [sessions[who]]


def test_search_words_must_all_match_and_combine_with_filters(client, token, sessions):
    assert found(client, token, "q=payment rendered") == []
    assert found(client, token, "q=checkout&status=502") == [sessions["rage"]]
    assert found(client, token, "q=checkout&status=404") == []


def test_the_failing_endpoint_is_the_first_failed_call(client, token, sessions):
    listed = {s["session"]: s for s in get(client, "/api/sessions", token).get_json()["sessions"]}
    ep = listed[sessions["rage"]]["failing_endpoint"]
    assert (ep["method"], ep["route"], ep["status"]) == ("POST", "/api/orders/:id", 502)
    assert listed[sessions["dead"]]["failing_endpoint"] is None
    assert listed[sessions["plain"]]["failing_endpoint"]["route"] == "/api/items/:id"


@pytest.mark.parametrize("query", ["frustration=angry", "q=%20-%20", "q=a"])
def test_bad_new_filters_are_400_json(client, token, query):
    r = get(client, f"/api/sessions?{query}", token)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_parameter"


def test_the_sessions_page_shows_and_filters_the_new_columns(viewer, sessions):
    html = viewer.get("/?frustration=rage").get_data(as_text=True)
    assert sessions["rage"] in html and sessions["dead"] not in html
    assert 'class="badge fr-rage"' in html and "rage 1" in html and "retry 1" in html
    assert "2.4.1" in html and "/<wbr>api/<wbr>orders/<wbr>:id" in html  # the route, breakable after each slash
    html = viewer.get("/?q=rendered").get_data(as_text=True)
    assert sessions["dead"] in html and sessions["rage"] not in html
    r = viewer.get("/?frustration=angry")
    assert r.status_code == 400 and "frustration is" in r.get_data(as_text=True)


def test_the_replay_page_has_a_frustration_lane_and_panel(viewer, sessions):
    html = viewer.get(f"/sessions/{sessions['rage']}").get_data(as_text=True)
    assert 'class="marker frustration rage"' in html and 'class="marker frustration retry"' in html
    assert "Rage click: 4 clicks in a burst on button#save" in html
    assert 'data-panel="frustration"' in html and "2.4.1" in html
