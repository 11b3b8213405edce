"""The sessions list over HTTP: GET /api/sessions filters and cursor, and the home page's form, table and pages."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.samples import SITE, T0
from tests.index.test_list import SESSIONS, make, sid
from replay.index import sessions as index


@pytest.fixture
def listed(app):
    """The six sessions of tests/worker/test_list.py, indexed in the app's Redis."""
    svc = app.extensions["replay"]
    for n, spec in SESSIONS.items():
        index.index_manifest(svc.redis, svc.keys, make(n, **spec))
    return svc


def api(client, token, **params):
    return client.get("/api/sessions", query_string=params, headers={"Authorization": f"Bearer {token}"})


def numbers(body) -> list[int]:
    return [int(s["session"][-6:]) for s in body["sessions"]]


@pytest.mark.parametrize("params,expected", [
    ({}, [6, 5, 4, 3, 2, 1]),
    ({"status": "502"}, [6, 1]),
    ({"status": "5xx"}, [6, 2, 1]),
    ({"status": "4xx"}, [4]),
    ({"status": "error"}, [3]),
    ({"url": "/api/orders"}, [6, 1]),
    ({"url": "123"}, [1]),
    ({"user": "alice"}, [3, 1]),
    ({"project": "p2"}, [5, 3]),
    ({"errors": "console"}, [3, 1]),
    ({"errors": "exception"}, [3, 2]),
    ({"errors": "any"}, [3, 2, 1]),
    ({"since": str(T0 + 3000)}, [6, 5, 4]),
    ({"until": "2024-11-22T04:33:21Z"}, [2, 1]),  # T0 + 1000 ms, as ISO 8601
    ({"until": "2024-11-22T04:33:21"}, [2, 1]),  # no offset: UTC
    ({"since": "2024-11-22T05:33:22+01:00", "until": str(T0 + 3000)}, [5, 4, 3]),
    ({"status": "5xx", "user": "alice", "errors": "console", "project": "p1", "url": "orders"}, [1]),
    ({"status": "5xx", "errors": "exception"}, [2]),
    ({"status": "", "url": "", "errors": ""}, [6, 5, 4, 3, 2, 1]),  # empty means no filter
])
def test_api_filters(client, token, listed, params, expected):
    r = api(client, token, **params)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert numbers(body) == expected and body["count"] == len(expected) and body["next_cursor"] is None


def test_api_lists_what_the_page_shows(client, token, listed):
    [s] = api(client, token, user="bob").get_json()["sessions"]
    assert (s["browser"], s["has_5xx"], s["pages_visited"], s["first_url"]) == ("Safari 17 / iOS", True, 1, SITE + "/")
    assert s["counts"]["exceptions"] == 2 and s["statuses"] == [504]
    assert s["replay_url"].endswith(f"/sessions/{sid(2)}")


def test_api_cursor_pages_through_everything_once(client, token, listed):
    seen, cursor = [], None
    while True:
        body = api(client, token, limit=2, **({"cursor": cursor} if cursor else {})).get_json()
        seen += numbers(body)
        cursor = body["next_cursor"]
        if not cursor:
            break
        assert re.fullmatch(r"\d+:sess_list_\d{6}", cursor)
    assert seen == [6, 5, 4, 3, 2, 1]
    # Filters and cursor together: 5xx sessions after the first one.
    first = api(client, token, status="5xx", limit=1).get_json()
    assert numbers(first) == [6] and first["next_cursor"] == f"{T0 + 4000}:{sid(6)}"
    assert numbers(api(client, token, status="5xx", cursor=first["next_cursor"]).get_json()) == [2, 1]


@pytest.mark.parametrize("query", ["status=teapot", "status=5x", "errors=warning", "errors=1", "cursor=abc",
                                   "cursor=1:x", "cursor=-5:sess_list_000001", "limit=0", "limit=501", "limit=abc",
                                   "since=yesterday", "until=2024-13-01", "since=1.5"])
def test_api_bad_values_are_400_json(client, token, listed, query):
    r = client.get(f"/api/sessions?{query}", headers={"Authorization": f"Bearer {token}"})
    body = r.get_json()
    assert r.status_code == 400 and body["error"]["code"] == "invalid_parameter" and body["error"]["message"]


# --- the page --------------------------------------------------------------------------------------------

def rows(html: str) -> list[str]:
    return re.findall(r'<tr class="[^"]*" data-session="([^"]+)"', html)


