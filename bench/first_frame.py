"""Time to first frame on the replay page, for a generated 1-minute and 60-minute session.

Each session is generated as the snippet would record it (a full snapshot of a
moderately sized page, then mouse moves, scrolls, clicks, DOM mutations, network
calls, console logs and a page load every 20 minutes) and written through the
real pipeline: Buffer.append per 2-second batch and the flush job every 10 s of
recording, into the embedded store of a real `replay serve`. Then Chromium opens
/sessions/<id> and the time from navigation start to the recorded page's heading
inside the player's iframe is measured, and to the whole recording loaded.

    .venv/bin/python bench/first_frame.py --minutes 1 60 --loads 5
"""
from __future__ import annotations

import argparse
import random
import statistics
import time

import requests
from playwright.sync_api import sync_playwright

from _common import CHROMIUM_ARGS, cli, embedded_replay

BATCH_MS = 2_000  # the snippet sends a batch every 2 s
FLUSH_EVERY_MS = 10_000  # the worker flushes a session 10 s after its first unflushed batch
PAGE_EVERY_MS = 20 * 60_000
ORIGIN = "https://shop.example"
FIRST_FRAME = """() => {
  const f = document.querySelector('#player iframe');
  const h = f && f.contentDocument && f.contentDocument.querySelector('h1.bench-title');
  return h ? performance.now() : false;
}"""
LOADED = "() => document.getElementById('player').dataset.loaded === 'true' ? performance.now() : false"


class Ids:
    def __init__(self):
        self.n = 0

    def __call__(self) -> int:
        self.n += 1
        return self.n


def el(ids, tag, attrs=None, children=()):
    return {"type": 2, "tagName": tag, "attributes": attrs or {}, "childNodes": list(children), "id": ids()}


def text(ids, value):
    return {"type": 3, "textContent": value, "id": ids()}


