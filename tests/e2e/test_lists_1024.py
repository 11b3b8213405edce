"""The lists at 1024 px wide, with what widens them most: two projects (a Project column), long routes, a
call that got no response, a long entry URL. Nothing scrolls sideways and the call stays readable."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import ARTIFACTS, replay_cli
from tests.e2e.recorded import call, now_ms, page_load, record
from tests.e2e.test_viewer import login

LONG_ROUTE = "/api/v2/customers/accounts/billing-addresses/default/validation"


@pytest.fixture(scope="module")
def two_projects(replay_env, replay_server, site) -> list[str]:
    other_origin = "http://127.0.0.1:9"
    other = replay_cli(replay_env, "project", "create", "Back office with a long name", "--origin", other_origin)
    t0, sessions = now_ms(), []
    for n, (origin, key) in enumerate(((site["origin"], site["key"]), (other_origin, other))):
        entry = f"{origin}/account/settings/billing?tab=addresses&from=checkout-step-{n}"
        sessions.append(record(replay_env, origin, key, f"wide_lists_session_{n:04d}", [
            page_load(t0, entry, "Billing") + [
                call(t0 + 100, 30, "POST", origin + LONG_ROUTE + "?strict=1", 502),
                call(t0 + 200, 1500, "GET", origin + "/api/v2/customers/accounts/summary", 0, error="network"),
                call(t0 + 300, 9000, "PUT", origin + "/api/v2/orders/123456/items/789/quantity", 504)],
        ], url=entry))
    return sessions  # record() flushed them: they are listed


@pytest.mark.parametrize("path, shot", [("/failures", "failures-1024.png"), ("/", "sessions-1024.png"),
                                        ("group", "failure-group-wide-1024.png")])
def test_a_list_at_1024_px_fits_and_keeps_the_call_readable(browser, replay_server, viewer_login, two_projects,
                                                            path, shot):
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    page = context.new_page()
    login(page, replay_server, viewer_login, "/failures" if path == "group" else path)
    page.wait_for_selector("table.list tbody tr")
    if path == "group":  # the sessions behind the longest route's group
        page.locator("table.groups td.call a", has_text="validation").first.click()
        page.wait_for_url("**/failures/*")
        page.wait_for_selector("table.list tbody tr")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / shot), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024, "the page scrolls sideways"
    # A column hidden for the width goes with its heading: every row lines up under its headings.
    shown = "(cells) => cells.filter((c) => getComputedStyle(c).display !== 'none').length"
    headings = page.evaluate(f"({shown})([...document.querySelectorAll('table.list thead th')])")
    cells = page.evaluate(f"({shown})([...document.querySelectorAll('table.list tbody tr:first-child td')])")
    assert headings == cells
    column = {"/failures": "td.call", "/": "td.endpoint", "group": "td.entry"}[path]
    narrowest = page.evaluate(f"Math.min(...[...document.querySelectorAll('table.list {column}')]"
                              ".map((td) => td.getBoundingClientRect().width))")
    assert narrowest >= (90 if path == "group" else 150), f"the {column} column is {narrowest:.0f} px wide"
    if path != "/failures":
        entry = page.locator("table.list td.entry").first
        assert entry.inner_text().startswith("/account/settings/billing")
    context.close()