class _FormValues(HTMLParser):
    """What the filter form shows: each input's value, each select's selected option."""

    def __init__(self):
        super().__init__()
        self.values, self._select = {}, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and "name" in a:
            self.values[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = a.get("name")
            self.values[self._select] = ""
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def form_values(html: str) -> dict:
    form = re.search(r'<form class="list-filters".*?</form>', html, re.S).group(0)
    parser = _FormValues()
    parser.feed(form)
    return parser.values


def test_the_page_lists_newest_first_with_every_column(viewer, listed):
    r = viewer.get("/")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert rows(html) == [sid(n) for n in (6, 5, 4, 3, 2, 1)]
    row = re.search(rf'<tr class="has-5xx" data-session="{sid(1)}">(.*?)</tr>', html, re.S).group(1)
    # The start, date and time apart so that a narrow column wraps between them.
    assert f'href="/sessions/{sid(1)}"' in row and "<span>2024-11-22</span> <span>04:33:20 UTC</span>" in row
    assert ">40 ms<" in row
    assert ">alice</a>" in row and SITE + "/cart" in row
    assert re.search(r'class="num pages"[^>]*>3<', row)
    assert "Chrome 156 / Linux" in row and 'class="mark-5xx"' in row
    assert re.search(r'class="num failed">1\s*<span class="status s5">502</span>', row)
    assert re.search(r'class="num errors"[^>]*>1<', row)
    no_5xx = re.search(rf'<tr class="" data-session="{sid(4)}">(.*?)</tr>', html, re.S).group(1)
    assert "mark-5xx" not in no_5xx and '<span class="status s4">404</span>' in no_5xx


@pytest.mark.parametrize("query,expected", [
    ("status=502", [6, 1]),
    ("status=5xx&user=alice", [1]),
    ("errors=exception", [3, 2]),
    ("url=%2Fapi%2Forders&status=503", [6]),
    ("project=p2", [5, 3]),
    ("since=2024-11-22T04%3A33%3A22&until=2024-11-22T04%3A33%3A23", [5, 4, 3]),
])
def test_the_form_filters_live_in_the_url(viewer, listed, query, expected):
    html = viewer.get(f"/?{query}").get_data(as_text=True)
    assert rows(html) == [sid(n) for n in expected]
    # The form shows every filter of the URL, and only those.
    shown = {name: value for name, value in form_values(html).items() if value}
    assert shown == {name: value for name, [value] in parse_qs(query).items()}


def test_empty_fields_are_dropped_from_the_url(viewer, listed):
    r = viewer.get("/?status=502&url=&user=+&errors=&project=&since=&until=")
    assert r.status_code == 302 and r.headers["Location"] == "/?status=502"


def test_older_link_carries_the_filters_and_the_cursor(viewer, listed, monkeypatch):
    monkeypatch.setattr("replay.viewer.pages.LIST_PAGE_SIZE", 2)
    html = viewer.get("/?status=5xx").get_data(as_text=True)
    assert rows(html) == [sid(6), sid(2)]
    older = re.search(r'<a class="older" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert parse_qs(urlsplit(older).query) == {"status": ["5xx"], "cursor": [f"{T0 + 1000}:{sid(2)}"]}
    html = viewer.get(older).get_data(as_text=True)
    assert rows(html) == [sid(1)] and 'class="older"' not in html and "← Newest" in html


def test_bad_filters_show_the_form_with_a_message(viewer, listed):
    for query in ("status=teapot", "errors=warnings", "since=yesterday", "cursor=nope"):
        r = viewer.get(f"/?{query}")
        html = r.get_data(as_text=True)
        assert r.status_code == 400 and 'role="alert"' in html and "<form" in html and not rows(html), query


def test_empty_states(viewer, app):
    html = viewer.get("/").get_data(as_text=True)
    assert "No sessions recorded yet" in html
    assert "&lt;script src=&#34;http://localhost/snippet.js&#34; data-project-key=&#34;KEY&#34; async&gt;" in html
    assert "replay project create" in html
    html = viewer.get("/?status=502").get_data(as_text=True)
    assert "No sessions match these filters" in html and "No sessions recorded yet" not in html


def test_the_list_needs_a_login(client, listed):
    r = client.get("/?status=502")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_recorded_text_is_shown_as_text(viewer, app):
    svc = app.extensions["replay"]
    evil = '"><script>alert(1)</script>'
    m = make(77, T0, user="<img src=x onerror=alert(1)>", pages=("/?q=" + evil,), failures=[(502, "/x")],
             ua="Mozilla/5.0 <b>bold</b>")
    index.index_manifest(svc.redis, svc.keys, m)
    html = viewer.get("/").get_data(as_text=True)
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>bold" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
