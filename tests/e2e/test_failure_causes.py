"""The failed-calls overview by cause, end to end: two Chromium sessions call through a real nginx to a port where
nothing listens; nginx ships its logs to `replay serve` over syslog. /failures shows the group's calls confirmed as
upstream_refused with the upstream address nginx tried, and the Cause filter keeps them (and drops them for another
cause); the group's page says the same, and the sessions list filters by cause too. Screenshots at 1400 and 1024 px."""
from __future__ import annotations

from tests.e2e.conftest import ARTIFACTS, poll
from tests.e2e.test_proxy_join import failed_calls, shop, shop_session  # noqa: F401 (shop is a fixture)
from tests.e2e.test_viewer import login

REFUSED = [("/fail/refused?order=21", 502, None, None)]


def refused_group(api):
    r = api("/api/failures?cause=upstream_refused")
    groups = [g for g in r.json()["groups"] if g["route"] == "/fail/refused"] if r.status_code == 200 else []
    return groups[0] if groups and groups[0]["causes"].get("upstream_refused") == 2 else None


def test_failures_page_counts_confirmed_causes_and_upstreams_and_filters_by_cause(browser, shop, api,
                                                                                  replay_server, viewer_login):
    sessions = [shop_session(browser, shop, REFUSED) for _ in range(2)]
    group = poll(lambda: refused_group(api), timeout_s=60)
    [call] = poll(lambda: [c for c in failed_calls(api, sessions[0]) if c["diagnosis"]["confirmed"]], timeout_s=30)
    addr = call["proxy"]["upstreams"][0]["addr"]
    assert group["causes"] == {"upstream_refused": 2} and group["upstreams"] == {addr: 2}
    assert group["sessions"] == 2
    assert api("/api/failures?cause=bogus").status_code == 400

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    login(page, replay_server, viewer_login, "/failures")
    row = page.locator(f"tr[data-group='{group['id']}']")
    causes = row.locator("td.causes")
    assert "confirmed: upstream_refused ×2" in causes.inner_text()
    assert f"{addr} ×2" in causes.inner_text()
    totals = page.locator(".cause-totals").inner_text()
    assert "upstream_refused" in totals and addr in totals
    page.screenshot(path=str(ARTIFACTS / "failures-causes.png"), full_page=True)

    # The Cause filter: the group stays, with its counts; another cause leaves nothing.
    page.select_option("select[name=cause]", "upstream_refused")
    page.click("form.list-filters button[type=submit]")
    page.wait_for_url("**/failures?cause=upstream_refused")
    assert page.locator("table.groups tbody tr").count() >= 1
    assert "confirmed: upstream_refused ×2" in page.locator(f"tr[data-group='{group['id']}'] td.causes").inner_text()
    assert page.locator("select[name=cause]").input_value() == "upstream_refused"
    page.set_viewport_size({"width": 1024, "height": 768})
    page.screenshot(path=str(ARTIFACTS / "failures-causes-1024.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024, "the page scrolls sideways"
    page.goto(f"{replay_server}/failures?cause=upstream_timeout&url=/fail/refused")
    assert page.locator(f"tr[data-group='{group['id']}']").count() == 0
    assert "No failed calls match these filters" in page.locator("main").inner_text()

    # The group's page lists its causes and upstreams, and a cause badge leads back to the filtered list.
    page.goto(f"{replay_server}/failures/{group['id']}")
    facts = page.locator(".cause-totals").inner_text()
    assert "confirmed: upstream_refused ×2" in facts and f"{addr} ×2" in facts
    assert {page.locator("table.list tbody tr").nth(i).get_attribute("data-session") for i in range(2)} == set(sessions)
    page.screenshot(path=str(ARTIFACTS / "failure-group-causes-1024.png"), full_page=True)
    page.locator(".cause-totals a.badge").first.click()
    page.wait_for_url("**/failures?cause=upstream_refused")

    # The sessions list takes the same filter: both sessions, and none for another cause.
    page.goto(f"{replay_server}/?url=/fail/refused")
    page.select_option("select[name=cause]", "upstream_refused")
    page.click("form.list-filters button[type=submit]")
    page.wait_for_url("**cause=upstream_refused**")
    listed = {page.locator("table.sessions tbody tr").nth(i).get_attribute("data-session")
              for i in range(page.locator("table.sessions tbody tr").count())}
    assert listed == set(sessions)
    page.screenshot(path=str(ARTIFACTS / "sessions-by-cause-1024.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024, "the page scrolls sideways"
    page.goto(f"{replay_server}/?cause=upstream_timeout&url=/fail/refused")
    assert page.locator("table.sessions tbody tr").count() == 0
    page.close()
