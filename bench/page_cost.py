"""What a recorder costs a mutation-heavy page, side by side in one run, in headless Chromium.

The workload: a 1,000-row, 8-column table updated for 150 rounds (each round rewrites 1,600 cells' text, toggles
a class on 100 rows and replaces 20 rows; rounds are tasks of their own, so each round's mutations are recorded
within the measured time). Variants, interleaved run by run (none, rrweb, replay, none, ...):

- none: the page without a recorder;
- rrweb: bare `@rrweb/record` (the version the snippet bundles, js-snippet/node_modules), defaults, nothing sent;
- replay: the snippet against a real embedded `replay serve` started here.

Per variant, medians of --runs: workload time and main-thread busy time (CDP Performance.getMetrics TaskDuration
over the workload) and its CPU time (ThreadTime: less inflated than wall time when other work shares the machine), as
ratios to none; upload (the bytes the page sends the collector as they travel, counted by a TCP relay in front of
it: websocket frames after the browser's permessage-deflate, HTTP requests whole, from the page's load until it has
sent nothing for 4 s); for replay, the worst run's `replay.gap` events (the flood guard's marks: a recording with
gaps is not complete), `replay.dropped` markers (events dropped over the buffer's cap, or in a frame too large) and
how many of the table's final cell texts the upload lacks; JS heap after the workload
and a forced GC (CDP HeapProfiler.collectGarbage, then performance.memory.usedJSHeapSize with
--enable-precise-memory-info).

Then the flood: 300 rounds of 1,000 attribute changes (300,000 in all, each value 200 random characters), once per
variant: its time, and what replay uploads of it (the snippet's flood guard, js-snippet/src/flood.js).

    .venv/bin/python bench/page_cost.py [--runs 5]
"""
from __future__ import annotations

import argparse
import gzip
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CHROMIUM_ARGS, cli, embedded_replay, free_port  # noqa: E402

from replay.core.mutations import unpack  # noqa: E402

SNIPPET_DIR = Path(__file__).resolve().parents[1] / "js-snippet"
VARIANTS = ("none", "rrweb", "replay")

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>page cost</title>{head}</head>
<body><h1>Orders</h1><table id="t"><tbody></tbody></table>
<script>
const ROWS = 1000, COLS = 8, body = document.querySelector('#t tbody');
const row = (r, k) => '<tr class="r' + (r % 2) + '">' + Array.from({{length: COLS}}, (_, c) =>
  '<td>' + (r * COLS + c + k) + '</td>').join('') + '</tr>';
body.innerHTML = Array.from({{length: ROWS}}, (_, r) => row(r, 0)).join('');
const tick = () => new Promise((ok) => setTimeout(ok, 0));
window.workload = async (rounds) => {{
  const t0 = performance.now();
  for (let k = 1; k <= rounds; k++) {{
    const cells = body.querySelectorAll('td');
    for (let i = 0; i < 1600; i++) cells[(i * 5 + k * 7) % cells.length].textContent = 'v' + k + '.' + i;
    const rows = body.rows;
    for (let i = 0; i < 100; i++) rows[(i * 10 + k) % ROWS].classList.toggle('hot');
    for (let i = 0; i < 20; i++) {{
      const at = (i * 50 + k * 3) % ROWS;
      rows[at].outerHTML = row(at, k);
    }}
    await tick();
  }}
  return performance.now() - t0;
}};
window.flood = async (rounds) => {{
  const t0 = performance.now(), cells = body.querySelectorAll('td');
  const noise = () => Array.from({{length: 20}}, () => Math.random().toString(36).slice(2, 12)).join('');
  for (let k = 0; k < rounds; k++) {{
    for (let i = 0; i < 1000; i++) cells[(k * 1000 + i) % cells.length].setAttribute('data-v', noise());
    await tick();
  }}
  return performance.now() - t0;
}};
</script>{tail}</body></html>"""


def bundle_rrweb() -> str:
    """@rrweb/record from js-snippet/node_modules as one IIFE that records with defaults and sends nothing."""
    with tempfile.TemporaryDirectory() as tmp:
        entry, out = Path(tmp) / "entry.js", Path(tmp) / "rrweb.js"
        entry.write_text("import { record } from '@rrweb/record';\nrecord({ emit() {} });\n")
        subprocess.run([str(SNIPPET_DIR / "node_modules" / ".bin" / "esbuild"), str(entry), "--bundle", "--minify",
                        "--format=iife", f"--outfile={out}", "--log-level=warning"],
                       cwd=SNIPPET_DIR, check=True, env={"NODE_PATH": str(SNIPPET_DIR / "node_modules"),
                                                         "PATH": "/usr/bin:/bin:/usr/local/bin"})
        return out.read_text()


def pages(snippet_tag: str) -> dict[str, str]:
    """The workload's page in each variant, by path."""
    return {"/none": PAGE.format(head="", tail=""),
            "/rrweb": PAGE.format(head="", tail="<script src='/rrweb.js'></script>"),
            "/replay": PAGE.format(head=snippet_tag, tail="")}


