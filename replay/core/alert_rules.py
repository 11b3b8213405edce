"""Alert rules per project: what they watch, their thresholds and destination, stored in Redis.

Three kinds (README "Alerts"):
- spike: a failure group (every group of the project, one group, or the calls of one confirmed cause) with at
  least `threshold` failed calls in the window and at least `multiple` times its usual rate (the baseline);
- new_group: a failure group first seen after the rule was made, with `threshold` calls;
- error_share: at least `threshold` percent of the sessions active in the window had a 5xx (of `min_sessions`).
Every project gets DEFAULTS the first time its rules are read (once: deleting them does not bring them back).
"""
from __future__ import annotations

import json
import re
import secrets
import time

from redis import Redis

from replay.core.evidence.cause_codes import CAUSE_CODES
from replay.core.keys import RedisKeys

KINDS = ("spike", "new_group", "error_share")
FORMATS = ("json", "slack")
GROUP_SCOPE = re.compile(r"^[0-9a-f]{16}$")
MAX_NAME_CHARS = 100
MAX_URL_CHARS = 2000
MAX_RULES = 50

DEFAULTS = (
    {"name": "Failure spike", "kind": "spike", "scope": "", "threshold": 10, "multiple": 3.0},
    {"name": "New failure group", "kind": "new_group", "scope": "", "threshold": 1, "multiple": 1.0},
    {"name": "Sessions with a 5xx", "kind": "error_share", "scope": "", "threshold": 10, "multiple": 1.0,
     "min_sessions": 20},
)


class RuleError(ValueError):
    """A rule field that cannot be taken as it is; the message says which and why."""


def _number(form: dict, name: str, default, kind, low, high):
    raw = form.get(name)
    if raw is None or str(raw).strip() == "":
        return default
    try:
        value = kind(str(raw).strip())
    except ValueError:
        raise RuleError(f"{name} must be a number") from None
    if not low <= value <= high:
        raise RuleError(f"{name} must be between {low} and {high}")
    return value


def parse_rule(form: dict, base: dict | None = None) -> dict:
    """A rule from form or JSON fields over `base` (an existing rule, or nothing); RuleError for bad input."""
    base = base or {}
    name = str(form.get("name", base.get("name", ""))).strip()[:MAX_NAME_CHARS]
    kind = str(form.get("kind", base.get("kind", "spike"))).strip()
    if kind not in KINDS:
        raise RuleError("kind is one of " + ", ".join(KINDS))
    scope = str(form.get("scope", base.get("scope", ""))).strip()
    if scope and not (kind == "spike" and (GROUP_SCOPE.match(scope) or scope.removeprefix("cause:") in CAUSE_CODES
                                            and scope.startswith("cause:"))):
        raise RuleError("scope is empty (every group), a group id (16 hex characters) or cause:<code> "
                        "(spike rules only), the code one of " + ", ".join(CAUSE_CODES))
    url = str(form.get("webhook_url", base.get("webhook_url", ""))).strip()
    if url and (len(url) > MAX_URL_CHARS or not re.match(r"^https?://[^\s/]+", url)):
        raise RuleError("webhook_url must be an http:// or https:// URL")
    fmt = str(form.get("format", base.get("format", "json"))).strip()
    if fmt not in FORMATS:
        raise RuleError("format is one of " + ", ".join(FORMATS))
    high = 100 if kind == "error_share" else 1_000_000
    rule = {
        "name": name or {"spike": "Failure spike", "new_group": "New failure group",
                         "error_share": "Sessions with a 5xx"}[kind],
        "kind": kind, "scope": scope, "webhook_url": url, "format": fmt,
        "threshold": _number(form, "threshold", base.get("threshold", 10 if kind == "spike" else 1), float, 0.01 if
                             kind == "error_share" else 1, high),
        "multiple": _number(form, "multiple", base.get("multiple", 3.0), float, 1.0, 1000.0),
        "min_sessions": _number(form, "min_sessions", base.get("min_sessions", 20), int, 1, 1_000_000),
        "window_s": _number(form, "window_s", base.get("window_s"), int, 10, 7 * 24 * 3600),
        "cooldown_s": _number(form, "cooldown_s", base.get("cooldown_s"), int, 0, 7 * 24 * 3600),
        "muted": base.get("muted", False),
    }
    if kind != "error_share":
        rule["threshold"] = int(rule["threshold"])
    return rule


def window_s(rule: dict, default_s: int) -> int:
    return int(rule.get("window_s") or default_s)


def cooldown_s(rule: dict, default_s: int) -> int:
    value = rule.get("cooldown_s")
    return int(default_s if value is None else value)


class AlertRules:
    """The rules of each project, as JSON in one hash per project."""

    def __init__(self, redis: Redis, keys: RedisKeys):
        self.redis = redis
        self.keys = keys

    def of_project(self, project: str) -> list[dict]:
        """The project's rules, oldest first; the defaults the first time a project is looked at."""
        self.seed(project)
        found = [json.loads(raw) for raw in self.redis.hvals(self.keys.alert_rules(project))]
        return sorted(found, key=lambda r: (r["created_ms"], r.get("order", 0), r["id"]))

    def seed(self, project: str) -> None:
        if self.redis.set(self.keys.alert_rules_seeded(project), "1", nx=True):
            for i, default in enumerate(DEFAULTS):
                self._write(project, {**parse_rule(default), "order": i})  # listed in this order

    def get(self, project: str, rule_id: str) -> dict | None:
        raw = self.redis.hget(self.keys.alert_rules(project), rule_id)
        return json.loads(raw) if raw else None

    def create(self, project: str, form: dict) -> dict:
        if self.redis.hlen(self.keys.alert_rules(project)) >= MAX_RULES:
            raise RuleError(f"a project has at most {MAX_RULES} rules")
        return self._write(project, parse_rule(form))

    def update(self, project: str, rule_id: str, form: dict) -> dict:
        rule = self._require(project, rule_id)
        changed = parse_rule(form, rule)
        # A new kind or scope watches something else: the old state must not resolve or cool it.
        if (changed["kind"], changed["scope"]) != (rule["kind"], rule["scope"]):
            self.redis.delete(self.keys.alert_state(rule_id))
        return self._write(project, {**rule, **changed})

    def set_muted(self, project: str, rule_id: str, muted: bool) -> dict:
        return self._write(project, {**self._require(project, rule_id), "muted": bool(muted)})

    def delete(self, project: str, rule_id: str) -> dict:
        rule = self._require(project, rule_id)
        self.redis.hdel(self.keys.alert_rules(project), rule_id)
        self.redis.delete(self.keys.alert_state(rule_id))
        return rule

    def _require(self, project: str, rule_id: str) -> dict:
        rule = self.get(project, rule_id)
        if rule is None:
            raise RuleError(f"no alert rule {rule_id!r} in this project")
        return rule

    def _write(self, project: str, rule: dict) -> dict:
        now = int(time.time() * 1000)
        rule = {**rule, "id": rule.get("id") or "ar_" + secrets.token_hex(6), "project": project,
                "created_ms": rule.get("created_ms") or now, "updated_ms": now}
        self.redis.hset(self.keys.alert_rules(project), rule["id"], json.dumps(rule, sort_keys=True))
        return rule
