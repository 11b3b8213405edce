"""Every Redis key and every object key, built in one place."""
from __future__ import annotations

import hashlib
import re

from replay.core import wire
from replay.core.index_keys import IndexKeys, _escape

# Ids come from browsers; they are validated before they reach a key, by the
# pattern both sides agree on (\Z: "$" would accept a trailing newline).
ID_PATTERN = re.compile(r"\A" + wire.ID_PATTERN.removeprefix("^").removesuffix("$") + r"\Z")


class RedisKeys(IndexKeys):
    """Redis key names under one prefix (tests isolate themselves by prefix).

    On Redis Cluster (`cluster`) keys carry hash tags, so that each script and transaction touches one slot:
    a session's buffer and ingest bookkeeping by the session (`{id}`: spread over the shards), the flush schedule
    `{flush}`, accounts, access, deletion and alert rules `{acct}`, the index `{idx}` (index_keys.py), proxy and
    application lines waiting for the join by project. On one Redis the names are those of old (no tags).
    """

    def __init__(self, prefix: str = "replay:", cluster: bool = False):
        self.prefix = prefix
        self.cluster = cluster
        self.ac = prefix + ("{acct}" if cluster else "")
        self.fl = prefix + ("{flush}" if cluster else "")
        self.ix = prefix + ("{idx}" if cluster else "")

    @classmethod
    def of(cls, settings) -> "RedisKeys":
        """The keys for the configured Redis (tagged on a cluster)."""
        return cls(settings.KEY_PREFIX, cluster=settings.redis_cluster)

    def tag(self, name: str) -> str:
        """`name` as a hash tag on a cluster (keys holding it share a slot), as it is on one Redis."""
        return "{" + name + "}" if self.cluster else name

    # Accounts and access.
    def project(self, key: str) -> str:
        return f"{self.ac}project:{key}"

    def projects(self) -> str:
        return f"{self.ac}projects"

    def user(self, email: str) -> str:
        return f"{self.ac}user:{email.lower()}"

    def token(self, digest: str) -> str:
        return f"{self.ac}token:{digest}"

    def refused_origins(self, project: str) -> tuple[str, str]:
        """Ingest refused for a project, by origin: a zset origin -> last refusal (epoch ms), the most recent
        REFUSED_ORIGINS_KEPT only, and a hash 'n:ORIGIN' -> refusals, 'r:ORIGIN' -> the last reason."""
        return f"{self.ac}refused:{project}:seen", f"{self.ac}refused:{project}:info"

    def heartbeats(self, project: str, day: str) -> str:
        """Counter of the project's heartbeats (page loads that held their recording) on one UTC day, YYYY-MM-DD."""
        return f"{self.ac}heartbeats:{project}:{day}"

    def user_pattern(self) -> str:
        """SCAN pattern of every user record (`replay user list`)."""
        return _escape(self.ac) + "user:*"

    def token_pattern(self) -> str:
        """SCAN pattern of every API token record (`replay token list`)."""
        return _escape(self.ac) + "token:*"

    # Viewer logins (the cookie holds the login id; Redis keys hold only its digest).
    def login(self, digest: str) -> str:
        """Hash: user, password_id, created_ms, seen_ms; expires LOGIN_TTL_S after the login."""
        return f"{self.ac}login:{digest}"

    def logins_of_user(self, email: str) -> str:
        """Zset of the user's login digests, scored by their expiry (epoch ms): what a reset revokes."""
        return f"{self.ac}logins:user:{email.lower()}"

    def login_failures_of_account(self, email: str) -> str:
        """Counter of failed logins for one attempted email (known or not) in the current window."""
        # The email is whatever a stranger typed: hashed, so a key stays short.
        digest = hashlib.sha256(email.lower().encode("utf-8", "surrogatepass")).hexdigest()
        return f"{self.ac}loginfail:account:{digest}"

    def login_failures_of_address(self, address: str) -> str:
        """Counter of failed logins from one client address (an IPv6 network) in the current window."""
        return f"{self.ac}loginfail:addr:{address}"

    # Share links (not part of the index: `replay reindex` must not drop them).
    def share(self, link_id: str) -> str:
        """Hash: session, created_by, created_ms, expires_ms, t_ms, revoked."""
        return f"{self.ac}share:{link_id}"

    def shares_of_session(self, session: str) -> str:
        """Zset of link ids by created_ms."""
        return f"{self.ac}shares:session:{session}"

    def shares_of_user(self, email: str) -> str:
        """Zset of link ids by created_ms."""
        return f"{self.ac}shares:user:{email.lower()}"

    # Server keys (replay/core/server_keys.py): the project hash holds its key, this maps it back.
    def server_key(self, server_key: str) -> str:
        """String: the project key a server key belongs to."""
        return f"{self.ac}serverkey:{server_key}"

    # Proxy log lines waiting for the join (replay/ingest/proxy_logs.py; layout in docs/proxy-logs.md).
    def proxy_session(self, project: str, session: str) -> str:
        """List of access records of one session (JSON), oldest first, capped and expiring."""
        return f"{self.prefix}plog:{self.tag(project)}:s:{session}"

    def proxy_route(self, project: str, route: str) -> str:
        """List of failed access records without a session, of one method + host + folded route."""
        digest = hashlib.sha1(route.encode("utf-8", "surrogatepass")).hexdigest()[:24]
        return f"{self.prefix}plog:{self.tag(project)}:r:{digest}"

    def proxy_connection(self, project: str, connection: int) -> str:
        """List of error-log records of one nginx connection number ($connection, `*N`)."""
        return f"{self.prefix}plog:{self.tag(project)}:c:{connection}"

    def proxy_connection_session(self, project: str, connection: int) -> str:
        """String: the session of the last failed access record on this nginx connection (a late error line's)."""
        return f"{self.prefix}plog:{self.tag(project)}:cs:{connection}"

    def proxy_stats(self, project: str) -> str:
        """Hash of counters: lines accepted and rejected, by way in (syslog, http)."""
        return f"{self.prefix}plog:{self.tag(project)}:stats"

    def proxy_dropped(self) -> str:
        """Hash of counters of syslog datagrams dropped before any project: unknown_tag, not_syslog."""
        return f"{self.prefix}plog:dropped"

    # Application events waiting for the join (replay/ingest/server_events.py; layout in docs/server-events.md).
    def server_session(self, project: str, session: str) -> str:
        """List of the app's request events of one session (JSON), oldest first, capped and expiring."""
        return f"{self.prefix}srv:{self.tag(project)}:s:{session}"

    def server_route(self, project: str, route: str) -> str:
        """List of the app's request events without a session, of one method + host + folded route."""
        digest = hashlib.sha1(route.encode("utf-8", "surrogatepass")).hexdigest()[:24]
        return f"{self.prefix}srv:{self.tag(project)}:r:{digest}"

    def server_stats(self, project: str) -> str:
        """Hash of counters: events accepted and rejected."""
        return f"{self.prefix}srv:{self.tag(project)}:stats"

    # Ingestion buffer (collector appends, worker drains).
    def buffer(self, session: str) -> str:
        return f"{self.prefix}buf:{self.tag(session)}"

    def session_of_buffer(self, key: str) -> str:
        """The session whose buffer `key` is (what buffer(session) built)."""
        name = key[len(self.prefix) + len("buf:"):]
        return name[1:-1] if self.cluster else name

    def buffer_bytes(self, session: str) -> str:
        return f"{self.prefix}bufbytes:{self.tag(session)}"

    def seqs(self, session: str, window: str) -> str:
        return f"{self.prefix}seqs:{self.tag(session)}:{window}"

    def acked(self, session: str) -> str:
        """Hash window -> highest contiguous seq held."""
        return f"{self.prefix}acked:{self.tag(session)}"

    def session_meta(self, session: str) -> str:
        """Hash of what hello messages told us: project, user agent, windows."""
        return f"{self.prefix}sessmeta:{self.tag(session)}"

    # Rate limits: token buckets (hash: t tokens, ms last refill).
    def rate_window(self, session: str, window: str) -> str:
        return f"{self.prefix}rate:w:{self.tag(session)}:{window}"

    def rate_session(self, session: str) -> str:
        return f"{self.prefix}rate:s:{self.tag(session)}"

    def rate_project(self, project: str) -> str:
        return f"{self.prefix}rate:p:{project}"

    # Flush scheduling (replay/ingest/flush.py, worker/dispatch.py).
    def flush_due(self) -> str:
        """Zset: session -> when its buffer is due for a flush (epoch ms); workers claim what is due."""
        return f"{self.fl}flush:due"

    def flush_tries(self) -> str:
        """Hash: session -> failed flushes in a row (the retry backoff grows with it)."""
        return f"{self.fl}flush:tries"

    def sweep_lock(self) -> str:
        """Held by the one worker that sweeps for stranded buffers this interval."""
        return f"{self.fl}flush:sweeping"

    def flush_queued(self, session: str) -> str:
        """Set while a flush job of the session waits in the queue: the dispatcher enqueues no second one."""
        return f"{self.prefix}flush:queued:{self.tag(session)}"

    def flush_lock(self, session: str) -> str:
        return f"{self.prefix}flushlock:{self.tag(session)}"

    def worker_stats(self) -> str:
        """Hash: what every `replay worker` counted (flushes, their durations, storage errors); read by /metrics."""
        return f"{self.ac}stats:worker"

    # Deletion and retention (replay/index/erase.py, worker/retention.py); outside the index: reindex keeps them.
    def deleted(self) -> str:
        """Zset of tombstones: session -> when it was deleted (epoch ms); flush and reindex skip these sessions."""
        return f"{self.ac}deleted"

    def erase_due(self) -> str:
        """Zset: deleted session -> when its erasure is run again (for what a flush in flight wrote after it)."""
        return f"{self.ac}erase:due"

    def retention_turn(self) -> str:
        """Held by the one worker that enqueues the retention job this interval."""
        return f"{self.ac}retention:turn"

    # Alert rules and their state live outside idx: (reindex keeps them).
    def alert_rules(self, project: str) -> str:
        """Hash rule id -> rule JSON."""
        return f"{self.ac}alerts:rules:{project}"

    def alert_rules_seeded(self, project: str) -> str:
        """Set once the project got its default rules (deleting them all does not bring them back)."""
        return f"{self.ac}alerts:seeded:{project}"

    def alert_state(self, rule_id: str) -> str:
        """Hash subject -> JSON {state, since_ms, count, sent_ms} of one rule."""
        return f"{self.ac}alerts:state:{rule_id}"

    def alert_history(self, project: str) -> str:
        """List of the project's alert ids, newest first."""
        return f"{self.ac}alerts:history:{project}"

    def alert(self, alert_id: str) -> str:
        """JSON of one alert (its message, destination and delivery attempts)."""
        return f"{self.ac}alerts:alert:{alert_id}"

    def alert_outbox(self) -> str:
        """Zset of alert ids waiting for delivery, scored by when each is due (a claim leases it)."""
        return f"{self.ac}alerts:outbox"

    def alert_eval_turn(self) -> str:
        """Set by the worker that evaluates the rules this interval."""
        return f"{self.ac}alerts:eval-turn"


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