def site_server(port: int, html: dict[str, str], scripts: dict[str, str]):
    """The site on `port`: these pages and scripts, by path."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            path = self.path.split("?")[0]
            body = (scripts.get(path) or html.get(path) or "").encode()
            try:
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/javascript" if path.endswith(".js") else "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{port}"


class WireCounter:
    """A TCP relay in front of the collector that counts the bytes the page sends it, as they travel: with
    permessage-deflate, the browser compresses websocket frames below what Playwright reports of them."""

    def __init__(self, port: int):
        self.up = 0
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.target = port
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self) -> None:
        while True:
            try:
                client = self.server.accept()[0]
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self.relay, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self.relay, args=(upstream, client, False), daemon=True).start()

    def relay(self, src: socket.socket, dst: socket.socket, up: bool) -> None:
        try:
            while data := src.recv(65536):
                if up:
                    self.up += len(data)
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def thread_times(cdp) -> tuple[float, float]:
    """The main thread's busy time (wall time of its tasks) and CPU time, in seconds."""
    m = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return m["TaskDuration"], m["ThreadTime"]


def sent_events(text: bytes) -> list:
    """The events of one message the page sent: a socket's batch, or an HTTP envelope's batches."""
    try:
        msg = json.loads(text)
    except ValueError:
        return []
    if not isinstance(msg, dict):
        return []
    batches = msg.get("batches") if isinstance(msg.get("batches"), list) else [msg]
    return [e for b in batches if isinstance(b, dict) and isinstance(b.get("events"), list) for e in b["events"]]


