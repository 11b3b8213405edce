"""Frustration in Chromium through real nginx: a user rage-clicks Pay, whose call fails 502 and the page retries it;
the sessions list finds the session by filter and by a console line's words, and the viewer marks the rage click."""
from __future__ import annotations

import pytest

from tests.conftest import free_port
from tests.e2e.conftest import ARTIFACTS, poll, replay_cli
from tests.e2e.test_viewer import login
from tests.nginx import running_nginx

RELEASE = "3.1.0-rc2"
CONSOLE_WORDS = "issuer declined reference QX7731"
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme Checkout</title>
<script src="__SNIPPET__" data-project-key="__KEY__" data-release="__RELEASE__" data-environment="e2e" async></script>
<style>body{font-family:sans-serif;margin:40px} button{font-size:18px;padding:10px 24px}</style>
</head><body><h1>Checkout</h1>
<p><button id="pay" type="button">Pay now</button> <a id="help" href="#" onclick="return false">Help</a></p>
<p id="result">Not paid yet.</p>
<script>
  window.__answers = 0;
  function pay(retry) {
    return fetch('/api/pay', {method: 'POST', body: '{"cart": 42}'}).then(function (r) {
      window.__answers++;
      if (r.status >= 500 && !retry) return new Promise(function (ok) { setTimeout(ok, 300); }).then(function () { return pay(true); });
      document.getElementById('result').textContent = 'Payment failed: ' + r.status;
      console.warn('payment widget: __WORDS__');
    });
  }
  document.getElementById('pay').addEventListener('click', function () { pay(false); });
