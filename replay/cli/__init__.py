"""The `replay` command: serve, worker, reindex and the admin commands."""
from __future__ import annotations

import argparse
import getpass
import sys
import time

from replay.core import settings as settings_mod


def _accounts(settings):
    from replay.core import redis_conn
    from replay.core.accounts import Accounts
    from replay.core.keys import RedisKeys

    return Accounts(redis_conn.connect(settings), RedisKeys.of(settings))


def cmd_serve(args, settings) -> int:
    from replay import serve

    return serve.run(settings, host=args.host, port=args.port, with_worker=not args.no_worker)


def cmd_worker(args, settings) -> int:
    from replay.core import logs
    from worker.runner import run_worker

    logs.configure()
    run_worker(settings, burst=args.burst)
    return 0


def cmd_reindex(args, settings) -> int:
    from worker.context import Context
    from worker.reindex import reindex

    count = reindex(Context(settings))
    print(f"reindexed {count} sessions")
    return 0


def cmd_status(args, settings) -> int:
    import json

    from replay.core import health, redis_conn
    from replay.core.keys import RedisKeys
    from replay.storage.store import make_store

    redis = redis_conn.probe_client(redis_conn.connect(settings), settings.READY_TIMEOUT_S)
    queue = redis_conn.probe_client(redis_conn.queue_connect(settings), settings.READY_TIMEOUT_S) \
        if settings.QUEUE_REDIS_URL else None
    report = health.check(redis, RedisKeys.of(settings), make_store(settings), settings, queue)
    print(json.dumps(report.as_dict(), indent=2) if args.json else "\n".join(health.status_lines(report)))
    for note in report.notes:
        print(f"replay: {note}", file=sys.stderr)
    return 0 if report.ready else 1


def _when(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ms / 1000)) if ms else "-"


def _table(rows: list[list[str]], header: list[str]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)).rstrip())


# Projects.
def cmd_project_create(args, settings) -> int:
    project = _accounts(settings).create_project(args.name, args.origin)
    print(f"project {project.name!r} may receive from: {', '.join(project.origins)}")
    print(f"project key: {project.key}")
    return 0


def cmd_project_server_key(args, settings) -> int:
    from replay.core import server_keys

    accounts = _accounts(settings)
    project = server_keys.find_project(accounts, args.project)
    key = server_keys.issue(accounts.redis, accounts.keys, project.key, rotate=args.rotate)
    if key is None:
        raise server_keys.AccountError(f"project {project.key} disappeared")
    print(f"project {project.name!r} ({project.key}): {'new ' if args.rotate else ''}server key for nginx's syslog tag, "
          "POST /ingest/logs and POST /ingest/server (the SDK's REPLAY_SERVER_KEY)"
          + (" (the old one is refused from now)" if args.rotate else ""))
    print(f"server key: {key}")
    return 0


def cmd_project_list(args, settings) -> int:
    projects = _accounts(settings).projects()
    if not projects:
        print("no projects yet: replay project create NAME --origin https://your.site")
        return 0
    _table([[p.key, p.name, "enabled" if p.enabled else "DISABLED", " ".join(p.origins) or "(none)"]
            for p in projects], ["KEY", "NAME", "STATE", "ORIGINS"])
    return 0


def cmd_project_rename(args, settings) -> int:
    project = _accounts(settings).project_store.rename(args.key, args.name)
    print(f"project {project.key} is now named {project.name!r}")
    return 0


def cmd_project_enable(args, settings) -> int:
    project = _accounts(settings).project_store.set_enabled(args.key, not args.off)
    state = "enabled: it records again" if project.enabled else "disabled: its pages are refused (project_disabled)"
    print(f"project {project.key} ({project.name}) is {state}")
    return 0


def cmd_project_delete(args, settings) -> int:
    accounts = _accounts(settings)
    project = accounts.project_store.require(args.key)
    removed = _delete_recordings(settings, accounts, project.key) if args.delete_recordings else None
    accounts.project_store.delete(project.key)
    print(f"project {project.key} ({project.name}) deleted: its key is refused from now on")
    if removed is None:
        print("its recordings were kept (replay project delete KEY --delete-recordings removes them)")
    else:
        print(f"deleted {removed} recorded session{'s' if removed != 1 else ''} of it (index and storage)")
    return 0


