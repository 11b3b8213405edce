"""`replay project bodies` and `replay project sampling`: what a project's snippet captures."""
from __future__ import annotations

import sys


# `replay project bodies`: which failed calls' request bodies a project records (replay/core/body_capture.py).
def cmd_project_bodies(args, settings) -> int:
    from replay.core import body_capture, redis_conn
    from replay.core.keys import RedisKeys

    if bool(args.url) == bool(args.off):
        print("replay: give --url PATTERN (repeatable) to capture request bodies, or --off to stop", file=sys.stderr)
        return 2
    try:
        kept = body_capture.set_patterns(redis_conn.connect(settings), RedisKeys.of(settings), args.key,
                                         [] if args.off else args.url)
    except body_capture.PatternError as exc:
        print(f"replay: {exc}", file=sys.stderr)
        return 2
    if kept:
        print(f"project {args.key} records the request bodies of failed calls to: {', '.join(kept)}")
    else:
        print(f"project {args.key} records no request bodies")
    return 0


# `replay project sampling`: the share of sessions recorded in full (replay/core/sampling.py).
def cmd_project_sampling(args, settings) -> int:
    from replay.core import redis_conn, sampling
    from replay.core.keys import RedisKeys

    try:
        rate = None if args.rate.strip().lower() in ("off", "unset") else sampling.check(args.rate)
        sampling.set_rate(redis_conn.connect(settings), RedisKeys.of(settings), args.key, rate)
    except sampling.SampleRateError as exc:
        print(f"replay: {exc}", file=sys.stderr)
        return 2
    if rate is None:
        print(f"project {args.key}: no sample rate; each page's data-capture decides (full, or on-failure)")
    else:
        print(f"project {args.key} records {rate:.0%} of sessions in full; the others only when a call fails "
              "or an error goes uncaught")
    return 0


def add_parsers(project_actions) -> None:
    """The `bodies` and `sampling` actions under `replay project`."""
    pb = project_actions.add_parser(
        "bodies", help="record request bodies of failed calls to these URLs (scrubbed, capped; off by default)")
    pb.add_argument("key", help="the project key")
    pb.add_argument("--url", action="append", default=[], metavar="PATTERN",
                    help="a path like '/api/*' (any host) or a URL like 'https://api.example.com/*' (repeatable)")
    pb.add_argument("--off", action="store_true", help="record no request bodies")
    pb.set_defaults(func=cmd_project_bodies)
    psr = project_actions.add_parser(
        "sampling", help="share of sessions recorded in full; the others only on failure (off: the page decides)")
    psr.add_argument("key", help="the project key")
    psr.add_argument("rate", help="0 to 1 (or 0%% to 100%%), or 'off'")
    psr.set_defaults(func=cmd_project_sampling)