def snapshot_node(ids: Ids, path: str) -> dict:
    """A shop page: header and nav, 120 product cards, a filter form, a footer (1,302 nodes)."""
    css = "".join(f".c{i}{{margin:{i % 7}px;padding:{i % 5}px;color:#{i * 2654435761 % 0xFFFFFF:06x}}}"
                  for i in range(300))
    head = el(ids, "head", {}, [el(ids, "title", {}, [text(ids, "Acme shop")]),
                                el(ids, "style", {}, [text(ids, css)])])
    nav = el(ids, "nav", {"class": "top"}, [el(ids, "a", {"href": f"/c/{i}"}, [text(ids, f"Category {i}")])
                                            for i in range(12)])
    cards = [el(ids, "div", {"class": "card", "data-id": str(i)}, [
        el(ids, "img", {"src": f"/img/{i}.jpg", "alt": f"Product {i}", "width": "120", "height": "90"}),
        el(ids, "h3", {}, [text(ids, f"Product {i} with a reasonably long name")]),
        el(ids, "p", {"class": "price"}, [text(ids, f"{10 + i % 90}.99 EUR")]),
        el(ids, "p", {"class": "desc"}, [text(ids, "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 2)]),
        el(ids, "button", {"class": "add", "type": "button"}, [text(ids, "Add to cart")]),
    ]) for i in range(120)]
    form = el(ids, "form", {"class": "filters"}, [el(ids, "label", {}, [text(ids, f"Filter {i}"),
                                                                      el(ids, "input", {"type": "checkbox"})])
                                                  for i in range(20)])
    body = el(ids, "body", {}, [
        el(ids, "header", {}, [el(ids, "h1", {"class": "bench-title"}, [text(ids, f"Acme shop {path}")]), nav]),
        el(ids, "main", {}, [form, el(ids, "section", {"class": "grid"}, cards)]),
        el(ids, "footer", {}, [text(ids, "© Acme")]),
    ])
    html = el(ids, "html", {"lang": "en"}, [head, body])
    return {"type": 0, "childNodes": [{"type": 1, "name": "html", "publicId": "", "systemId": "", "id": ids()}, html],
            "id": ids()}


def custom(tag, payload, t):
    return {"type": 5, "timestamp": t, "data": {"tag": tag, "payload": payload}}


def page_load(t: int, path: str) -> tuple[list[dict], Ids]:
    ids = Ids()
    return [{"type": 4, "timestamp": t, "data": {"href": ORIGIN + path, "width": 1280, "height": 800}},
            {"type": 2, "timestamp": t + 5, "data": {"node": snapshot_node(ids, path),
                                                     "initialOffset": {"top": 0, "left": 0}}}], ids


def activity(rng: random.Random, ids: Ids, t0: int, t1: int) -> list[dict]:
    """What 2 seconds of a user browsing records: about 2.7 events a second."""
    out = []
    for t in range(t0, t1, 500):  # mouse positions, sampled and sent in groups
        positions = [{"x": rng.randint(0, 1280), "y": rng.randint(0, 800), "id": rng.randint(1, ids.n),
                      "timeOffset": -450 + 50 * k} for k in range(10)]
        out.append({"type": 3, "timestamp": t + 450, "data": {"source": 1, "positions": positions}})
    if rng.random() < 0.5:
        out.append({"type": 3, "timestamp": t0 + 700, "data": {"source": 3, "id": 1, "x": 0, "y": rng.randint(0, 4000)}})
    if rng.random() < 0.3:
        out.append({"type": 3, "timestamp": t0 + 900, "data": {"source": 2, "type": 2, "id": rng.randint(1, ids.n),
                                                              "x": rng.randint(0, 1280), "y": rng.randint(0, 800)}})
    if rng.random() < 0.4:
        parent = rng.randint(1, ids.n)
        node = el(ids, "div", {"class": "toast"}, [text(ids, f"Added item {rng.randint(1, 999)} to the cart")])
        out.append({"type": 3, "timestamp": t0 + 1100, "data": {
            "source": 0, "texts": [{"id": rng.randint(1, ids.n), "value": f"{rng.randint(1, 9)} items"}],
            "attributes": [{"id": rng.randint(1, ids.n), "attributes": {"class": "card hover"}}],
            "removes": [], "adds": [{"parentId": parent, "nextId": None, "node": node}]}})
    if rng.random() < 0.15:
        status = 502 if rng.random() < 0.05 else 200
        payload = {"method": "GET", "url": f"{ORIGIN}/api/products?page={rng.randint(1, 50)}", "status": status,
                   "statusText": "OK" if status == 200 else "Bad Gateway", "initiator": "fetch",
                   "startTime": t0 + 1300, "duration": rng.uniform(20, 400), "failed": status != 200}
        if status != 200:
            payload.update(responseHeaders={"server": "nginx/1.22.1", "content-type": "text/html"},
                           responseBody="<html><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center>")
        out.append(custom("replay.network", payload, t0 + 1300))
    if rng.random() < 0.07:
        out.append(custom("replay.console", {"level": rng.choice(["log", "info", "warn"]),
                                             "args": ["cart updated", '{"items":3}']}, t0 + 1500))
    return out


def generate(ctx, session: str, minutes: int, seed: int = 7) -> dict:
    """Write the session through Buffer.append and the flush job; returns counts."""
    from worker import jobs

    rng = random.Random(seed)
    t_start = int(time.time() * 1000) - minutes * 60_000 - 60_000
    ctx.redis.hset(ctx.keys.session_meta(session), mapping={"project": "bench", "ua": "Mozilla/5.0 (bench) Chrome"})
    events = nbytes = batches = 0
    window, seq, ids, next_page, pending_since = None, 0, None, 0, None
    for t in range(t_start, t_start + minutes * 60_000, BATCH_MS):
        batch = []
        if t - t_start >= next_page:
            window, seq = f"win{rng.getrandbits(64):016x}bench", 0
            load, ids = page_load(t, f"/shop/{next_page // PAGE_EVERY_MS}")
            batch += load
            next_page += PAGE_EVERY_MS
        batch += activity(rng, ids, t + 10, t + BATCH_MS)
        seq += 1
        ctx.buffer.append(session, window, seq, batch, t + BATCH_MS, ORIGIN + "/shop")
        events += len(batch)
        batches += 1
        pending_since = pending_since if pending_since is not None else t
        if t + BATCH_MS - pending_since >= FLUSH_EVERY_MS:
            nbytes += ctx.buffer.size_bytes(session)
            jobs.flush_session(session)
            pending_since = None
    nbytes += ctx.buffer.size_bytes(session)
    jobs.flush_session(session)
    return {"events": events, "batches": batches, "mb": nbytes / 1e6}


def measure(browser, base: str, email: str, password: str, session: str, loads: int) -> list[tuple[float, float]]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    out = []
    for _ in range(loads):
        page = context.new_page()
        page.goto(f"{base}/sessions/{session}", wait_until="commit")
        first = page.wait_for_function(FIRST_FRAME, polling="raf", timeout=60_000).json_value()
        loaded = page.wait_for_function(LOADED, polling=50, timeout=300_000).json_value()
        out.append((first, loaded))
        page.close()
    context.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, nargs="+", default=[1, 60])
    parser.add_argument("--loads", type=int, default=5)
    args = parser.parse_args()
    from replay.core import settings as settings_mod
    from worker import context as worker_context

    with embedded_replay() as (base, env, data):
        email, password = "bench@example.com", "bench-password-1"
        cli(env, "user", "create", email, "--password", password)
        ctx = worker_context.configure(settings_mod.load({"DATA_DIR": str(data)}, environ={}))
        token = cli(env, "token", "create", "--name", "bench")
        sessions = {}
        for minutes in args.minutes:
            session = f"bench_{minutes}min_session"
            t0 = time.monotonic()
            made = generate(ctx, session, minutes)
            listing = requests.get(f"{base}/api/sessions/{session}/segments",
                                   headers={"Authorization": f"Bearer {token}"}, timeout=60).json()
            t1 = time.monotonic()
            whole = requests.get(f"{base}/api/sessions/{session}/events",
                                 headers={"Authorization": f"Bearer {token}"}, timeout=300)
            whole_s = time.monotonic() - t1
            sessions[minutes] = session
            print(f"{minutes:>3}-minute session: {made['events']} events in {made['batches']} batches "
                  f"({made['mb']:.1f} MB of JSON), {len(listing['segments'])} segments, written in "
                  f"{t1 - t0:.1f} s; GET /events (all at once): {whole_s * 1000:.0f} ms, "
                  f"{len(whole.content) / 1e6:.1f} MB")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            print(f"\nreplay page, {args.loads} loads each (ms from navigation start):")
            print(f"{'session':>10} {'first frame median':>20} {'max':>8} {'all loaded median':>19} {'max':>8}")
            for minutes, session in sessions.items():
                runs = measure(browser, base, email, password, session, args.loads)
                firsts, loads = [r[0] for r in runs], [r[1] for r in runs]
                print(f"{str(minutes) + ' min':>10} {statistics.median(firsts):>20.0f} {max(firsts):>8.0f} "
                      f"{statistics.median(loads):>19.0f} {max(loads):>8.0f}")
            browser.close()


if __name__ == "__main__":
    main()
