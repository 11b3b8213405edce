"""What a recorder costs a mutation-heavy page, side by side in one run, in headless Chromium.

The workload: a 1,000-row, 8-column table updated for 150 rounds (each round rewrites 1,600 cells' text, toggles
a class on 100 rows and replaces 20 rows; rounds are tasks of their own, so each round's mutations are recorded
within the measured time). Variants, interleaved run by run (none, rrweb, replay, none, ...):

- none: the page without a recorder;
- rrweb: bare `@rrweb/record` (the version the snippet bundles, js-snippet/node_modules), defaults, nothing sent;
- replay: the snippet against a real embedded `replay serve` started here.

Per variant, medians of --runs: workload time and main-thread busy time (CDP Performance.getMetrics TaskDuration
over the workload) as ratios to none; upload (websocket frames as sent plus HTTP bodies to the collector, from the
snippet's start until the page has sent nothing for 3 s); JS heap after the workload and a forced GC (CDP
HeapProfiler.collectGarbage, then performance.memory.usedJSHeapSize with --enable-precise-memory-info).

Then the flood: 300 rounds of 1,000 attribute changes (300,000 in all, each value 200 random characters), once per
variant: its time, and what replay uploads of it (the snippet's flood guard, js-snippet/src/flood.js).

    .venv/bin/python bench/page_cost.py [--runs 5]
"""
from __future__ import annotations

import argparse
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


def site_server(port: int, snippet_tag: str, rrweb_js: str):
    pages = {"/none": PAGE.format(head="", tail=""),
             "/rrweb": PAGE.format(head="", tail="<script src='/rrweb.js'></script>"),
             "/replay": PAGE.format(head=snippet_tag, tail="")}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            path = self.path.split("?")[0]
            body = (rrweb_js if path == "/rrweb.js" else pages.get(path, "")).encode()
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


def task_duration(cdp) -> float:
    return next(m["value"] for m in cdp.send("Performance.getMetrics")["metrics"] if m["name"] == "TaskDuration")


def run_once(browser, site: str, collector: str, variant: str, script: str, rounds: int) -> dict:
    """One page of `variant`: `script(rounds)` timed, its main-thread busy time, the upload and the heap after GC."""
    context = browser.new_context()
    page = context.new_page()
    sent = {"bytes": 0, "last": time.monotonic()}

    def count(n: int) -> None:
        sent["bytes"] += n
        sent["last"] = time.monotonic()

    page.on("websocket", lambda ws: ws.on("framesent", lambda p: count(len(p.encode() if isinstance(p, str) else p))))
    page.on("request", lambda r: r.url.startswith(collector) and r.method == "POST"
            and count(len(r.post_data_buffer or b"")))
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    page.goto(f"{site}/{variant}", wait_until="load")
    if variant == "replay":
        page.wait_for_function("window.Replay && window.Replay.getSessionURL()")
    page.wait_for_timeout(500)  # the recorder's first full snapshot is taken
    busy0 = task_duration(cdp)
    took = page.evaluate(f"{script}({rounds})")
    busy = task_duration(cdp) - busy0
    if variant == "replay":  # until the page has sent nothing for 3 s (it flushes every 2 s)
        deadline = time.monotonic() + 60
        while time.monotonic() - sent["last"] < 3 and time.monotonic() < deadline:
            page.wait_for_timeout(250)
    cdp.send("HeapProfiler.enable")
    cdp.send("HeapProfiler.collectGarbage")
    heap = page.evaluate("performance.memory.usedJSHeapSize")
    context.close()
    return {"time": took, "busy": busy * 1000, "upload": sent["bytes"], "heap": heap}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=150)
    ap.add_argument("--flood-rounds", type=int, default=300, help="rounds of 1,000 attribute changes")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    rrweb_js = bundle_rrweb()
    with embedded_replay() as (base, env, _):
        port = free_port()
        key = cli(env, "project", "create", "bench", "--origin", f"http://127.0.0.1:{port}")
        server, site = site_server(port, f'<script src="{base}/snippet.js" data-project-key="{key}" async></script>',
                                   rrweb_js)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=CHROMIUM_ARGS + ["--enable-precise-memory-info"])
                runs: dict[str, list[dict]] = {v: [] for v in VARIANTS}
                for _ in range(args.runs):
                    for variant in VARIANTS:
                        runs[variant].append(run_once(browser, site, base, variant, "workload", args.rounds))
                flood = {v: run_once(browser, site, base, v, "flood", args.flood_rounds) for v in VARIANTS}
                browser.close()
        finally:
            server.shutdown()
    med = {v: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for v, rs in runs.items()}
    none = med["none"]
    print(f"{args.rounds} rounds on a 1,000 x 8 table; medians of {args.runs} interleaved runs; ratios to no recorder")
    print(f"| recorder | workload time | main thread busy | upload | JS heap |\n|---|---|---|---|---|")
    for v, label in (("none", "no recorder"), ("rrweb", "bare `@rrweb/record`, nothing sent (floor)"),
                     ("replay", "**replay**")):
        m = med[v]
        upload = f"{m['upload'] / 1024:,.0f} KB" if v == "replay" else "—"
        print(f"| {label} | {m['time'] / none['time']:.2f}× ({m['time']:,.0f} ms) | "
              f"{m['busy'] / none['busy']:.2f}× ({m['busy']:,.0f} ms) | {upload} | {m['heap'] / 1e6:.1f} MB |")
    print(f"\nflood: {args.flood_rounds} rounds of 1,000 attribute changes, one run each")
    for v in VARIANTS:
        f = flood[v]
        upload = f", upload {f['upload'] / 1024:,.0f} KB" if v == "replay" else ""
        print(f"  {v:<7} {f['time']:>8,.0f} ms ({f['time'] / flood['none']['time']:.2f}×), "
              f"busy {f['busy']:,.0f} ms, heap {f['heap'] / 1e6:.1f} MB{upload}")


if __name__ == "__main__":
    t0 = time.monotonic()
    main()
    print(f"took {time.monotonic() - t0:.0f} s")
