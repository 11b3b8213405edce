"""Retries found from the calls, rage and dead clicks read from the snippet's events, and search terms."""
from replay.core import frustration as fr
from replay.core import search_terms as st
from replay.core.failure_signs import label, sign

URL = "https://shop.example/api/orders"


def call(start, status, duration=40.0, method="POST", url=URL):
    return {"method": method, "url": url, "status": status, "start_ms": start, "end_ms": start + duration}


def run(calls):
    state, found = {}, []
    for i, (c, failed) in enumerate(calls):
        s = fr.retry_of(state, "w1", c, failed, f"w1:1:{i}" if failed else None)
        if s:
            found.append(s)
    return found


def test_the_same_call_after_a_failure_is_a_retry_and_a_success_ends_the_chain():
    found = run([(call(1000, 502), True), (call(1500, 502), True), (call(2200, 200), False), (call(2600, 200), False)])
    assert [(s["of"], s["of_status"], s["status"]) for s in found] == [("w1:1:0", 502, 502), ("w1:1:1", 502, 200)]


def test_another_method_url_or_a_late_call_is_no_retry():
    assert run([(call(1000, 502), True), (call(1200, 200, method="GET"), False)]) == []
    assert run([(call(1000, 502), True), (call(1200, 200, url=URL + "/2"), False)]) == []
    assert run([(call(1000, 502), True), (call(1000 + 40 + fr.RETRY_WITHIN_MS + 1, 502), True)]) == []


def test_remembered_failures_are_capped_per_window():
    state = {}
    for i in range(fr.MAX_RETRY_KEYS + 20):
        fr.retry_of(state, "w1", call(i, 502, url=f"{URL}/{i}"), True, f"w1:1:{i}")
    assert len(state["w1"]) == fr.MAX_RETRY_KEYS and f"{URL}/0" not in " ".join(state["w1"])


def test_click_signals_are_read_defensively():
    def event(payload):
        return {"type": 5, "timestamp": 5, "data": {"tag": "replay.frustration", "payload": payload}}
    assert fr.click_signal(event({"kind": "rage", "count": 7, "x": 1.5, "y": 2, "target": "b" * 500})) == {
        "kind": "rage", "ts": 5, "count": 7, "x": 1, "y": 2, "target": "b" * fr.MAX_TARGET_CHARS}
    assert fr.click_signal(event({"kind": "retry"})) is None  # retries are the server's to find
    assert fr.click_signal(event({"kind": "dead", "count": True, "x": "1"}))["count"] == 1
    assert fr.click_signal({"type": 5, "data": {"tag": "replay.console", "payload": {}}}) is None


def test_search_terms_keep_words_emails_and_their_parts_capped():
    assert st.tokens("Checkout FAILED: see https://shop.example/api/orders?id=7") == [
        "checkout", "failed", "see", "shop.example", "shop", "example", "api", "orders", "id"]
    assert st.tokens("alice@example.com")[:3] == ["alice@example.com", "alice", "example"]
    terms = st.add_terms([], [f"word{i}" for i in range(st.MAX_TERMS + 50)])
    assert len(terms) == st.MAX_TERMS
    assert st.query_terms("Payment  gateway") == ["payment", "gateway"]


def test_signs_split_gateway_errors_by_timing_and_no_response_by_how_it_ended():
    assert sign({"status": 502, "duration_ms": 12}) == "quick"
    assert sign({"status": 502, "duration_ms": 8000}) == "waited"
    assert sign({"status": 502}) == "untimed"
    assert sign({"status": 404, "duration_ms": 8000}) == ""
    assert sign({"status": 0, "error": "abort"}) == "abort" and sign({"status": 0}) == "network"
    assert "refused or dropped" in label(502, "quick") and "never" not in label(502, "waited")
    assert label(404, "") == ""
