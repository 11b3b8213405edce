"""The viewer's CSP: the replay may load images, styles and fonts only from this host and its project's origins."""
from __future__ import annotations

from replay.web.security import csp
from tests.web_fixtures import ORIGIN


def directive(policy: str, name: str) -> list[str]:
    found = [d.split()[1:] for d in policy.split(";") if d.split() and d.split()[0] == name]
    assert len(found) == 1, policy
    return found[0]


def test_pages_load_assets_from_no_other_host(viewer):
    policy = viewer.get("/").headers["Content-Security-Policy"]
    for name in ("img-src", "style-src", "font-src", "media-src", "default-src", "connect-src"):
        sources = directive(policy, name)
        assert "*" not in sources and not any(s.startswith(("http:", "https:")) for s in sources), (name, sources)


def test_the_replay_page_allows_its_projects_origins_only(viewer, recorded):
    policy = viewer.get(f"/sessions/{recorded}").headers["Content-Security-Policy"]
    for name in ("img-src", "style-src", "font-src", "media-src"):
        sources = directive(policy, name)
        assert ORIGIN in sources and "*" not in sources
    assert directive(policy, "script-src") == ["'self'"]
    assert directive(policy, "connect-src") == ["'self'"]


def test_an_origin_that_could_break_out_of_the_header_is_left_out():
    policy = csp(("https://shop.example", "https://a.example; script-src *", "https://ok.example:8443"))
    assert "script-src *" not in policy and "https://ok.example:8443" in directive(policy, "img-src")
