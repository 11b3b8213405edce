"""From a refused origin to a recording, in Chromium: the settings page lists the origin with its count, and
its Allow button lets the next page load record."""
from __future__ import annotations

from tests.e2e.conftest import ARTIFACTS, poll
from tests.e2e.test_viewer import login


def open_site(browser, url):
    """Load the page, give the snippet time to connect (or be refused), then leave (pagehide sends the rest)."""
    context = browser.new_context()
    page = context.new_page()
    lines = []
    page.on("console", lambda m: lines.append(m.text))
    page.goto(url)
    page.wait_for_timeout(1500)
    context.close()
    return lines


def test_allow_a_refused_origin_from_the_settings_page(browser, site, api, replay_server, viewer_login):
    port = site["origin"].rsplit(":", 1)[1]
    localhost = f"http://localhost:{port}"  # the project lists 127.0.0.1 only
    lines = open_site(browser, localhost + "/")
    assert any(line.startswith("replay: not recording: origin " + localhost) for line in lines), lines
    assert api("/api/sessions", project=site["key"]).json()["sessions"] == []

    context = browser.new_context(viewport={"width": 1024, "height": 768})
    page = context.new_page()
    login(page, replay_server, viewer_login, "/settings")
    page.wait_for_url(replay_server + "/settings")
    row = page.locator(f'#p-{site["key"]} tr[data-origin="{localhost}"]')
    assert int(row.locator("td.count").inner_text()) >= 1
    assert row.locator("td.when").inner_text().endswith("UTC")
    assert f"replay project origin add {site['key']} {localhost}" in row.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "settings-refused.png"), full_page=True)
    row.get_by_role("button", name=f"Allow {localhost}").click()
    page.wait_for_url(f"{replay_server}/settings#p-{site['key']}")
    assert f"{localhost} may now send to acme." in page.locator(".notice").inner_text()
    assert page.locator(f'#p-{site["key"]} tr[data-origin="{localhost}"]').count() == 0
    assert page.locator(f'#p-{site["key"]} ul.origins').inner_text().count(localhost) == 1
    context.close()

    lines = open_site(browser, localhost + "/")
    assert not any(line.startswith("replay: not recording") for line in lines), lines
    found = poll(lambda: [s for s in api("/api/sessions", project=site["key"]).json()["sessions"]
                          if (s.get("first_url") or "").startswith(localhost)])
    assert len(found) == 1
