"""What the snippet costs a page, measured in headless Chromium against a real embedded `replay serve`.

Loads the same page with and without the snippet and prints: load time, the
time per same-origin fetch (200 and 502), JS heap after load, and the bytes
the snippet adds on the wire. Bounded: --loads page loads and --fetches calls per variant.

    .venv/bin/python bench/snippet_overhead.py --loads 15 --fetches 300
"""
from __future__ import annotations

import argparse
import statistics
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
from playwright.sync_api import sync_playwright

from _common import CHROMIUM_ARGS, cli, embedded_replay, free_port

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>bench</title>{snippet}</head>
<body><h1>Bench</h1><form><input name="q"><input type="password" name="p"></form>
<ul>{items}</ul></body></html>"""


def site_server(port: int, snippet_tag: str):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            if self.path.startswith("/api/"):
                status = 502 if "fail" in self.path else 200
                body = b'{"ok": true}' if status == 200 else b"<html>502 Bad Gateway</html>"
            else:
                status = 200
                tag = snippet_tag if self.path.startswith("/with") else ""
                items = "".join(f"<li class='i{i}'>Item {i} <a href='#'>link</a></li>" for i in range(300))
                body = PAGE.format(snippet=tag, items=items).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if self.path.startswith("/api/") else "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{port}"


FETCH_LOOP = """async ([n, path]) => {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) { const r = await fetch(path + '?i=' + i); await r.text(); }
  return (performance.now() - t0) / n;
}"""

LOAD_TIME = "() => { const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd - n.startTime; }"


def measure(browser, url: str, loads: int, fetches: int, with_snippet: bool) -> dict:
    load_ms, ok_ms, fail_ms, heap = [], [], [], []
    for i in range(loads):
        page = browser.new_page()
        page.goto(url, wait_until="load")
        page.wait_for_function("() => performance.getEntriesByType('navigation')[0].loadEventEnd > 0")
        if with_snippet:
            page.wait_for_function("window.Replay && window.Replay.getSessionURL()")
        load_ms.append(page.evaluate(LOAD_TIME))
        if i < 3:  # fetch loops are long; three pages of them are plenty
            ok_ms.append(page.evaluate(FETCH_LOOP, [fetches, "/api/ok"]))
            fail_ms.append(page.evaluate(FETCH_LOOP, [fetches // 3, "/api/fail"]))
            heap.append(page.evaluate("performance.memory.usedJSHeapSize") / 1024)
        page.close()
    med = statistics.median
    return {"load": med(load_ms), "ok": med(ok_ms), "fail": med(fail_ms), "heap": med(heap)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--loads", type=int, default=15)
    ap.add_argument("--fetches", type=int, default=300)
    args = ap.parse_args()
    with embedded_replay() as (base, env, _):
        port = free_port()
        key = cli(env, "project", "create", "bench", "--origin", f"http://127.0.0.1:{port}")
        server, site = site_server(port, f'<script src="{base}/snippet.js" data-project-key="{key}" async></script>')
        gz = len(requests.get(f"{base}/snippet.js", headers={"Accept-Encoding": "gzip"}, stream=True).raw.read())
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            without = measure(browser, site + "/without", args.loads, args.fetches, False)
            with_ = measure(browser, site + "/with", args.loads, args.fetches, True)
            browser.close()
        server.shutdown()
    print(f"snippet on the wire: {gz / 1024:.1f} KB gzipped")
    print(f"{'':28}{'without':>10}{'with':>10}{'added':>10}")
    for name, label, unit in (("load", "page load (median)", "ms"), ("ok", "fetch 200, per call", "ms"),
                              ("fail", "fetch 502, per call", "ms"), ("heap", "JS heap after load", "KB")):
        a, b = without[name], with_[name]
        print(f"{label + ' (' + unit + ')':28}{a:>10.2f}{b:>10.2f}{b - a:>+10.2f}")


if __name__ == "__main__":
    main()
