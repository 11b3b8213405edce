"""A refused snippet says why: the test site opened as `localhost` while its project lists `127.0.0.1`."""
from __future__ import annotations


def test_a_refused_origin_says_once_in_the_console_which_origin_to_add(browser, site):
    context = browser.new_context()
    page = context.new_page()
    lines = []
    page.on("console", lambda m: lines.append(m.text))
    port = site["origin"].rsplit(":", 1)[1]
    localhost = f"http://localhost:{port}"
    page.goto(localhost + "/")
    # Playwright hands over console events while it waits.
    for _ in range(60):
        if any(line.startswith("replay:") for line in lines):
            break
        page.wait_for_timeout(250)
    page.wait_for_timeout(3000)  # time for a retry, were there one
    context.close()
    ours = [line for line in lines if "replay" in line]
    assert len(ours) == 1, lines
    assert ours[0].startswith("replay: not recording: origin " + localhost)
    assert f"replay project origin add {site['key']} {localhost}" in ours[0], ours[0]
    assert "\n" not in ours[0]