def _delete_recordings(settings, accounts, key: str) -> int:
    from replay.cli.sessions import delete_recordings
    from replay.index.erase import sessions_of

    return delete_recordings(settings, sessions_of(accounts.redis, accounts.keys, project=key))


def cmd_origin_add(args, settings) -> int:
    accounts = _accounts(settings)
    project, changed = accounts.project_store.add_origin(args.key, args.origin)
    from replay.core.projects import normalize_origin
    from replay.core.refusals import Refusals

    origin = normalize_origin(args.origin)
    Refusals(accounts.redis, accounts.keys).forget(project.key, origin)
    print(f"{origin} {'may now send' if changed else 'could already send'} to project {project.key} ({project.name})"
          f"; its origins: {' '.join(project.origins)}")
    return 0


def cmd_origin_remove(args, settings) -> int:
    project, changed = _accounts(settings).project_store.remove_origin(args.key, args.origin)
    if not changed:
        print(f"replay: {args.origin} was not an origin of project {project.key}; its origins: "
              f"{' '.join(project.origins) or '(none)'}", file=sys.stderr)
        return 2
    print(f"project {project.key} ({project.name}) no longer takes {args.origin}; its origins: "
          f"{' '.join(project.origins) or '(none: it takes nothing)'}")
    return 0


# Users.
def _password(args) -> str:
    if args.password is not None:
        return args.password
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    return getpass.getpass("Password: ")


def cmd_user_create(args, settings) -> int:
    accounts = _accounts(settings)
    from replay.core.accounts import normalize_email

    email = normalize_email(args.email)
    if args.reset:
        accounts.require_user(email)
        ended = accounts.reset_password(email, _password(args))
        print(f"new password set; {ended} login{'s' if ended != 1 else ''} ended")
    else:
        accounts.check_new_user(email)  # before asking for a password; create_user checks again
        accounts.create_user(email, _password(args))
    print(f"user: {email}")
    return 0


def cmd_user_list(args, settings) -> int:
    users = _accounts(settings).users()
    if not users:
        print("no users yet: replay user create EMAIL")
        return 0
    _table([[u.email, "enabled" if u.enabled else "DISABLED", str(u.live_logins), _when(u.created_ms)]
            for u in users], ["EMAIL", "STATE", "LOGINS", "CREATED"])
    return 0


def cmd_user_enable(args, settings) -> int:
    accounts = _accounts(settings)
    ended = accounts.set_user_enabled(args.email, not args.off)
    email = accounts.require_user(args.email)
    if args.off:
        print(f"user {email} is disabled: cannot log in; {ended} login{'s' if ended != 1 else ''} ended")
    else:
        print(f"user {email} is enabled: can log in")
    return 0


def cmd_user_delete(args, settings) -> int:
    accounts = _accounts(settings)
    email = accounts.require_user(args.email)
    accounts.delete_user(email)
    print(f"user {email} deleted; their logins ended")
    return 0


# API tokens.
def cmd_token_create(args, settings) -> int:
    from replay.core.accounts import token_id

    token = _accounts(settings).create_token(args.name or "")
    print(f"token id: {token_id(token)} (replay token list shows it; replay token revoke {token_id(token)} ends it)")
    print(f"API token (shown once): {token}")
    return 0


def cmd_token_list(args, settings) -> int:
    tokens = _accounts(settings).tokens()
    if not tokens:
        print("no API tokens: replay token create --name NAME")
        return 0
    _table([[t.id, t.name, _when(t.created_ms)] for t in tokens], ["ID", "NAME", "CREATED"])
    return 0


