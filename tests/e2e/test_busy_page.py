"""A page rewriting a big table many times a second is recorded whole: no gap, and its replay ends on the table's
last state. The snippet folds bursts of DOM changes into one event (js-snippet/src/coalesce.js) and packs it
(js-snippet/src/pack.js); the flood guard (js-snippet/src/flood.js) leaves such a page alone. The events are read
as the viewer reads them, through the API, which unpacks them (replay/core/mutations.py)."""
from __future__ import annotations

import json
import time

from replay.core.wire import TAG_GAP
from tests.e2e.conftest import ARTIFACTS, poll
from tests.e2e.test_capture_502 import stored_events
from tests.e2e.test_replay_page import open_page

# bench/page_cost.py's workload, smaller: a 300 x 8 table, 60 rounds of 600 cells' text, 30 class toggles and
# 10 rows replaced, each round a task of its own.
WORKLOAD = """async () => {
  const ROWS = 300, table = document.createElement('table'), body = table.createTBody();
  table.id = 'busy';
  const cell = (n) => '<td>' + n + '</td>';
  const row = (r, k) => '<tr>' + Array.from({length: 8}, (_, c) => cell(r * 8 + c + k)).join('') + '</tr>';
  body.innerHTML = Array.from({length: ROWS}, (_, r) => row(r, 0)).join('');
  document.body.appendChild(table);
  for (let k = 1; k <= 60; k++) {
    const cells = body.querySelectorAll('td');
    for (let i = 0; i < 600; i++) cells[(i * 3 + k * 7) % cells.length].textContent = 'v' + k + '.' + i;
    for (let i = 0; i < 30; i++) body.rows[(i * 10 + k) % ROWS].classList.toggle('hot');
    for (let i = 0; i < 10; i++) body.rows[(i * 30 + k * 3) % ROWS].outerHTML = row(i, k);
    await new Promise((ok) => setTimeout(ok, 0));
  }
  return Array.from(body.querySelectorAll('td'), (td) => td.textContent);
}"""

REPLAY_TO_END = """async (events) => {
  const player = new rrwebPlayer({target: document.body, props: {events, autoPlay: false}});
  const replayer = player.getReplayer();
  // Paused past the last event: the replayer applies every event before the time it pauses at.
  replayer.pause(events[events.length - 1].timestamp - events[0].timestamp + 1000);
  await new Promise((ok) => setTimeout(ok, 500));
  return Array.from(replayer.iframe.contentDocument.querySelectorAll('#busy td'), (td) => td.textContent);
}"""


def record_script(browser, url: str, script: str) -> tuple[str, object]:
    """Open `url` (the snippet records it), run `script` there, and wait until the page has sent nothing for 4 s:
    its last changes are held (at most 1 s), then sent (every 2 s). The session's id and what the script gave."""
    context = browser.new_context()
    page = context.new_page()
    last = {"sent": time.monotonic()}
    page.on("websocket", lambda ws: ws.on("framesent", lambda _: last.update(sent=time.monotonic())))
    page.goto(url)
    page.wait_for_function("window.Replay && window.Replay.getSessionURL()")
    session_id = page.evaluate("window.Replay.getSessionURL()").rsplit("/sessions/", 1)[1].split("?")[0]
    result = page.evaluate(script)
    deadline = time.monotonic() + 60
    while time.monotonic() - last["sent"] < 4 and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    context.close()
    return session_id, result


def test_a_busy_table_is_recorded_without_gaps_and_replays_to_its_last_state(browser, site, replay_env,
                                                                           replay_server, api, viewer_login):
    session_id, final = record_script(browser, site["url"], WORKLOAD)

    def complete():
        answer = api(f"/api/sessions/{session_id}/events")
        events = answer.json() if answer.status_code == 200 else []
        text = json.dumps(events, separators=(",", ":"))
        return all(f'"textContent":"{t}"' in text for t in set(final)) and events

    events = poll(complete, timeout_s=60)
    # Stored as the page sent them: its mutations packed (about a third of rrweb's JSON, before gzip).
    stored = stored_events(replay_env, session_id)
    packed = [e for e in stored if e.get("type") == 3 and e["data"].get("packed")]
    assert packed and not [e for e in stored if e.get("type") == 3 and e["data"].get("adds")]
    assert [e for e in events if e.get("type") == 5 and e["data"].get("tag") == TAG_GAP] == []

    viewer = browser.new_context().new_page()
    viewer.set_content(f"<body><script src='{replay_server}/static/rrweb-player.js'></script></body>")
    viewer.wait_for_function("!!window.rrwebPlayer")
    # In time order, as the viewer feeds them (a call's event carries the time it started).
    assert viewer.evaluate(REPLAY_TO_END, sorted(events, key=lambda e: e["timestamp"])) == final
    viewer.context.close()

    # The replay page itself, which fetches the segments: at the end it shows the table's last state.
    context, page, errors = open_page(browser, replay_server, viewer_login, f"/sessions/{session_id}")
    page.wait_for_selector("#player[data-loaded=true]", timeout=30000)
    page.evaluate(f"window.ReplayView.seek({events[-1]['timestamp'] - events[0]['timestamp'] + 1000})")
    cells = "() => Array.from(document.querySelector('#player iframe').contentDocument.querySelectorAll('#busy td'), " \
            "(td) => td.textContent)"
    poll(lambda: page.evaluate(cells) == final, timeout_s=20)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "busy-page-replay.png"))
    assert errors == []
    context.close()
