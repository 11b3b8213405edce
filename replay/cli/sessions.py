"""`replay sessions delete` (one session, a user's, a project's) and `replay project retention`."""
from __future__ import annotations

import sys


def _clients(settings):
    from replay.core import redis_conn
    from replay.core.keys import RedisKeys
    from replay.storage.store import make_store

    return redis_conn.connect(settings), RedisKeys.of(settings), make_store(settings)


def delete_recordings(settings, sessions: list[str]) -> int:
    """Delete these sessions for good (tombstone, index, objects); returns how many."""
    from replay.index import erase
    from replay.ingest.flush import now_ms

    redis, keys, store = _clients(settings)
    return erase.delete_sessions(redis, keys, store, sessions, now_ms(), settings.ERASE_AGAIN_MS)


def cmd_sessions_delete(args, settings) -> int:
    from replay.core.keys import ID_PATTERN
    from replay.index import erase

    redis, keys, store = _clients(settings)
    if sum(bool(x) for x in (args.session, args.user, args.project)) != 1:
        print("replay: give one session id, or --user ID, or --project KEY", file=sys.stderr)
        return 2
    if args.session:
        if not ID_PATTERN.match(args.session) or not erase.known(redis, keys, store, args.session):
            print(f"replay: no session {args.session!r} (or it was deleted already)", file=sys.stderr)
            return 2
        sessions, what = [args.session], f"session {args.session}"
    elif args.user:
        sessions, what = erase.sessions_of(redis, keys, user=args.user), f"user id {args.user!r}"
    else:
        sessions, what = erase.sessions_of(redis, keys, project=args.project), f"project {args.project}"
    count = delete_recordings(settings, sessions)
    print(f"deleted {count} session{'s' if count != 1 else ''} of {what} (recordings, evidence, index entries, "
          "share links); a deleted id is never stored or reindexed again")
    return 0


def cmd_project_retention(args, settings) -> int:
    from replay.core.projects import Projects

    redis, keys, _ = _clients(settings)
    projects = Projects(redis, keys)
    if args.days is None:
        project = projects.require(args.key)
    else:
        project = projects.set_retention(args.key, "" if args.days == "default" else args.days)
    days = project.retention_days or settings.RETENTION_DAYS
    source = "" if project.retention_days else " (the REPLAY_RETENTION_DAYS default)"
    print(f"project {project.key} ({project.name}) keeps sessions {days} day{'s' if days != 1 else ''}{source}")
    return 0


def add_parsers(sub, project_actions) -> None:
    """`replay sessions ...` and `replay project retention`."""
    pr = project_actions.add_parser("retention", help="show or set how many days a project keeps its sessions")
    pr.add_argument("key", help="the project key")
    pr.add_argument("days", nargs="?", help="whole days (1 to 3650), or 'default' for REPLAY_RETENTION_DAYS")
    pr.set_defaults(func=cmd_project_retention)

    sessions = sub.add_parser("sessions", help="recorded sessions").add_subparsers(dest="action", required=True)
    sd = sessions.add_parser("delete", help="delete sessions for good: one by id, --user ID (erasure), --project KEY")
    sd.add_argument("session", nargs="?", help="a session id")
    sd.add_argument("--user", help="every session of this user id (as the page's Replay.identify named it)")
    sd.add_argument("--project", help="every session of this project key")
    sd.set_defaults(func=cmd_sessions_delete)
