"""Every Redis key and every object key, built in one place."""
from __future__ import annotations

import hashlib
import re

from replay.core import wire

# Ids come from browsers; they are validated before they reach a key, by the
# pattern both sides agree on (\Z: "$" would accept a trailing newline).
ID_PATTERN = re.compile(r"\A" + wire.ID_PATTERN.removeprefix("^").removesuffix("$") + r"\Z")


class RedisKeys:
    """Redis key names under one prefix (tests isolate themselves by prefix)."""

    def __init__(self, prefix: str = "replay:"):
        self.prefix = prefix

    # Accounts and access.
    def project(self, key: str) -> str:
        return f"{self.prefix}project:{key}"

    def projects(self) -> str:
        return f"{self.prefix}projects"

    def user(self, email: str) -> str:
        return f"{self.prefix}user:{email.lower()}"

    def token(self, digest: str) -> str:
        return f"{self.prefix}token:{digest}"

    def refused_origins(self, project: str) -> tuple[str, str]:
        """Ingest refused for a project, by origin: a zset origin -> last refusal (epoch ms), the most recent
        REFUSED_ORIGINS_KEPT only, and a hash 'n:ORIGIN' -> refusals, 'r:ORIGIN' -> the last reason."""
        return f"{self.prefix}refused:{project}:seen", f"{self.prefix}refused:{project}:info"

    def heartbeats(self, project: str, day: str) -> str:
        """Counter of the project's heartbeats (page loads that held their recording) on one UTC day, YYYY-MM-DD."""
        return f"{self.prefix}heartbeats:{project}:{day}"

    def user_pattern(self) -> str:
        """SCAN pattern of every user record (`replay user list`)."""
        return self._escaped_prefix() + "user:*"

    def token_pattern(self) -> str:
        """SCAN pattern of every API token record (`replay token list`)."""
        return self._escaped_prefix() + "token:*"

    def _escaped_prefix(self) -> str:
        return re.sub(r"([*?\[\]\\])", r"\\\1", self.prefix)

    # Viewer logins (the cookie holds the login id; Redis keys hold only its digest).
    def login(self, digest: str) -> str:
        """Hash: user, password_id, created_ms, seen_ms; expires LOGIN_TTL_S after the login."""
        return f"{self.prefix}login:{digest}"

    def logins_of_user(self, email: str) -> str:
        """Zset of the user's login digests, scored by their expiry (epoch ms): what a reset revokes."""
        return f"{self.prefix}logins:user:{email.lower()}"

    def login_failures_of_account(self, email: str) -> str:
        """Counter of failed logins for one attempted email (known or not) in the current window."""
        # The email is whatever a stranger typed: hashed, so a key stays short.
        digest = hashlib.sha256(email.lower().encode("utf-8", "surrogatepass")).hexdigest()
        return f"{self.prefix}loginfail:account:{digest}"

    def login_failures_of_address(self, address: str) -> str:
        """Counter of failed logins from one client address (an IPv6 network) in the current window."""
        return f"{self.prefix}loginfail:addr:{address}"

    # Share links (not part of the index: `replay reindex` must not drop them).
    def share(self, link_id: str) -> str:
        """Hash: session, created_by, created_ms, expires_ms, t_ms, revoked."""
        return f"{self.prefix}share:{link_id}"

    def shares_of_session(self, session: str) -> str:
        """Zset of link ids by created_ms."""
        return f"{self.prefix}shares:session:{session}"

    def shares_of_user(self, email: str) -> str:
        """Zset of link ids by created_ms."""
        return f"{self.prefix}shares:user:{email.lower()}"

    # Server keys (replay/core/server_keys.py): the project hash holds its key, this maps it back.
    def server_key(self, server_key: str) -> str:
        """String: the project key a server key belongs to."""
        return f"{self.prefix}serverkey:{server_key}"

    # Proxy log lines waiting for the join (replay/ingest/proxy_logs.py; layout in docs/proxy-logs.md).
    def proxy_session(self, project: str, session: str) -> str:
        """List of access records of one session (JSON), oldest first, capped and expiring."""
        return f"{self.prefix}plog:{project}:s:{session}"

    def proxy_route(self, project: str, route: str) -> str:
        """List of failed access records without a session, of one method + host + folded route."""
        digest = hashlib.sha1(route.encode("utf-8", "surrogatepass")).hexdigest()[:24]
        return f"{self.prefix}plog:{project}:r:{digest}"

    def proxy_connection(self, project: str, connection: int) -> str:
        """List of error-log records of one nginx connection number ($connection, `*N`)."""
        return f"{self.prefix}plog:{project}:c:{connection}"

    def proxy_connection_session(self, project: str, connection: int) -> str:
        """String: the session of the last failed access record on this nginx connection (a late error line's)."""
        return f"{self.prefix}plog:{project}:cs:{connection}"

    def proxy_stats(self, project: str) -> str:
        """Hash of counters: lines accepted and rejected, by way in (syslog, http)."""
        return f"{self.prefix}plog:{project}:stats"

    def proxy_dropped(self) -> str:
        """Hash of counters of syslog datagrams dropped before any project: unknown_tag, not_syslog."""
        return f"{self.prefix}plog:dropped"

    # Application events waiting for the join (replay/ingest/server_events.py; layout in docs/server-events.md).
    def server_session(self, project: str, session: str) -> str:
        """List of the app's request events of one session (JSON), oldest first, capped and expiring."""
        return f"{self.prefix}srv:{project}:s:{session}"

    def server_route(self, project: str, route: str) -> str:
        """List of the app's request events without a session, of one method + host + folded route."""
        digest = hashlib.sha1(route.encode("utf-8", "surrogatepass")).hexdigest()[:24]
        return f"{self.prefix}srv:{project}:r:{digest}"

    def server_stats(self, project: str) -> str:
        """Hash of counters: events accepted and rejected."""
        return f"{self.prefix}srv:{project}:stats"

    # Ingestion buffer (collector appends, worker drains).
    def buffer(self, session: str) -> str:
        return f"{self.prefix}buf:{session}"

    def buffer_bytes(self, session: str) -> str:
        return f"{self.prefix}bufbytes:{session}"

    def seqs(self, session: str, window: str) -> str:
        return f"{self.prefix}seqs:{session}:{window}"

    def acked(self, session: str) -> str:
        """Hash window -> highest contiguous seq held."""
        return f"{self.prefix}acked:{session}"

    def session_meta(self, session: str) -> str:
        """Hash of what hello messages told us: project, user agent, windows."""
        return f"{self.prefix}sessmeta:{session}"

    # Rate limits: token buckets (hash: t tokens, ms last refill).
    def rate_window(self, session: str, window: str) -> str:
        return f"{self.prefix}rate:w:{session}:{window}"

    def rate_session(self, session: str) -> str:
        return f"{self.prefix}rate:s:{session}"

    def rate_project(self, project: str) -> str:
        return f"{self.prefix}rate:p:{project}"

    # Flush scheduling (replay/ingest/flush.py, worker/dispatch.py).
    def flush_due(self) -> str:
        """Zset: session -> when its buffer is due for a flush (epoch ms); workers claim what is due."""
        return f"{self.prefix}flush:due"

    def flush_tries(self) -> str:
        """Hash: session -> failed flushes in a row (the retry backoff grows with it)."""
        return f"{self.prefix}flush:tries"

    def sweep_lock(self) -> str:
        """Held by the one worker that sweeps for stranded buffers this interval."""
        return f"{self.prefix}flush:sweeping"

    def flush_queued(self, session: str) -> str:
        """Set while a flush job of the session waits in the queue: the dispatcher enqueues no second one."""
        return f"{self.prefix}flush:queued:{session}"

    def flush_lock(self, session: str) -> str:
        return f"{self.prefix}flushlock:{session}"

    def worker_stats(self) -> str:
        """Hash: what every `replay worker` counted (flushes, their durations, storage errors); read by /metrics."""
        return f"{self.prefix}stats:worker"

    # Deletion and retention (replay/index/erase.py, worker/retention.py); outside the index: reindex keeps them.
    def deleted(self) -> str:
        """Zset of tombstones: session -> when it was deleted (epoch ms); flush and reindex skip these sessions."""
        return f"{self.prefix}deleted"

    def erase_due(self) -> str:
        """Zset: deleted session -> when its erasure is run again (for what a flush in flight wrote after it)."""
        return f"{self.prefix}erase:due"

    def retention_turn(self) -> str:
        """Held by the one worker that enqueues the retention job this interval."""
        return f"{self.prefix}retention:turn"

    # Index (rebuildable from object storage by `replay reindex`).
    def session(self, session: str) -> str:
        """JSON summary of one session, as listed by the API."""
        return f"{self.prefix}session:{session}"

    def by_time(self) -> str:
        return f"{self.prefix}idx:time"

    def by_project(self, project: str) -> str:
        return f"{self.prefix}idx:project:{project}"

    def by_user(self, user: str) -> str:
        return f"{self.prefix}idx:user:{user}"

    def by_status(self, status: str) -> str:
        """status is a code ('502'), a class ('5xx') or 'error' (no response)."""
        return f"{self.prefix}idx:status:{status}"

    def by_failed_url(self, url: str) -> str:
        return f"{self.prefix}idx:url:{url}"

    def by_failed_route(self, route: str) -> str:
        """Sessions with a failed call to this folded route (host + route, replay.core.route_folding.normalize_route)."""
        return f"{self.prefix}idx:route:{route}"

    def route_urls(self, route: str) -> str:
        """Set of the normalised failed URLs that fold to this route (searched for substrings, route by route)."""
        return f"{self.prefix}idx:routeurls:{route}"

    def failed_routes(self) -> str:
        """Set of every folded failed route (few: ids are folded), for substring search."""
        return f"{self.prefix}idx:failedroutes"

    def by_release(self, release: str) -> str:
        """Sessions that ran this release (the snippet's `release`)."""
        return f"{self.prefix}idx:release:{release}"

    def by_environment(self, environment: str) -> str:
        """Sessions whose last environment was this one (the snippet's `environment`)."""
        return f"{self.prefix}idx:environment:{environment}"

    def with_frustration(self, kind: str) -> str:
        """Sessions with a rage click, a dead click or a retried call (kind: rage, dead, retry)."""
        return f"{self.prefix}idx:frustration:{kind}"

    def by_term(self, term: str) -> str:
        """Sessions whose URLs, user or messages hold this search term."""
        return f"{self.prefix}idx:term:{term}"

    def with_errors(self) -> str:
        """Sessions with an exception or a console error."""
        return f"{self.prefix}idx:errors"

    def with_console_errors(self) -> str:
        """Sessions with a console.error call."""
        return f"{self.prefix}idx:errors:console"

    def with_exceptions(self) -> str:
        """Sessions with an uncaught exception or unhandled rejection."""
        return f"{self.prefix}idx:errors:exception"

    # Failed-call groups (worker/groups.py); a group id is a short hex hash, so these never collide.
    def groups(self) -> str:
        """Zset of every group id, scored by the time of its latest failed call."""
        return f"{self.prefix}idx:groups"

    def groups_by_project(self, project: str) -> str:
        return f"{self.prefix}idx:groups:project:{project}"

    def groups_by_status(self, status: str) -> str:
        """status as in by_status: '502', '5xx' or 'error'."""
        return f"{self.prefix}idx:groups:status:{status}"

    def group(self, group_id: str) -> str:
        """Hash: project, method, host, route, status, count, first_ms, last_ms."""
        return f"{self.prefix}idx:group:{group_id}"

    def group_sessions(self, group_id: str) -> str:
        """Zset of sessions with a call in the group, scored by their latest one."""
        return f"{self.prefix}idx:group:{group_id}:sessions"

    def group_calls(self, group_id: str) -> str:
        """Hash session -> id of its latest call in the group (where the viewer opens)."""
        return f"{self.prefix}idx:group:{group_id}:calls"

    def group_users(self, group_id: str) -> str:
        """Hash user id -> how many of the group's sessions are that user's."""
        return f"{self.prefix}idx:group:{group_id}:users"

    def group_hours(self, group_id: str) -> str:
        """Hash hour start (epoch ms) -> calls in that hour."""
        return f"{self.prefix}idx:group:{group_id}:hours"

    def group_releases(self, group_id: str) -> str:
        """Sessions of the group per release they ran."""
        return f"{self.prefix}idx:group:{group_id}:releases"

    def group_causes(self, group_id: str) -> str:
        """Hash cause (DESIGN's codes, or 'unconfirmed') -> calls of the group (replay/index/causes.py)."""
        return f"{self.prefix}idx:group:{group_id}:causes"

    def group_upstreams(self, group_id: str) -> str:
        """Hash upstream address nginx tried -> calls of the group."""
        return f"{self.prefix}idx:group:{group_id}:upstreams"

    def sessions_by_cause(self, cause: str) -> str:
        """Zset of the sessions with a failed call of this cause (or 'unconfirmed'), scored by start time."""
        return f"{self.prefix}idx:cause:{cause}"

    def groups_by_cause(self, cause: str) -> str:
        """Zset of the groups with calls of this cause, scored by the time of each group's latest failed call."""
        return f"{self.prefix}idx:groups:cause:{cause}"

    def session_causes(self, session: str) -> str:
        """JSON of what this session last added to the groups' cause and upstream counts."""
        return f"{self.prefix}idx:sesscauses:{session}"

    def session_groups(self, session: str) -> str:
        """JSON of what this session last added to the groups, so that indexing it again adds only the difference."""
        return f"{self.prefix}idx:sessgroups:{session}"

    # Alerts (replay/core/alert_*.py): the failed calls of the last ALERT_BASELINE_S, scored by server time. Not
    # under idx: (reindex keeps them: each expires with the baseline); a deleted session's members go with it.
    def alert_group_calls(self, group_id: str) -> str:
        """Zset "session call-id" -> server time of each recent failed call of the group."""
        return f"{self.prefix}alerts:count:group:{group_id}"

    def alert_cause_calls(self, project: str, cause: str) -> str:
        """Zset "session call-id group-id" -> server time of each recent failed call of that confirmed cause."""
        return f"{self.prefix}alerts:count:cause:{project}:{cause}"

    def alert_groups(self, project: str) -> str:
        """Zset of the project's groups with a recent failed call, scored by its server time."""
        return f"{self.prefix}alerts:count:groups:{project}"

    def alert_sessions(self, project: str) -> str:
        """Zset of the project's sessions scored by their latest flush (those active in a window)."""
        return f"{self.prefix}alerts:count:sessions:{project}"

    def alert_sessions_5xx(self, project: str) -> str:
        """Zset of the project's sessions with a 5xx, scored by the server time of their latest one."""
        return f"{self.prefix}alerts:count:5xx:{project}"

    # Alert rules and their state live outside idx: (reindex keeps them).
    def alert_rules(self, project: str) -> str:
        """Hash rule id -> rule JSON."""
        return f"{self.prefix}alerts:rules:{project}"

    def alert_rules_seeded(self, project: str) -> str:
        """Set once the project got its default rules (deleting them all does not bring them back)."""
        return f"{self.prefix}alerts:seeded:{project}"

    def alert_state(self, rule_id: str) -> str:
        """Hash subject -> JSON {state, since_ms, count, sent_ms} of one rule."""
        return f"{self.prefix}alerts:state:{rule_id}"

    def alert_history(self, project: str) -> str:
        """List of the project's alert ids, newest first."""
        return f"{self.prefix}alerts:history:{project}"

    def alert(self, alert_id: str) -> str:
        """JSON of one alert (its message, destination and delivery attempts)."""
        return f"{self.prefix}alerts:alert:{alert_id}"

    def alert_outbox(self) -> str:
        """Zset of alert ids waiting for delivery, scored by when each is due (a claim leases it)."""
        return f"{self.prefix}alerts:outbox"

    def alert_eval_turn(self) -> str:
        """Set by the worker that evaluates the rules this interval."""
        return f"{self.prefix}alerts:eval-turn"

    def query_tmp(self, token: str) -> str:
        """Short-lived union of zsets built while answering one query."""
        return f"{self.prefix}idx:tmp:{token}"

    def index_patterns(self) -> list[str]:
        """SCAN patterns matching every index key (what `replay reindex` drops)."""
        prefix = self._escaped_prefix()
        return [f"{prefix}session:*", f"{prefix}idx:*"]


def segment_key(session: str, window: str, first_seq: int, last_seq: int) -> str:
    """A retried flush of the same batches writes the same key."""
    return f"sessions/{session}/segments/{window}/{first_seq:010d}-{last_seq:010d}.json.gz"


def manifest_key(session: str) -> str:
    return f"sessions/{session}/manifest.json"


def evidence_key(session: str) -> str:
    """The proxy's (and later the app's) lines joined to the session's failed calls (worker/evidence.py)."""
    return f"sessions/{session}/evidence.json"


def sessions_prefix() -> str:
    return "sessions/"


def session_prefix(session: str) -> str:
    return f"sessions/{session}/"


def segments_prefix(session: str) -> str:
    return f"sessions/{session}/segments/"
