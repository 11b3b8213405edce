"""The sessions list in Chromium: filter to the 502 sessions with the form, read the row, bookmark, open the session."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_capture_502 import place_order, wait_for_failure
from tests.e2e.test_viewer import login


def test_filter_to_502_sessions_and_open_one(browser, site, api, replay_server, viewer_login):
    session_id = place_order(browser, site)
    wait_for_failure(api, session_id)
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    login(page, replay_server, viewer_login, "/")
    page.wait_for_selector("form.list-filters")

    page.fill("form.list-filters input[name=status]", "502")
    page.click("form.list-filters button[type=submit]")
    page.wait_for_url(lambda url: urlsplit(url).query == "status=502")
    # Only what is filtered is in the URL: empty fields are dropped.
    assert parse_qs(urlsplit(page.url).query) == {"status": ["502"]}
    rows = page.locator("table.sessions tbody tr")
    assert rows.count() >= 1
    assert page.locator("table.sessions tbody tr .mark-5xx").count() == rows.count()

    row = page.locator(f"table.sessions tbody tr[data-session='{session_id}']")
    assert row.locator(".mark-5xx").inner_text() == "5xx"
    # The entry page by its path (the host is in its title: the project tells sites apart).
    entry = row.locator("td.entry")
    assert entry.inner_text() == "/" and entry.get_attribute("title") == site["url"]
    assert row.locator("td.pages").inner_text() == "1"
    assert row.locator("td.browser").inner_text().startswith("Headless Chrome ")
    assert row.locator("td.browser").inner_text().endswith(" / Linux")
    assert row.locator("td.failed").inner_text().split() == ["1", "502"]
    assert row.locator("td.failed .status").evaluate("e => getComputedStyle(e).color") == "rgb(198, 40, 40)"
    assert row.locator("td.errors").inner_text() == "2"  # console.error and the page's TypeError
    assert row.locator("td.user").inner_text() == "—"
    assert row.locator("td.duration").inner_text().endswith(("ms", "s"))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "sessions-list.png"), full_page=True)

    # Narrow further with the form: the URL carries every filter, and opening it again gives the same list.
    page.fill("form.list-filters input[name=url]", "/api/orders")
    page.select_option("form.list-filters select[name=errors]", "exception")
    page.click("form.list-filters button[type=submit]")
    page.wait_for_url(lambda url: "errors=exception" in url)
    assert parse_qs(urlsplit(page.url).query) == {"status": ["502"], "url": ["/api/orders"], "errors": ["exception"]}
    listed = page.locator("table.sessions tbody tr").evaluate_all("rows => rows.map(r => r.dataset.session)")
    assert session_id in listed
    bookmarked = context.new_page()
    bookmarked.goto(page.url)
    assert bookmarked.locator("table.sessions tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.session)") == listed
    assert bookmarked.locator("input[name=url]").input_value() == "/api/orders"
    assert bookmarked.locator("select[name=errors]").input_value() == "exception"
    bookmarked.close()

    # A user filter that matches nothing: an explained empty list, not the embedding instructions.
    page.goto(replay_server + "/?status=502&user=nobody-at-all")
    assert "No sessions match these filters" in page.locator("main").inner_text()

    page.go_back()
    page.locator(f"tr[data-session='{session_id}'] td.started a").click()
    page.wait_for_url(f"**/sessions/{session_id}")
    assert page.title() and "Not Found" not in page.title()
    page.wait_for_selector("#player")
    context.close()
