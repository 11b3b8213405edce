"""Upload bytes of one page, recording in full vs on failure, with and without a failed call, in real Chromium.

A dashboard page (tests/e2e/site/onfailure.html: its DOM changes every 250 ms) stays open for --seconds; in the
"failure" runs it calls /api/orders, answered 502, --live seconds before the end. Counted: every byte the page sent
to the collector (websocket frames as sent, gzip included, and HTTP request bodies), and the requests.

    .venv/bin/python bench/upload_bytes.py [--seconds 30] [--live 5] [--buffer-ms 10000]
"""
from __future__ import annotations

import argparse
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CHROMIUM_ARGS, cli, embedded_replay, free_port  # noqa: E402

PAGE = Path(__file__).resolve().parents[1] / "tests" / "e2e" / "site" / "onfailure.html"


def site_server(port: int, snippet_url: str):
    html = PAGE.read_text().replace("__SNIPPET_URL__", snippet_url).encode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            failing = self.path.startswith("/api/")
            body = b"upstream is down" if failing else html
            self.send_response(502 if failing else 200)
            self.send_header("Content-Type", "text/plain" if failing else "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run(browser, url: str, collector: str, seconds: float, live: float, fail: bool) -> dict:
    context = browser.new_context()
    page = context.new_page()
    sent = {"bytes": 0, "sockets": 0, "frames": 0, "posts": 0}

    def frame(payload):
        sent["frames"] += 1
        sent["bytes"] += len(payload.encode() if isinstance(payload, str) else payload)

    def socket(ws):
        sent["sockets"] += 1
        ws.on("framesent", frame)

    def request(r):
        if r.url.startswith(collector) and r.method == "POST":
            sent["posts"] += 1
            sent["bytes"] += len(r.post_data_buffer or b"")

    page.on("websocket", socket)
    page.on("request", request)
    page.goto(url)
    page.wait_for_timeout((seconds - live) * 1000)
    if fail:
        page.click("#load")
    page.wait_for_timeout(live * 1000)
    page.goto("about:blank")  # pagehide: last beacons, where the page sends any
    page.wait_for_timeout(1000)
    context.close()
    return sent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--live", type=float, default=5, help="seconds the page stays after the failure")
    ap.add_argument("--buffer-ms", type=int, default=10000, help="the on-failure window (default of the snippet: 30000)")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with embedded_replay() as (base, env, _):
        port = free_port()
        origin = f"http://127.0.0.1:{port}"
        key = cli(env, "project", "create", "bench", "--origin", origin)
        server = site_server(port, f"{base}/snippet.js")
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                print(f"{args.seconds:g} s page, failure {args.live:g} s before the end, on-failure window "
                      f"{args.buffer_ms} ms")
                print(f"{'mode':<11} {'page':<11} {'bytes sent':>11} {'sockets':>8} {'frames':>7} {'POSTs':>6}")
                for mode in ("full", "on-failure"):
                    for fail in (False, True):
                        url = f"{origin}/?key={key}&capture={mode}&buffer={args.buffer_ms}"
                        s = run(browser, url, base, args.seconds, args.live, fail)
                        print(f"{mode:<11} {'failure' if fail else 'no failure':<11} {s['bytes']:>11,} "
                              f"{s['sockets']:>8} {s['frames']:>7} {s['posts']:>6}", flush=True)
                browser.close()
        finally:
            server.shutdown()


if __name__ == "__main__":
    t0 = time.monotonic()
    main()
    print(f"took {time.monotonic() - t0:.0f} s")
