"""Where a recorder's time goes on bench/page_cost.py's workload: CDP's sampling profiler, self time by function.

The snippet is built readable (js-snippet/build.mjs with SNIPPET_READABLE_OUT: the same bundle, rrweb trimmed
the same way, not minified) and served by the bench's site with data-endpoint pointing at a real embedded
`replay serve`; `--variant rrweb` profiles bare `@rrweb/record` instead (also readable). Prints the workload's
time, self time by bundled module (esbuild's `// path` comments), and the top functions by self time.

    .venv/bin/python bench/page_profile.py [--rounds 60] [--top 40] [--variant replay|rrweb|none] [--save FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CHROMIUM_ARGS, cli, embedded_replay, free_port  # noqa: E402
from page_cost import PAGE, SNIPPET_DIR, WireCounter, pages, site_server  # noqa: E402


def readable_builds() -> tuple[str, str]:
    """The snippet and bare rrweb, bundled but not minified."""
    with tempfile.TemporaryDirectory() as tmp:
        snippet = Path(tmp) / "snippet.js"
        subprocess.run(["node", "build.mjs"], cwd=SNIPPET_DIR, check=True, stdout=subprocess.DEVNULL,
                       env={**os.environ, "SNIPPET_READABLE_OUT": str(snippet)})
        entry, rrweb = Path(tmp) / "entry.js", Path(tmp) / "rrweb.js"
        entry.write_text("import { record } from '@rrweb/record';\nrecord({ emit() {} });\n")
        subprocess.run([str(SNIPPET_DIR / "node_modules" / ".bin" / "esbuild"), str(entry), "--bundle",
                        "--format=iife", f"--outfile={rrweb}", "--log-level=warning"], cwd=SNIPPET_DIR, check=True,
                       env={**os.environ, "NODE_PATH": str(SNIPPET_DIR / "node_modules")})
        return snippet.read_text(), rrweb.read_text()


def module_of_line(source: str) -> list[str]:
    """For each line of an esbuild bundle, the module it came from (its `// path` comments)."""
    modules, current = [], "(bundle)"
    for line in source.splitlines():
        m = re.match(r"\s*// (\S+\.(?:m?js|cjs))$", line)
        if m:
            current = m.group(1).replace("node_modules/", "")
        modules.append(current)
    return modules


def self_times(profile: dict) -> dict[int, float]:
    """Self time in ms by profile node id (each sample lasts until the next one)."""
    samples, deltas = profile["samples"], profile["timeDeltas"]
    out: Counter[int] = Counter()
    for i, node in enumerate(samples[:-1]):
        out[node] += deltas[i + 1] / 1000
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=60)
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--variant", choices=("replay", "rrweb", "none"), default="replay")
    ap.add_argument("--save", help="also write the profile here (a .cpuprofile DevTools opens) and the bundle beside it")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    snippet_js, rrweb_js = readable_builds()
    source = {"replay": snippet_js, "rrweb": rrweb_js}.get(args.variant, "")
    lines = module_of_line(source)
    with embedded_replay() as (collector, env, _):
        wire = WireCounter(int(collector.rsplit(":", 1)[1]))
        port = free_port()
        key = cli(env, "project", "create", "bench", "--origin", f"http://127.0.0.1:{port}")
        # The readable snippet from the site itself, sending to the collector (data-endpoint).
        tag = f'<script src="/readable.js" data-endpoint="{wire.url}" data-project-key="{key}" async></script>'
        server, site = site_server(port, {**pages(""), "/replay": PAGE.format(head=tag, tail="")},
                                   {"/rrweb.js": rrweb_js, "/readable.js": snippet_js})
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                page = browser.new_context().new_page()
                cdp = page.context.new_cdp_session(page)
                page.goto(f"{site}/{args.variant}", wait_until="load")
                if args.variant == "replay":
                    page.wait_for_function("window.Replay && window.Replay.getSessionURL()")
                page.wait_for_timeout(500)
                cdp.send("Profiler.enable")
                cdp.send("Profiler.setSamplingInterval", {"interval": 250})
                cdp.send("Profiler.start")
                took = page.evaluate(f"workload({args.rounds})")
                page.wait_for_timeout(2500)  # held mutations are emitted, sent
                profile = cdp.send("Profiler.stop")["profile"]
                browser.close()
        finally:
            server.shutdown()
    if args.save:
        Path(args.save).write_text(json.dumps(profile))
        Path(args.save).with_suffix(".js").write_text(source)
    nodes = {n["id"]: n["callFrame"] for n in profile["nodes"]}
    by_module: Counter[str] = Counter()
    by_function: Counter[tuple[str, str, int]] = Counter()
    for node, ms in self_times(profile).items():
        frame = nodes[node]
        url, line = frame["url"], frame["lineNumber"]
        if url.endswith(("/readable.js", "/rrweb.js")):
            module = lines[line] if 0 <= line < len(lines) else "(bundle)"
        elif url:
            module = "(the page)"
        else:
            module = frame["functionName"] or "(native)"
        by_module[module] += ms
        by_function[(frame["functionName"] or "(anonymous)", module, line + 1)] += ms
    total = sum(by_module.values())
    print(f"{args.variant}: workload {took:,.0f} ms for {args.rounds} rounds; {total:,.0f} ms sampled "
          "(workload and 2.5 s after)")
    print("\nself time by module")
    for module, ms in by_module.most_common(25):
        print(f"  {ms:>8,.0f} ms  {module}")
    print(f"\ntop {args.top} functions by self time")
    for (name, module, line), ms in by_function.most_common(args.top):
        print(f"  {ms:>8,.0f} ms  {name}  ({module}, bundle line {line})")


if __name__ == "__main__":
    main()
