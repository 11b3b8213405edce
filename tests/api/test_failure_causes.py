"""GET /api/failures by confirmed cause and upstream address: proxy lines posted to /ingest/logs, joined by the real
flush job, counted per group; the cause filter, and a clear 400 for a cause DESIGN does not name."""
import pytest

from tests.api.test_proxy_evidence import SESSION, access, error, post_lines, record
from tests.web_fixtures import T0, get
from worker import jobs


def groups(viewer, token, query=""):
    r = get(viewer, "/api/failures" + (f"?{query}" if query else ""), token)
    assert r.status_code == 200, r.get_json()
    return {(g["method"], g["route"], g["status"]): g for g in r.get_json()["groups"]}


PAY, SLOW = ("POST", "/api/pay", 502), ("GET", "/api/slow", 504)


def test_groups_carry_causes_and_upstreams_and_filter_by_cause(app, client, viewer, token, project_key):
    offset = record(app, project_key)
    before = groups(viewer, token)
    assert before[PAY]["causes"] == {"unconfirmed": 1} and before[PAY]["upstreams"] == {}
    sent = T0 + 200 + offset
    post_lines(client, app, project_key, [
        error(sent + 3, 41, "connect() failed (111: Connection refused) while connecting to upstream",
              "POST /api/pay?token=abc&step=2 HTTP/1.1"),
        access("/api/pay?token=abc&step=2", 502, sent + 5, 41, method="POST", upstream="10.0.0.7:8080"),
        # The 504's access line names its upstream but no error line settles why: still unconfirmed.
        access("/api/slow", 504, T0 + 400 + offset + 1002, 42, took="1.001", upstream="10.0.0.8:8080"),
    ])
    jobs.flush_session(SESSION)
    found = groups(viewer, token)
    assert (found[PAY]["causes"], found[PAY]["upstreams"]) == ({"upstream_refused": 1}, {"10.0.0.7:8080": 1})
    assert (found[SLOW]["causes"], found[SLOW]["upstreams"]) == ({"unconfirmed": 1}, {"10.0.0.8:8080": 1})
    assert list(groups(viewer, token, "cause=upstream_refused")) == [PAY]
    assert list(groups(viewer, token, "cause=unconfirmed&status=504")) == [SLOW]
    assert groups(viewer, token, "cause=upstream_timeout") == {}
    # The group's own endpoint says the same.
    r = get(viewer, f"/api/failures/{found[PAY]['id']}/sessions", token).get_json()
    assert r["group"]["causes"] == {"upstream_refused": 1} and r["sessions"][0]["session"] == SESSION
    # Another flush of the same session (nothing new) counts nothing twice.
    jobs.flush_session(SESSION)
    assert groups(viewer, token) == found
    # The session list takes the same filter: a session with a call of that cause.
    assert sessions(viewer, token, "cause=upstream_refused") == [SESSION]
    assert sessions(viewer, token, "cause=unconfirmed&status=504") == [SESSION]
    assert sessions(viewer, token, "cause=upstream_timeout") == []


def sessions(viewer, token, query):
    r = get(viewer, "/api/sessions?" + query, token)
    assert r.status_code == 200, r.get_json()
    return [s["session"] for s in r.get_json()["sessions"]]


@pytest.mark.parametrize("path", ["/api/failures", "/api/sessions"])
def test_an_unknown_cause_is_a_clear_400(app, viewer, token, path):
    r = get(viewer, path + "?cause=refused", token)
    assert r.status_code == 400
    err = r.get_json()["error"]
    assert err["code"] == "invalid_parameter" and "upstream_refused" in err["message"] and "unconfirmed" in err["message"]
