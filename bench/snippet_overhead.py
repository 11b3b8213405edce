"""What the snippet costs a page, measured in headless Chromium against a real embedded `replay serve`.

Loads the same page without and with the snippet, alternately (without, with,
without, with, ...), and prints medians of: load time, the time per same-origin
fetch (200 and 502) on the first three pages of each, the JS heap after load
(after a forced garbage collection; Chromium runs with --enable-precise-memory-info,
without which performance.memory is coarse), and the bytes the snippet adds on
the wire. Bounded: --loads page loads per variant, --fetches calls to the 200 URL
and a third as many to the 502 URL per fetching page.

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
                # Only /with: "/without".startswith("/with") is true too.
                tag = snippet_tag if self.path.split("?")[0] == "/with" else ""
                items = "".join(f"<li class='i{i}'>Item {i} <a href='#'>link</a></li>" for i in range(300))
                body = PAGE.format(snippet=tag, items=items).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if self.path.startswith("/api/") else "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the page was closed while this (say /favicon.ico) was on its way

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{port}"


FETCH_LOOP = """async ([n, path]) => {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) { const r = await fetch(path + '?i=' + i); await r.text(); }
  return (performance.now() - t0) / n;
}"""

LOAD_TIME = "() => { const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd - n.startTime; }"


HEAP_AFTER_GC = "() => { window.gc(); return performance.memory.usedJSHeapSize; }"
FETCH_PAGES = 3  # fetch loops are long; three pages of each variant are plenty


def load_once(browser, url: str, with_snippet: bool, fetches: int | None) -> dict:
    """One page load: its load time and heap, and (when fetches is given) the per-call fetch times."""
    page = browser.new_page()
    page.goto(url, wait_until="load")
    page.wait_for_function("() => performance.getEntriesByType('navigation')[0].loadEventEnd > 0")
    if with_snippet:
        page.wait_for_function("window.Replay && window.Replay.getSessionURL()")
    elif page.evaluate("typeof window.Replay") != "undefined":
        raise SystemExit(f"{url} has the snippet: the 'without' variant must not")
    out = {"load": page.evaluate(LOAD_TIME), "heap": page.evaluate(HEAP_AFTER_GC) / 1024}
    if fetches:
        out["ok"] = page.evaluate(FETCH_LOOP, [fetches, "/api/ok"])
        out["fail"] = page.evaluate(FETCH_LOOP, [fetches // 3, "/api/fail"])
    page.close()
    return out


def measure(browser, site: str, loads: int, fetches: int) -> dict[str, dict[str, float]]:
    """Without and with the snippet, interleaved (A, B, A, B, ...) so that drift hits both alike."""
    runs: dict[str, list[dict]] = {"without": [], "with": []}
    for i in range(loads):
        for variant in ("without", "with"):
            runs[variant].append(load_once(browser, f"{site}/{variant}", variant == "with",
                                           fetches if i < FETCH_PAGES else None))
    med = statistics.median
    return {variant: {name: med(r[name] for r in results if name in r) for name in ("load", "ok", "fail", "heap")}
            for variant, results in runs.items()}


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
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                         args=CHROMIUM_ARGS + ["--enable-precise-memory-info", "--js-flags=--expose-gc"])
            result = measure(browser, site, args.loads, args.fetches)
            browser.close()
        server.shutdown()
    print(f"snippet on the wire: {gz / 1024:.1f} KB gzipped")
    print(f"{args.loads} loads of each variant, interleaved; fetches on the first {FETCH_PAGES} of each; medians")
    print(f"{'':34}{'without':>10}{'with':>10}{'added':>10}")
    for name, label, unit in (("load", "page load", "ms"), ("ok", "fetch 200, per call", "ms"),
                              ("fail", "fetch 502, per call", "ms"), ("heap", "JS heap after load and GC", "KB")):
        a, b = result["without"][name], result["with"][name]
        print(f"{label + ' (' + unit + ')':34}{a:>10.2f}{b:>10.2f}{b - a:>+10.2f}")


if __name__ == "__main__":
    main()
