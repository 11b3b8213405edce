"""What an alert says: the webhook's JSON body (README "Alerts": version 1) and its Slack-compatible text."""
from __future__ import annotations

import json

from replay.core.evidence.cause_codes import UNCONFIRMED

VERSION = 1
# Sessions an alert links to, at most (the first affected).
MAX_SESSIONS = 5
MAX_RELEASES = 3
# What an unconfirmed failure most likely is, by the status the browser saw (no proxy line or app event said).
LIKELY = {
    0: "no response reached the browser: the network, the proxy or the server dropped the call",
    502: "the proxy got no valid answer from the upstream: it is down, refusing or crashing",
    503: "no upstream was available, or the proxy limited the rate",
    504: "the upstream did not answer in time",
}
KIND_WORDS = {"spike": "Failure spike", "new_group": "New failure group", "error_share": "Sessions with a 5xx",
              "test": "Test alert"}


def group_label(group: dict) -> str:
    """POST shop.example/api/pay → 502."""
    status = str(group["status"]) if group["status"] else "no response"
    return f"{group['method']} {group['host']}{group['route']} → {status}"


def cause_of(causes: dict, status: int) -> dict:
    """The cause of most confirmed calls, else what the status most likely means."""
    confirmed = [(n, code) for code, n in causes.items() if code != UNCONFIRMED and n > 0]
    if confirmed:
        calls, code = max(confirmed)
        return {"code": code, "confirmed": True, "calls": calls, "summary": f"confirmed: {code} ({calls} of "
                f"{sum(causes.values())} calls settled by the proxy's or the app's own record)"}
    likely = LIKELY.get(status) or ("the application answered with an error" if status >= 500 else
                                    "the application refused the call")
    return {"code": None, "confirmed": False, "calls": 0, "summary": "likely: " + likely}


def payload(*, event: str, rule: dict, project: dict, now_ms: int, window_s: int, calls: int | None = None,
            baseline: float | None = None, group: dict | None = None, group_url: str | None = None,
            cause: dict | None = None, sessions: list[dict] | None = None, releases: list[dict] | None = None,
            share: dict | None = None) -> dict:
    """The JSON body; `text` is the same message in one Slack-compatible string."""
    body = {
        "v": VERSION, "event": event, "kind": rule["kind"],
        "rule": {k: rule.get(k) for k in ("id", "name", "kind", "scope", "threshold", "multiple")},
        "project": project, "window_s": window_s,
        "counts": {"calls": calls, "baseline": None if baseline is None else round(baseline, 2)},
        "group": ({**{k: group[k] for k in ("id", "method", "host", "route", "status")},
                   "label": group_label(group), "sign_label": group.get("sign_label"), "first_seen_ms": group.get("first_seen_ms"), "url": group_url}
                  if group else None),
        "cause": cause, "share": share,
        "releases": (releases or [])[:MAX_RELEASES], "sessions": (sessions or [])[:MAX_SESSIONS],
        "sent_ms": now_ms,
    }
    body["title"] = title(body)
    body["text"] = text(body)
    return body


def _minutes(window_s: int) -> str:
    return f"{window_s // 60} min" if window_s % 60 == 0 else f"{window_s} s"


def title(body: dict) -> str:
    what = body["rule"].get("name") or KIND_WORDS.get(body["kind"], body["kind"])
    subject = body["group"]["label"] if body["group"] else (
        f"cause {body['cause']['code']}" if body["cause"] and body["cause"].get("code") else body["project"]["name"])
    if body["event"] == "resolved":
        return f"Resolved: {what}: {subject}"
    return f"{'Test: ' if body['event'] == 'test' else ''}{what}: {subject}"


def _counts_line(body: dict) -> str:
    window, counts, share = _minutes(body["window_s"]), body["counts"], body["share"]
    if share:
        return (f"{share['with_5xx']} of {share['sessions']} sessions ({share['percent']:.1f}%) had a 5xx "
                f"in the last {window}")
    if counts["calls"] is None:
        return ""
    usual = f" (usual: {counts['baseline']:g})" if counts["baseline"] is not None else ""
    return f"{counts['calls']} failed calls in the last {window}{usual}"


def text(body: dict) -> str:
    """Slack's mrkdwn: one headline, then the counts, the cause, the releases and links to the first sessions."""
    icon = {"firing": ":rotating_light:", "resolved": ":white_check_mark:"}.get(body["event"], ":bell:")
    lines = [f"{icon} *{body['title']}* ({body['project']['name']})"]
    if body["group"] and body["group"].get("url"):
        lines[0] += f" <{body['group']['url']}|group>"
    counts = _counts_line(body)
    if counts:
        lines.append(counts)
    if body["cause"]:
        lines.append("Cause: " + body["cause"]["summary"])
    if body["releases"]:
        lines.append("Release: " + ", ".join(f"{r['release']} ({r['sessions']} sessions)" for r in body["releases"]))
    if body["sessions"] and body["event"] != "resolved":
        lines.append("Sessions: " + " ".join(f"<{s['url']}|{s['session'][:12]}>" for s in body["sessions"]))
    return "\n".join(lines)


def webhook_body(alert: dict) -> bytes:
    """What the POST carries: the whole payload, or Slack's {"text": ...}."""
    body = alert["payload"]
    return json.dumps({"text": body["text"]} if alert["format"] == "slack" else body).encode()
