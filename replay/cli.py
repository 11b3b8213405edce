"""The `replay` command: serve, worker, reindex and the admin commands."""
from __future__ import annotations

import argparse
import getpass
import sys

from replay.core import settings as settings_mod


def _accounts(settings):
    from replay.core import redis_conn
    from replay.core.accounts import Accounts
    from replay.core.keys import RedisKeys

    return Accounts(redis_conn.connect(settings), RedisKeys(settings.KEY_PREFIX))


def cmd_serve(args, settings) -> int:
    from replay import serve

    return serve.run(settings, host=args.host, port=args.port, with_worker=not args.no_worker)


def cmd_worker(args, settings) -> int:
    from worker.runner import run_worker

    run_worker(settings, burst=args.burst)
    return 0


def cmd_reindex(args, settings) -> int:
    from worker.context import Context
    from worker.reindex import reindex

    count = reindex(Context(settings))
    print(f"reindexed {count} sessions")
    return 0


def cmd_project_create(args, settings) -> int:
    project = _accounts(settings).create_project(args.name, args.origin)
    print(f"project {project.name!r} may receive from: {', '.join(project.origins)}")
    print(f"project key: {project.key}")
    return 0


def cmd_user_create(args, settings) -> int:
    password = args.password
    if password is None:
        if not sys.stdin.isatty():
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass("Password: ")
    _accounts(settings).create_user(args.email, password)
    print(f"user: {args.email.strip().lower()}")
    return 0


def cmd_token_create(args, settings) -> int:
    token = _accounts(settings).create_token(args.name or "")
    print(f"API token (shown once): {token}")
    return 0


# `replay project bodies`: which failed calls' request bodies a project records (replay/core/body_capture.py).
def cmd_project_bodies(args, settings) -> int:
    from replay.core import body_capture, redis_conn
    from replay.core.keys import RedisKeys

    if bool(args.url) == bool(args.off):
        print("replay: give --url PATTERN (repeatable) to capture request bodies, or --off to stop", file=sys.stderr)
        return 2
    try:
        kept = body_capture.set_patterns(redis_conn.connect(settings), RedisKeys(settings.KEY_PREFIX), args.key,
                                         [] if args.off else args.url)
    except body_capture.PatternError as exc:
        print(f"replay: {exc}", file=sys.stderr)
        return 2
    if kept:
        print(f"project {args.key} records the request bodies of failed calls to: {', '.join(kept)}")
    else:
        print(f"project {args.key} records no request bodies")
    return 0


def add_bodies_parser(project_actions) -> None:
    """The `bodies` action under `replay project`."""
    pb = project_actions.add_parser(
        "bodies", help="record request bodies of failed calls to these URLs (scrubbed, capped; off by default)")
    pb.add_argument("key", help="the project key")
    pb.add_argument("--url", action="append", default=[], metavar="PATTERN",
                    help="a path like '/api/*' (any host) or a URL like 'https://api.example.com/*' (repeatable)")
    pb.add_argument("--off", action="store_true", help="record no request bodies")
    pb.set_defaults(func=cmd_project_bodies)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="replay", description="Self-hosted session replay for failed network calls.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="collector, viewer and API (embedded default: also Redis and a worker)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--no-worker", action="store_true", help="embedded default only: do not start a worker")
    s.set_defaults(func=cmd_serve)

    w = sub.add_parser("worker", help="RQ worker on the configured Redis")
    w.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    w.set_defaults(func=cmd_worker)

    r = sub.add_parser("reindex", help="rebuild the Redis index from object storage")
    r.set_defaults(func=cmd_reindex)

    project = sub.add_parser("project", help="projects").add_subparsers(dest="action", required=True)
    pc = project.add_parser("create", help="create a project; prints its key")
    pc.add_argument("name")
    pc.add_argument("--origin", action="append", required=True, help="a site origin allowed to send (repeatable)")
    pc.set_defaults(func=cmd_project_create)
    add_bodies_parser(project)

    user = sub.add_parser("user", help="viewer logins").add_subparsers(dest="action", required=True)
    uc = user.add_parser("create", help="create or reset a viewer login")
    uc.add_argument("email")
    uc.add_argument("--password", help="read from the terminal (or one line of stdin) when omitted")
    uc.set_defaults(func=cmd_user_create)

    token = sub.add_parser("token", help="API tokens").add_subparsers(dest="action", required=True)
    tc = token.add_parser("create", help="create an API token; prints it")
    tc.add_argument("--name", default="")
    tc.set_defaults(func=cmd_token_create)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = settings_mod.load()
    if args.func is cmd_serve:
        # Before anything imports redis or ssl: the web server patches the standard library for gevent first.
        return cmd_serve(args, settings)
    from replay.core.accounts import AccountError

    try:
        return args.func(args, settings) or 0
    except AccountError as exc:
        print(f"replay: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
