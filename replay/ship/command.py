"""The `replay logs ship` command line: options, their defaults, and the run."""
from __future__ import annotations

import os
import sys

DEFAULT_URL = "http://127.0.0.1:8000"  # `replay serve`'s default address


def add_parser(sub) -> None:
    """`replay logs ship` under the CLI's subcommands."""
    logs = sub.add_parser("logs", help="nginx's log files").add_subparsers(dest="action", required=True)
    p = logs.add_parser("ship", help="follow nginx's log files (across rotation) and post their lines to "
                                     "POST /ingest/logs; resumes where it stopped")
    p.add_argument("--access-log", metavar="FILE", help="the access log written with `log_format replay`")
    p.add_argument("--error-log", metavar="FILE", help="nginx's error log (warn and worse is what joins)")
    p.add_argument("--url", help=f"the replay server (default: REPLAY_PUBLIC_URL, else {DEFAULT_URL})")
    p.add_argument("--server-key", help="the project's server key (default: REPLAY_SERVER_KEY; prefer the "
                                        "environment: a command line is visible to every user of the host)")
    p.add_argument("--state", metavar="FILE", help="where the files' positions are kept (default: "
                                                   "REPLAY_DATA_DIR/log-ship-<hash of the files>.json)")
    p.add_argument("--from-start", action="store_true",
                   help="first run only: send what the files already hold (default: only lines written from now)")
    p.add_argument("--batch-bytes", type=int, default=1024 * 1024, help="post once this much is read (default 1 MiB)")
    p.add_argument("--batch-wait", type=float, default=1.0, metavar="SECONDS",
                   help="post at most this long after a batch's first line (default 1)")
    p.add_argument("--rotate-wait", type=float, default=5.0, metavar="SECONDS",
                   help="after a rename, read the old file until it was quiet this long (default 5)")
    p.add_argument("--max-backoff", type=float, default=30.0, metavar="SECONDS",
                   help="longest wait between retries while the collector is away (default 30)")
    p.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS", help="per post (default 30)")
    p.set_defaults(func=cmd_logs_ship)


def cmd_logs_ship(args, settings) -> int:
    from replay.core import logs
    from replay.ship.offsets import StateError, default_path
    from replay.ship.shipper import Options, run

    logs.configure()
    files = [os.path.abspath(f) for f in (args.access_log, args.error_log) if f]
    key = args.server_key or os.environ.get("REPLAY_SERVER_KEY", "")
    problem = ("give --access-log FILE and/or --error-log FILE" if not files else
               "--access-log and --error-log name the same file" if len(set(files)) < len(files) else
               "no server key: set REPLAY_SERVER_KEY (or --server-key); `replay project server-key PROJECT` "
               "prints it" if not key else
               "--batch-bytes, --batch-wait, --rotate-wait, --max-backoff and --timeout must be positive"
               if min(args.batch_bytes, args.batch_wait, args.rotate_wait, args.max_backoff, args.timeout) <= 0
               else "")
    if problem:
        print(f"replay: {problem}", file=sys.stderr)
        return 2
    opts = Options(files=files, url=args.url or settings.PUBLIC_URL or DEFAULT_URL, server_key=key,
                   state=args.state or default_path(settings.DATA_DIR, files), from_start=args.from_start,
                   batch_bytes=args.batch_bytes, batch_wait_s=args.batch_wait, rotate_wait_s=args.rotate_wait,
                   max_backoff_s=args.max_backoff, timeout_s=args.timeout)
    try:
        return run(opts)
    except StateError as exc:
        print(f"replay: {exc}", file=sys.stderr)
        return 2
