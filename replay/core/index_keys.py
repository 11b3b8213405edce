"""The index's Redis keys (rebuildable from object storage by `replay reindex`), a part of RedisKeys.

Every one starts with `ix`: the prefix, and on Redis Cluster the hash tag `{idx}` (replay/core/keys.py), so the
index's scripts, transactions and unions (one query intersects zsets of any filters) all run within one slot.
"""
from __future__ import annotations

import re


def _escape(pattern: str) -> str:
    """A literal for a SCAN pattern."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", pattern)


class IndexKeys:
    ix: str  # the prefix of every index key

    def session(self, session: str) -> str:
        """JSON summary of one session, as listed by the API."""
        return f"{self.ix}session:{session}"

    def by_time(self) -> str:
        return f"{self.ix}idx:time"

    def by_project(self, project: str) -> str:
        """Sessions of a project (sliced: replay/index/sliced.py)."""
        return f"{self.ix}idx:project:{project}"

    def by_user(self, user: str) -> str:
        return f"{self.ix}idx:user:{user}"

    def by_status(self, status: str) -> str:
        """status is a code ('502'), a class ('5xx') or 'error' (no response)."""
        return f"{self.ix}idx:status:{status}"

    def by_failed_url(self, url: str) -> str:
        return f"{self.ix}idx:url:{url}"

    def by_failed_route(self, route: str) -> str:
        """Sessions with a failed call to this folded route (host + route, replay.core.route_folding.normalize_route)."""
        return f"{self.ix}idx:route:{route}"

    def route_urls(self, route: str) -> str:
        """Set of the normalised failed URLs that fold to this route (searched for substrings, route by route)."""
        return f"{self.ix}idx:routeurls:{route}"

    def failed_routes(self) -> str:
        """Set of every folded failed route (few: ids are folded), for substring search."""
        return f"{self.ix}idx:failedroutes"

    def by_release(self, release: str) -> str:
        """Sessions that ran this release (the snippet's `release`)."""
        return f"{self.ix}idx:release:{release}"

    def by_environment(self, environment: str) -> str:
        """Sessions whose last environment was this one (the snippet's `environment`)."""
        return f"{self.ix}idx:environment:{environment}"

    def with_frustration(self, kind: str) -> str:
        """Sessions with a rage click, a dead click or a retried call (kind: rage, dead, retry)."""
        return f"{self.ix}idx:frustration:{kind}"

    def by_term(self, term: str) -> str:
        """Sessions whose URLs, user or messages hold this search term (sliced: replay/index/sliced.py)."""
        return f"{self.ix}idx:term:{term}"

    def with_errors(self) -> str:
        """Sessions with an exception or a console error."""
        return f"{self.ix}idx:errors"

    def with_console_errors(self) -> str:
        """Sessions with a console.error call."""
        return f"{self.ix}idx:errors:console"

    def with_exceptions(self) -> str:
        """Sessions with an uncaught exception or unhandled rejection."""
        return f"{self.ix}idx:errors:exception"

    # Failed-call groups (worker/groups.py); a group id is a short hex hash, so these never collide.
    def groups(self) -> str:
        """Zset of every group id, scored by the time of its latest failed call."""
        return f"{self.ix}idx:groups"

    def groups_by_project(self, project: str) -> str:
        return f"{self.ix}idx:groups:project:{project}"

    def groups_by_status(self, status: str) -> str:
        """status as in by_status: '502', '5xx' or 'error'."""
        return f"{self.ix}idx:groups:status:{status}"

    def group(self, group_id: str) -> str:
        """Hash: project, method, host, route, status, count, first_ms, last_ms."""
        return f"{self.ix}idx:group:{group_id}"

    def group_sessions(self, group_id: str) -> str:
        """Zset of sessions with a call in the group, scored by their latest one."""
        return f"{self.ix}idx:group:{group_id}:sessions"

    def group_calls(self, group_id: str) -> str:
        """Hash session -> id of its latest call in the group (where the viewer opens)."""
        return f"{self.ix}idx:group:{group_id}:calls"

    def group_users(self, group_id: str) -> str:
        """Hash user id -> how many of the group's sessions are that user's."""
        return f"{self.ix}idx:group:{group_id}:users"

    def group_hours(self, group_id: str) -> str:
        """Hash hour start (epoch ms) -> calls in that hour."""
        return f"{self.ix}idx:group:{group_id}:hours"

    def group_releases(self, group_id: str) -> str:
        """Sessions of the group per release they ran."""
        return f"{self.ix}idx:group:{group_id}:releases"

    def group_causes(self, group_id: str) -> str:
        """Hash cause (DESIGN's codes, or 'unconfirmed') -> calls of the group (replay/index/causes.py)."""
        return f"{self.ix}idx:group:{group_id}:causes"

    def group_upstreams(self, group_id: str) -> str:
        """Hash upstream address nginx tried -> calls of the group."""
        return f"{self.ix}idx:group:{group_id}:upstreams"

    def sessions_by_cause(self, cause: str) -> str:
        """Zset of the sessions with a failed call of this cause (or 'unconfirmed'), scored by start time."""
        return f"{self.ix}idx:cause:{cause}"

    def groups_by_cause(self, cause: str) -> str:
        """Zset of the groups with calls of this cause, scored by the time of each group's latest failed call."""
        return f"{self.ix}idx:groups:cause:{cause}"

    def session_causes(self, session: str) -> str:
        """JSON of what this session last added to the groups' cause and upstream counts."""
        return f"{self.ix}idx:sesscauses:{session}"

    def session_groups(self, session: str) -> str:
        """JSON of what this session last added to the groups, so that indexing it again adds only the difference."""
        return f"{self.ix}idx:sessgroups:{session}"

    # Alerts (replay/core/alert_*.py): the failed calls of the last ALERT_BASELINE_S, scored by server time. Not
    # under idx: (reindex keeps them: each expires with the baseline); a deleted session's members go with it.
    def alert_group_calls(self, group_id: str) -> str:
        """Zset "session call-id" -> server time of each recent failed call of the group."""
        return f"{self.ix}alerts:count:group:{group_id}"

    def alert_cause_calls(self, project: str, cause: str) -> str:
        """Zset "session call-id group-id" -> server time of each recent failed call of that confirmed cause."""
        return f"{self.ix}alerts:count:cause:{project}:{cause}"

    def alert_groups(self, project: str) -> str:
        """Zset of the project's groups with a recent failed call, scored by its server time."""
        return f"{self.ix}alerts:count:groups:{project}"

    def alert_sessions(self, project: str) -> str:
        """Zset of the project's sessions scored by their latest flush (those active in a window), in slices."""
        return f"{self.ix}alerts:count:sessions:{project}"

    def alert_sessions_5xx(self, project: str) -> str:
        """Zset of the project's sessions with a 5xx, scored by the server time of their latest one."""
        return f"{self.ix}alerts:count:5xx:{project}"

    def query_tmp(self, token: str) -> str:
        """Short-lived union of zsets built while answering one query."""
        return f"{self.ix}idx:tmp:{token}"

    def index_patterns(self) -> list[str]:
        """SCAN patterns matching every index key (what `replay reindex` drops)."""
        prefix = _escape(self.ix)
        return [f"{prefix}session:*", f"{prefix}idx:*"]