def run_once(browser, site: str, wire: WireCounter, variant: str, script: str, rounds: int) -> dict:
    """One page of `variant`: `script(rounds)` timed, its main-thread busy time, the upload, the gaps it marked
    (from the frames, as Playwright reports them before deflate) and the heap after GC."""
    up0 = wire.up
    context = browser.new_context()
    page = context.new_page()
    sent = {"last": time.monotonic(), "gaps": 0, "dropped": 0, "text": []}

    def count(data: str | bytes) -> None:
        data = data.encode() if isinstance(data, str) else data
        sent["last"] = time.monotonic()
        text = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data  # the collector tells gzip by its magic
        sent["gaps"] += text.count(b'"replay.gap"')
        sent["dropped"] += text.count(b'"replay.dropped"')  # the buffer's cap or a frame too large
        sent["text"].append(text)

    page.on("websocket", lambda ws: ws.on("framesent", count))
    page.on("request", lambda r: r.url.startswith(wire.url) and r.method == "POST" and count(r.post_data_buffer or b""))
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    page.goto(f"{site}/{variant}", wait_until="load")
    if variant.startswith("replay"):
        page.wait_for_function("window.Replay && window.Replay.getSessionURL()")
    page.wait_for_timeout(500)  # the recorder's first full snapshot is taken
    busy0, cpu0 = thread_times(cdp)
    took = page.evaluate(f"{script}({rounds})")
    busy, cpu = (b - a for a, b in zip((busy0, cpu0), thread_times(cdp)))
    final = set(page.evaluate("Array.from(document.querySelectorAll('td'), (td) => td.textContent)"))
    if variant.startswith("replay"):  # until it has sent nothing for 4 s (mutations held 1 s, flushes every 2 s)
        deadline = time.monotonic() + 60
        while time.monotonic() - sent["last"] < 4 and time.monotonic() < deadline:
            page.wait_for_timeout(250)
    cdp.send("HeapProfiler.enable")
    cdp.send("HeapProfiler.collectGarbage")
    heap = page.evaluate("performance.memory.usedJSHeapSize")
    context.close()
    # The table's last state is in the recording: every cell's final text was sent (as a text node's content),
    # read as the server reads it (packed mutations unpacked).
    sent_text = b"".join(json.dumps([unpack(e) for e in sent_events(t)], separators=(",", ":")).encode()
                         for t in sent["text"])
    missing = sum(f'"textContent":"{t}"'.encode() not in sent_text for t in final) * variant.startswith("replay")
    return {"time": took, "busy": busy * 1000, "cpu": cpu * 1000, "upload": wire.up - up0, "heap": heap,
            "gaps": sent["gaps"], "dropped": sent["dropped"], "missing": missing}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=150)
    ap.add_argument("--flood-rounds", type=int, default=300, help="rounds of 1,000 attribute changes")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    rrweb_js = bundle_rrweb()
    with embedded_replay() as (collector, env, _):
        wire = WireCounter(int(collector.rsplit(":", 1)[1]))
        base = wire.url
        port = free_port()
        key = cli(env, "project", "create", "bench", "--origin", f"http://127.0.0.1:{port}")
        tag = f'<script src="{base}/snippet.js" data-project-key="{key}" async></script>'
        server, site = site_server(port, pages(tag), {"/rrweb.js": rrweb_js})
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=CHROMIUM_ARGS + ["--enable-precise-memory-info"])
                runs: dict[str, list[dict]] = {v: [] for v in VARIANTS}
                for _ in range(args.runs):
                    for variant in VARIANTS:
                        runs[variant].append(run_once(browser, site, wire, variant, "workload", args.rounds))
                        print(variant, {k: round(x) for k, x in runs[variant][-1].items()}, file=sys.stderr)
                flood = {v: run_once(browser, site, wire, v, "flood", args.flood_rounds) for v in VARIANTS}
                browser.close()
        finally:
            server.shutdown()
    med = {v: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for v, rs in runs.items()}
    none = med["none"]
    print(f"{args.rounds} rounds on a 1,000 x 8 table; medians of {args.runs} interleaved runs; ratios to no recorder")
    print("| recorder | workload time | main thread busy | main thread CPU | upload | gaps, drops, final cells missing "
          "| JS heap |\n|---|---|---|---|---|---|---|")
    for v, label in (("none", "no recorder"), ("rrweb", "bare `@rrweb/record`, nothing sent (floor)"),
                     ("replay", "**replay**")):
        m = med[v]
        worst = ", ".join(str(max(r[k] for r in runs[v])) for k in ("gaps", "dropped", "missing"))
        upload, worst = (f"{m['upload'] / 1024:,.0f} KB", worst) if v == "replay" else ("—", "—")
        print(f"| {label} | {m['time'] / none['time']:.2f}× ({m['time']:,.0f} ms) | "
              f"{m['busy'] / none['busy']:.2f}× ({m['busy']:,.0f} ms) | {m['cpu'] / none['cpu']:.2f}× "
              f"({m['cpu']:,.0f} ms) | {upload} | {worst} | {m['heap'] / 1e6:.1f} MB |")
    print(f"\nflood: {args.flood_rounds} rounds of 1,000 attribute changes, one run each")
    for v in VARIANTS:
        f = flood[v]
        upload = f", upload {f['upload'] / 1024:,.0f} KB, {f['gaps']} gaps" if v == "replay" else ""
        print(f"  {v:<7} {f['time']:>8,.0f} ms ({f['time'] / flood['none']['time']:.2f}×), "
              f"busy {f['busy']:,.0f} ms, CPU {f['cpu']:,.0f} ms, heap {f['heap'] / 1e6:.1f} MB{upload}")


if __name__ == "__main__":
    t0 = time.monotonic()
    main()
    print(f"took {time.monotonic() - t0:.0f} s")
