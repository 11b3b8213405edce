"""A mutation flood (300,000 attribute changes) in a recorded page: a marked gap and a fresh snapshot, not tens of MB.

The snippet folds a second of changes into what is left of them (js-snippet/src/coalesce.js), so a flood that
rewrites the same few nodes costs a recording little; this one rewrites 8,000 nodes' 200-character attributes,
1.8 MB of changes left each second, over the flood guard's 1.5 MB (js-snippet/src/flood.js).
"""
from __future__ import annotations

import time

from replay.core.wire import TAG_GAP
from tests.e2e.conftest import poll
from tests.e2e.test_capture_502 import stored_events

FULL_SNAPSHOT = 2
MAX_UPLOAD_BYTES = 6 * 1024 * 1024

FLOOD = """async () => {
  const box = document.createElement('div');
  box.innerHTML = '<span></span>'.repeat(8000);
  document.body.appendChild(box);
  const spans = box.children;
  // Distinct values that gzip well: the fresh full snapshot after the gap stays one frame.
  const rnd = () => Math.random().toString(36).slice(2, 12);
  const noise = () => 'x'.repeat(180) + rnd() + rnd();
  await new Promise((ok) => setTimeout(ok, 300));
  for (let k = 0; k < 300; k++) {
    for (let i = 0; i < 1000; i++) spans[(k * 1000 + i) % 8000].setAttribute('data-v', noise());
    await new Promise((ok) => setTimeout(ok, 0));
  }
}"""


def test_a_mutation_flood_uploads_a_few_mb_and_marks_its_gap(browser, site, replay_env):
    context = browser.new_context()
    page = context.new_page()
    sent = {"bytes": 0, "last": time.monotonic()}

    def count(n: int) -> None:
        sent["bytes"] += n
        sent["last"] = time.monotonic()

    page.on("websocket", lambda ws: ws.on("framesent", lambda p: count(len(p.encode() if isinstance(p, str) else p))))
    page.on("request", lambda r: r.method == "POST" and "/ingest/" in r.url and count(len(r.post_data_buffer or b"")))
    page.goto(site["url"])
    page.wait_for_function("window.Replay && window.Replay.getSessionURL()")
    session_id = page.evaluate("window.Replay.getSessionURL()").rsplit("/sessions/", 1)[1].split("?")[0]
    page.evaluate(FLOOD)
    assert page.evaluate("1 + 1") == 2  # the tab answers
    deadline = time.monotonic() + 60
    while time.monotonic() - sent["last"] < 3 and time.monotonic() < deadline:
        page.wait_for_timeout(250)  # until the page has sent nothing for 3 s
    context.close()
    assert 0 < sent["bytes"] < MAX_UPLOAD_BYTES, f"the flood uploaded {sent['bytes']:,} bytes"

    def gap_then_snapshot():
        events = stored_events(replay_env, session_id)
        gaps = [i for i, e in enumerate(events) if e.get("type") == 5 and e["data"].get("tag") == TAG_GAP]
        return gaps and any(e.get("type") == FULL_SNAPSHOT for e in events[gaps[0]:]) and (events, gaps)

    events, gaps = poll(gap_then_snapshot, timeout_s=60)
    assert events[gaps[0]]["data"]["payload"]["events"] > 0
