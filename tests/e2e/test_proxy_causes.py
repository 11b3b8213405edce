"""The proxy's cause under the failed call for the failures nginx answers without a working upstream, end to end:
Chromium on a page behind a real nginx whose logs go to `replay serve` over syslog. An upstream name that does not
resolve (the resolver answers NXDOMAIN), a response header larger than proxy_buffer_size, a reply that is not HTTP
(nginx relays it as HTTP/0.9, which Chromium refuses) and one with a malformed header, a group whose servers were
all marked failed, and limit_req's rejection. Each call says "Confirmed" with its cause, matched by session."""
from __future__ import annotations

from tests.e2e.conftest import ARTIFACTS, poll
from tests.e2e.test_proxy_join import shop, shop_session  # noqa: F401 (the nginx and page of that file, anew here)
from tests.e2e.test_viewer import login

# (path the page fetches, status the page sees, cause, words the headline or the fix must hold). The first
# /fail/no_live call marks both servers of group all_down failed (each refuses, max_fails=1); the first
# /fail/limited call passes (limit_req rate=1r/m), the second is rejected.
CASES = [("/fail/dns?order=1", 502, "upstream_dns", "nowhere.invalid"),
         ("/fail/big_header?order=2", 502, "upstream_header_too_big", "proxy_buffer_size"),
         ("/fail/no_http?order=3", 0, "upstream_bad_response", "status line"),
         ("/fail/bad_header?order=4", 502, "upstream_bad_response", "malformed response header"),
         ("/fail/no_live?order=5", 502, "upstream_refused", "refused nginx's connection"),
         ("/fail/no_live?order=6", 502, "no_live_upstreams", "upstream group all_down"),
         ("/fail/limited?order=7", 200, None, None),
         ("/fail/limited?order=8", 503, "rate_limited", 'limit_req zone "tight"')]
FAILED = [c for c in CASES if c[2]]
# The message of the error line that settles each call (the line itself is shown verbatim).
LINES = {"order=1": "nowhere.invalid could not be resolved (3: Host not found)",
         "order=2": "upstream sent too big header while reading response header from upstream",
         "order=3": "upstream sent no valid HTTP/1.0 header while reading response header from upstream",
         "order=4": 'upstream sent invalid header: "Bad\\x01..." while reading response header from upstream',
         "order=5": "connect() failed (111: Connection refused) while connecting to upstream",
         "order=6": "no live upstreams while connecting to upstream",
         "order=8": 'by zone "tight"'}  # after "limiting requests, excess: 0.999" (how far over, by the clock)


def test_each_failure_nginx_names_is_confirmed_under_its_call(browser, shop, api, replay_server,  # noqa: F811
                                                               viewer_login):
    session_id = shop_session(browser, shop, CASES)

    def joined():
        r = api(f"/api/sessions/{session_id}/calls")
        calls = [c for c in r.json().get("calls", []) if c.get("failed")] if r.status_code == 200 else []
        return calls if len(calls) == len(FAILED) and all(c["diagnosis"]["confirmed"] for c in calls) else None

    calls = poll(joined, timeout_s=60)
    by_order = {c["url"].rsplit("?", 1)[1]: c for c in calls}
    for path, status, cause, words in FAILED:
        order = path.rsplit("?", 1)[1]
        call = by_order[order]
        d, proxy = call["diagnosis"], call["proxy"]
        assert (call["status"] or 0, d["cause"], d["confirmed"], d["matched_by"]) == (status, cause, True, "session"), d
        assert d["title"].startswith("Confirmed: ") and d["title"].endswith(f"({cause})")
        assert words in d["title"] + " " + d["summary"], d
        assert proxy["uri"] == path and proxy["via"] == "syslog" and proxy["matched_by"] == "session"
        assert proxy["status"] == (status or 9)  # nginx logs the relayed HTTP/0.9 reply as status "009"
        settling = [e for e in proxy["error_log"] if e["cause"]][-1]
        assert settling["cause"] == cause and f" {LINES[order]}, client: " in settling["line"]
        assert f"nginx error log: {settling['line']}" in d["evidence"]
    assert "[error] " in by_order["order=8"]["proxy"]["error_log"][-1]["line"] and \
        " limiting requests, excess: " in by_order["order=8"]["proxy"]["error_log"][-1]["line"]

    # What nginx did without an upstream: no upstream tried (a name that did not resolve, limit_req), or only the
    # group's name where every server was marked failed.
    assert by_order["order=1"]["proxy"]["upstreams"] == by_order["order=8"]["proxy"]["upstreams"] == []
    assert [u["addr"] for u in by_order["order=6"]["proxy"]["upstreams"]] == ["all_down"]
    assert [u["addr"] for u in by_order["order=5"]["proxy"]["upstreams"]] == [
        e["upstream"].split("/")[2] for e in by_order["order=5"]["proxy"]["error_log"] if e["cause"]]
    evidence = "\n".join(by_order["order=6"]["diagnosis"]["evidence"])
    assert "no server of upstream group all_down was tried" in evidence and "all_down answered" not in evidence
    assert "no upstream tried" in "\n".join(by_order["order=8"]["diagnosis"]["evidence"])
    assert "(3: Host not found)" in by_order["order=1"]["diagnosis"]["summary"]
    # nginx logs no buffer size: the fix names the directive and its default, not this nginx's 1k.
    assert "the log does not say its value" in by_order["order=2"]["diagnosis"]["summary"]

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    for order, name in (("order=1", "dns"), ("order=3", "no-http"), ("order=6", "no-live"), ("order=8", "limited")):
        call = by_order[order]
        url = f"/sessions/{session_id}?call={call['id']}"
        if name == "dns":
            login(page, replay_server, viewer_login, url)
        else:
            page.goto(replay_server + url)
        details = page.locator(f"li[data-call-id='{call['id']}'] details")
        details.locator("section.proxy-logged").wait_for()
        card = details.locator("section.diagnosis")
        title = card.locator(".diag-title").inner_text()
        assert card.get_attribute("class").split()[-1] == "confirmed"
        assert title.startswith("Confirmed: ") and f"({call['diagnosis']['cause']})" in title
        logged = details.locator("section.proxy-logged").inner_text()
        assert LINES[order] in logged and "matched by session" in logged.lower()
        page.get_by_text("Loading the recording").wait_for(state="hidden")
        card.evaluate("s => s.scrollIntoView({block: 'start'})")
        page.screenshot(path=str(ARTIFACTS / f"proxy-cause-{name}.png"))
        if name == "no-http":
            assert "009 (an HTTP/0.9 reply)" in logged and "network error" in card.inner_text()
        if name == "no-live":
            assert "group all_down: no server tried" in logged
            assert "never reached it" in card.inner_text()
            details.locator("section.proxy-logged").evaluate("s => s.scrollIntoView({block: 'center'})")
            page.screenshot(path=str(ARTIFACTS / "proxy-cause-no-live-logged.png"))
    page.close()
