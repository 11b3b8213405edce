"""The alert evaluator: every ALERT_EVAL_INTERVAL_S one worker checks every rule of every project.

Each rule keeps a state per subject (a group, a cause, the project's sessions) in Redis: a subject whose
condition holds fires once (unless it fired within the rule's cooldown), stays firing without repeats, and
sends "resolved" when its condition no longer holds. The turn is a key that expires with the interval, so
no process holds it longer than that: when a worker dies, another evaluates at the next interval.
"""
from __future__ import annotations

import json
import time
from collections import Counter

from redis import Redis

from replay.core import alert_messages as msg
from replay.core import alert_outbox
from replay.core.alert_rules import AlertRules, cooldown_s, window_s
from replay.core.keys import RedisKeys
from replay.core.projects import Projects
from replay.core.settings import Settings
from replay.index import alert_counts as counts
from replay.index.groups import get_group


def take_turn(redis: Redis, keys: RedisKeys, settings: Settings) -> bool:
    return bool(redis.set(keys.alert_eval_turn(), "1", nx=True, px=max(1, int(settings.ALERT_EVAL_INTERVAL_S * 1000))))


def evaluate(redis: Redis, keys: RedisKeys, settings: Settings, now_ms: int | None = None) -> list[dict]:
    """Check every rule once; returns the alerts it recorded (and queued for delivery)."""
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    rules, out = AlertRules(redis, keys), []
    for project in Projects(redis, keys).all():
        info = {"key": project.key, "name": project.name}
        for rule in rules.of_project(project.key):
            if not rule.get("muted"):
                out += _Rule(redis, keys, settings, rule, info, now).run()
    return out


class _Rule:
    """One rule's evaluation at one moment."""

    def __init__(self, redis: Redis, keys: RedisKeys, settings: Settings, rule: dict, project: dict, now: int):
        self.redis, self.keys, self.settings, self.rule, self.project, self.now = redis, keys, settings, rule, project, now
        self.window_s = window_s(rule, settings.ALERT_WINDOW_S)
        self.since = now - self.window_s * 1000
        self.base = (settings.PUBLIC_URL or "").rstrip("/")

    def run(self) -> list[dict]:
        state_key = self.keys.alert_state(self.rule["id"])
        states = {k.decode(): json.loads(v) for k, v in self.redis.hgetall(state_key).items()}
        firing = {s for s, st in states.items() if st.get("state") == "firing"}
        kind = self.rule["kind"]
        candidates = self._candidates() | (firing if kind != "new_group" else set())
        out = []
        for subject in sorted(candidates):
            holds, facts = self._check(subject)
            st = states.get(subject, {})
            if holds and st.get("state") not in ("firing", "notified"):
                if self.now - st.get("sent_ms", 0) < cooldown_s(self.rule, self.settings.ALERT_COOLDOWN_S) * 1000:
                    continue
                out.append(self._send("firing", subject, facts))
                st = {"state": "notified" if kind == "new_group" else "firing", "since_ms": self.now,
                      "sent_ms": self.now}
            elif not holds and st.get("state") == "firing":
                out.append(self._send("resolved", subject, facts))
                st = {**st, "state": "resolved", "resolved_ms": self.now}
            else:
                continue
            self.redis.hset(state_key, subject, json.dumps(st))
        return out

    # What the rule watches.
    def _candidates(self) -> set[str]:
        kind, scope = self.rule["kind"], self.rule.get("scope") or ""
        if kind == "error_share":
            return {"sessions"}
        if scope.startswith("cause:"):
            found = counts.active_causes(self.redis, self.keys, self.project["key"], self.since)
            return {scope} if scope[6:] in found else set()
        groups = set(counts.active_groups(self.redis, self.keys, self.project["key"], self.since))
        return groups & {scope} if scope else groups

    def _key(self, subject: str) -> str:
        if subject.startswith("cause:"):
            return self.keys.alert_cause_calls(self.project["key"], subject[6:])
        return self.keys.alert_group_calls(subject)

    def _check(self, subject: str) -> tuple[bool, dict]:
        """Whether the condition holds now, and the figures the message gives."""
        kind, threshold = self.rule["kind"], self.rule["threshold"]
        if kind == "error_share":
            total, failed = counts.session_share(self.redis, self.keys, self.project["key"], self.since, self.now)
            percent = 100.0 * failed / total if total else 0.0
            share = {"sessions": total, "with_5xx": failed, "percent": round(percent, 1)}
            return total >= self.rule.get("min_sessions", 1) and percent >= threshold, {"share": share}
        key = self._key(subject)
        calls = counts.count(self.redis, key, self.since, self.now)
        if kind == "new_group":
            group = get_group(self.redis, self.keys, subject)
            new = group is not None and group["first_seen_ms"] >= self.rule["created_ms"]
            return new and calls >= threshold, {"calls": calls, "baseline": None}
        span_s = max(self.settings.ALERT_BASELINE_S - self.window_s, self.window_s)
        before = counts.count(self.redis, key, self.now - (span_s + self.window_s) * 1000, self.since - 1)
        baseline = before * self.window_s / span_s
        return calls >= threshold and calls >= self.rule.get("multiple", 1.0) * baseline, \
            {"calls": calls, "baseline": baseline}

    # What the alert says.
    def _send(self, event: str, subject: str, facts: dict) -> dict:
        extra: dict = {}
        if subject == "sessions":
            found = counts.sessions_5xx(self.redis, self.keys, self.project["key"], self.since, msg.MAX_SESSIONS)
            extra["sessions"] = [{"session": s, "at_ms": at, "url": f"{self.base}/sessions/{s}"} for s, at in found]
        else:
            first = counts.first_calls(self.redis, self._key(subject), self.since, msg.MAX_SESSIONS)
            if subject.startswith("cause:"):
                gid = Counter(parts[2] for parts, _ in first).most_common(1)[0][0] if first else None
                extra["cause"] = {"code": subject[6:], "confirmed": True, "calls": facts["calls"],
                                  "summary": f"confirmed: {subject[6:]}"}
            else:
                gid = subject
            group = get_group(self.redis, self.keys, gid) if gid else None
            if group:
                extra["group"] = group
                extra["group_url"] = f"{self.base}/failures/{group['id']}"
                extra["releases"] = group["releases"]
                extra.setdefault("cause", msg.cause_of(group["causes"], group["status"]))
            extra["sessions"] = [{"session": parts[0], "at_ms": at, "call": parts[1],
                                  "url": f"{self.base}/failures/{parts[2] if len(parts) > 2 else gid}"
                                         f"/sessions/{parts[0]}"} for parts, at in first]
        payload = msg.payload(event=event, rule=self.rule, project=self.project, now_ms=self.now,
                              window_s=self.window_s, calls=facts.get("calls"), baseline=facts.get("baseline"),
                              share=facts.get("share"), **extra)
        url = self.rule.get("webhook_url") or self.settings.ALERT_WEBHOOK_URL
        return alert_outbox.record(self.redis, self.keys, rule=self.rule, payload=payload, url=url,
                                   fmt=self.rule.get("format") or "json", kept=self.settings.ALERT_HISTORY_KEPT,
                                   ttl_s=self.settings.ALERT_HISTORY_TTL_S)