</script>
</body></html>"""


@pytest.fixture(scope="module")
def checkout(replay_env, replay_server, tmp_path_factory):
    """nginx serving the checkout page, with /api/ proxied to a port where nothing listens (a real 502)."""
    port, dead_port = free_port(), free_port()
    origin = f"http://127.0.0.1:{port}"
    key = replay_cli(replay_env, "project", "create", "checkout", "--origin", origin)
    root = tmp_path_factory.mktemp("checkout-site")
    html = (PAGE.replace("__SNIPPET__", f"{replay_server}/snippet.js").replace("__KEY__", key)
            .replace("__RELEASE__", RELEASE).replace("__WORDS__", CONSOLE_WORDS))
    (root / "index.html").write_text(html)
    locations = f"location / {{ root {root}; }}  location /api/ {{ proxy_pass http://127.0.0.1:{dead_port}; }}"
    with running_nginx(tmp_path_factory.mktemp("checkout-nginx"), port, locations):
        yield {"url": origin + "/"}


def rage_click(browser, url: str) -> str:
    """Open the page, click Pay four times within a second, click a dead link; the session id."""
    context = browser.new_context()
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_function("window.Replay && window.Replay.getSessionURL && window.Replay.getSessionURL()")
    session_id = page.evaluate("window.Replay.getSessionURL()").split("/sessions/")[1].split("?")[0]
    for _ in range(4):
        page.click("#pay", delay=20)
        page.wait_for_timeout(120)
    page.wait_for_function("window.__answers >= 8")  # four clicks, each tried again once: all 502
    page.wait_for_timeout(1300)  # the burst is over: the snippet sends the rage click
    page.click("#help")
    page.wait_for_timeout(2000)  # nothing happens: a dead click
    assert errors == []
    # Leaving the page sends what is left.
    context.close()
    return session_id


def test_rage_clicks_retries_and_search_from_the_list_to_the_viewer(browser, checkout, api, replay_server,
                                                                     viewer_login):
    session_id = rage_click(browser, checkout["url"])

    def listed(**params):
        return [s for s in api("/api/sessions", **params).json().get("sessions", []) if s["session"] == session_id]

    [summary] = poll(lambda: listed(frustration="rage"), timeout_s=30)
    assert poll(lambda: listed(frustration="dead") and listed(frustration="retry"))
    summary = listed(frustration="rage")[0]
    assert summary["frustration"]["rage"] == 1 and summary["frustration"]["retry"] >= 4
    assert summary["release"] == RELEASE and summary["environment"] == "e2e"
    assert (summary["failing_endpoint"]["method"], summary["failing_endpoint"]["route"]) == ("POST", "/api/pay")
    assert listed(release=RELEASE) and not listed(release="0.0.1")
    assert listed(q="qx7731 issuer") and not listed(q="qx7731 nowhere")
    detail = api(f"/api/sessions/{session_id}").json()
    [rage] = [f for f in detail["frustrations"] if f["kind"] == "rage"]
    assert rage["count"] == 4 and 'button#pay "Pay now"' == rage["target"]
    [dead] = [f for f in detail["frustrations"] if f["kind"] == "dead"]
    assert dead["target"] == 'a#help "Help"'

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    login(page, replay_server, viewer_login, "/")
    page.wait_for_selector("form.list-filters")
    # The filter, from the form.
    page.select_option("form.list-filters select[name=frustration]", "rage")
    page.click("form.list-filters button[type=submit]")
    page.wait_for_url(lambda url: url.endswith("/?frustration=rage"))
    row = page.locator(f"table.sessions tbody tr[data-session='{session_id}']")
    assert row.locator("td.frustration .fr-rage").inner_text() == "rage 1"
    assert row.locator("td.frustration .fr-dead").inner_text() == "dead 1"
    assert row.locator("td.release").inner_text().split() == [RELEASE, "e2e"]  # the release, and its environment
    assert row.locator("td.endpoint").inner_text() == "POST /api/pay"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "sessions-frustration.png"), full_page=True)

    # The search box finds it by the words of a console line.
    page.goto(replay_server + "/")
    page.fill("form.list-filters input[name=q]", "QX7731")
    page.click("form.list-filters button[type=submit]")
    page.wait_for_url(lambda url: "q=QX7731" in url)
    assert page.locator("table.sessions tbody tr").evaluate_all("rows => rows.map(r => r.dataset.session)") == [
        session_id]
    page.set_viewport_size({"width": 1024, "height": 768})
    page.screenshot(path=str(ARTIFACTS / "sessions-search-1024.png"), full_page=True)

    # The failed calls: one group, a quick 502 whose line names both causes it fits, seen in this release.
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(replay_server + "/failures?url=/api/pay")
    group = page.locator("table.groups tbody tr").first
    assert "refused or dropped" in group.locator(".sign").inner_text()
    assert group.locator("td.releases").inner_text() == RELEASE
    page.screenshot(path=str(ARTIFACTS / "failures-signs.png"), full_page=True)
    page.set_viewport_size({"width": 1024, "height": 768})
    page.screenshot(path=str(ARTIFACTS / "failures-signs-1024.png"), full_page=True)
    group.locator("td.call a").click()
    page.wait_for_selector("p.group-facts")
    assert f"seen in release {RELEASE} (1)" in page.locator("p.group-facts").first.inner_text()
    assert page.locator("p.group-facts .first-release").inner_text() == RELEASE  # where the failure was first seen
    assert "refused or dropped" in page.locator("p.group-facts.sign").inner_text()
    page.screenshot(path=str(ARTIFACTS / "failure-group-1024.png"), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 900})

    # The viewer: a rage-click marker on the timeline, its legend, and the panel's rows.
    page.goto(f"{replay_server}/sessions/{session_id}")
    page.wait_for_selector(".lane.frustration .marker.rage", state="attached")
    assert page.locator(".lane.frustration .marker.rage").count() == 1
    assert page.locator(".lane.frustration .marker.retry").count() >= 4
    assert "Rage clicks" in page.locator(".timeline .legend").inner_text()
    page.click("button[data-panel=frustration]")
    rows = page.locator("#panel-frustration li.row")
    assert "Rage click: 4 clicks in a burst on button#pay" in rows.first.inner_text() or any(
        "Rage click: 4 clicks" in t for t in rows.all_inner_texts())
    page.locator("#panel-frustration li.row.rage button.seek").click()
    page.screenshot(path=str(ARTIFACTS / "viewer-frustration.png"), full_page=True)
    page.set_viewport_size({"width": 1024, "height": 768})
    page.screenshot(path=str(ARTIFACTS / "viewer-frustration-1024.png"), full_page=True)
    context.close()