def cmd_token_revoke(args, settings) -> int:
    token = _accounts(settings).revoke_token(args.id)
    print(f"token {token.id} ({token.name}) revoked: it no longer opens the API")
    return 0

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

    st = sub.add_parser("status", help="health and backlog: Redis, storage, queue, workers (exit 1 when not ready)")
    st.add_argument("--json", action="store_true", help="the JSON /readyz answers")
    st.set_defaults(func=cmd_status)
    r = sub.add_parser("reindex", help="rebuild the Redis index from object storage")
    r.set_defaults(func=cmd_reindex)

    project = sub.add_parser("project", help="projects").add_subparsers(dest="action", required=True)
    pc = project.add_parser("create", help="create a project; prints its key")
    pc.add_argument("name")
    pc.add_argument("--origin", action="append", required=True, help="a site origin allowed to send (repeatable)")
    pc.set_defaults(func=cmd_project_create)
    project.add_parser("list", help="every project: key, name, state, origins").set_defaults(func=cmd_project_list)
    pr = project.add_parser("rename", help="give a project another name")
    pr.add_argument("key")
    pr.add_argument("name")
    pr.set_defaults(func=cmd_project_rename)
    for action, off, text in (("disable", True, "refuse a project's ingest (project_disabled)"),
                              ("enable", False, "take a disabled project's ingest again")):
        pe = project.add_parser(action, help=text)
        pe.add_argument("key")
        pe.set_defaults(func=cmd_project_enable, off=off)
    pd = project.add_parser("delete", help="delete a project (its recordings stay unless --delete-recordings)")
    pd.add_argument("key")
    pd.add_argument("--delete-recordings", action="store_true", help="also remove its sessions from index and storage")
    pd.set_defaults(func=cmd_project_delete)
    origin = project.add_parser("origin", help="the origins a project takes").add_subparsers(dest="origin_action",
                                                                                          required=True)
    for action, func, text in (("add", cmd_origin_add, "allow an origin to send"),
                               ("remove", cmd_origin_remove, "stop allowing an origin")):
        po = origin.add_parser(action, help=text)
        po.add_argument("key")
        po.add_argument("origin")
        po.set_defaults(func=func)
    ps = project.add_parser("server-key", help="print the project's server key (nginx's syslog tag); --rotate for a new one")
    ps.add_argument("project", help="the project's key, or its name when no other project has it")
    ps.add_argument("--rotate", action="store_true", help="replace the key: the old one is refused from now")
    ps.set_defaults(func=cmd_project_server_key)
    from replay.cli.capture import add_parsers as add_capture_parsers

    add_capture_parsers(project)
    from replay.ship.command import add_parser as add_logs_parser

    add_logs_parser(sub)

    from replay.cli.sessions import add_parsers

    add_parsers(sub, project)

    user = sub.add_parser("user", help="viewer logins").add_subparsers(dest="action", required=True)
    uc = user.add_parser("create", help="create a viewer login (--reset: new password for an existing one)")
    uc.add_argument("email")
    uc.add_argument("--password", help="read from the terminal (or one line of stdin) when omitted")
    uc.add_argument("--reset", action="store_true", help="the user exists: set a new password and end their logins")
    uc.set_defaults(func=cmd_user_create)
    user.add_parser("list", help="every user: email, state, live logins").set_defaults(func=cmd_user_list)
    for action, off, text in (("disable", True, "refuse a user's logins and end the live ones"),
                              ("enable", False, "let a disabled user log in again")):
        ue = user.add_parser(action, help=text)
        ue.add_argument("email")
        ue.set_defaults(func=cmd_user_enable, off=off)
    ud = user.add_parser("delete", help="delete a user and end their logins")
    ud.add_argument("email")
    ud.set_defaults(func=cmd_user_delete)

    token = sub.add_parser("token", help="API tokens").add_subparsers(dest="action", required=True)
    tc = token.add_parser("create", help="create an API token; prints it")
    tc.add_argument("--name", default="")
    tc.set_defaults(func=cmd_token_create)
    token.add_parser("list", help="every API token: id, name, created").set_defaults(func=cmd_token_list)
    tr = token.add_parser("revoke", help="revoke a token by its id (replay token list) or the token itself")
    tr.add_argument("id")
    tr.set_defaults(func=cmd_token_revoke)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = settings_mod.load()
    if args.func is cmd_serve:
        # Before anything imports redis or ssl: the web server patches the standard library for gevent first.
        return cmd_serve(args, settings)
    from redis.exceptions import RedisError

    from replay.core.accounts import AccountError
    from replay.storage.store import StorageError

    try:
        return args.func(args, settings) or 0
    except AccountError as exc:
        print(f"replay: {exc}", file=sys.stderr)
        return 2
    except (RedisError, StorageError) as exc:
        where = settings.REDIS_URL or "the embedded Redis"
        what = f"Redis ({where})" if isinstance(exc, RedisError) else "object storage"
        print(f"replay: {what} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
