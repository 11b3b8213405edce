"""After the ingest fuzz: wait for what was acked to be flushed, then open every page and JSON answer of it."""
from __future__ import annotations

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from redis import Redis
from rq import Queue
from rq.registry import FailedJobRegistry

EXPORT_EVENTS = re.compile(rb'<script type="application/json" id="replay-events">(.*?)</script>', re.S)
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
LOGIN_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _refuse(name: str):
    raise ValueError(f"{name} is not JSON a browser parses")


def strict_json(data: bytes):
    """JSON as a browser's JSON.parse takes it: UTF-8, no NaN or Infinity (json.loads takes both)."""
    return json.loads(data.decode("utf-8"), parse_constant=_refuse)


class Viewer:
    """A logged-in viewer (pages) and an API token (JSON), on one running `replay serve`."""

    def __init__(self, url: str, token: str, email: str, password: str):
        self.url = url
        self.token = token
        self.http = requests.Session()
        form = self.http.get(url + "/login", timeout=30)
        answer = self.http.post(url + "/login", data={"email": email, "password": password,
                                                      "csrf": LOGIN_CSRF.search(form.text).group(1)}, timeout=30)
        assert answer.status_code == 200 and "/login" not in answer.url, answer.text[:500]

    def api(self, path: str, **params) -> requests.Response:
        return requests.get(self.url + path, params=params, headers={"Authorization": f"Bearer {self.token}"},
                            timeout=60)

    def page(self, path: str) -> requests.Response:
        return self.http.get(self.url + path, timeout=60)

    def wait_flushed(self, acked: dict[str, set[tuple[str, int]]], timeout_s: float) -> None:
        """Until every acked (window, seq) of every session lies in one of its listed segments."""
        pending, deadline = dict(acked), time.monotonic() + timeout_s
        while pending and time.monotonic() < deadline:
            for session in list(pending):
                answer = self.api(f"/api/sessions/{session}/segments")
                if answer.status_code != 200:
                    continue
                spans = [(s["window"], s["first_seq"], s["last_seq"]) for s in strict_json(answer.content)["segments"]]
                pending[session] = {(w, seq) for w, seq in pending[session]
                                    if not any(w == sw and first <= seq <= last for sw, first, last in spans)}
                if not pending[session]:
                    del pending[session]
            time.sleep(0.5)
        assert not pending, f"acked but not stored after {timeout_s}s: {dict(list(pending.items())[:5])}"

    def _json(self, answer: requests.Response, what: str, problems: list[str]):
        if answer.status_code != 200:
            problems.append(f"{what}: {answer.status_code} {answer.text[:300]}")
            return None
        try:
            return strict_json(answer.content)
        except ValueError as exc:
            problems.append(f"{what}: not strict JSON ({exc})")
            return None

    def check_lists(self, sessions: set[str]) -> list[str]:
        """The sessions list (API pages and the same pages as HTML) names them all; failure groups render."""
        problems, listed, cursor = [], set(), ""
        for _ in range(100):
            page = self._json(self.api("/api/sessions", limit=100, **({"cursor": cursor} if cursor else {})),
                              "GET /api/sessions", problems)
            html = self.page("/" + (f"?cursor={cursor}" if cursor else ""))
            if html.status_code != 200:
                problems.append(f"GET /?cursor={cursor}: {html.status_code}")
            if not page:
                break
            listed |= {s["session"] for s in page["sessions"]}
            cursor = page["next_cursor"]
            if not cursor:
                break
        problems += [f"{s}: acked, stored, but not listed by GET /api/sessions" for s in sessions - listed]
        for path in ("/failures", "/failures?status=5xx"):
            if (answer := self.page(path)).status_code != 200:
                problems.append(f"GET {path}: {answer.status_code}")
        groups = self._json(self.api("/api/failures", limit=500), "GET /api/failures", problems) or {"groups": []}
        for group in groups["groups"]:
            if (answer := self.page(f"/failures/{group['id']}")).status_code != 200:
                problems.append(f"GET /failures/{group['id']}: {answer.status_code}")
            self._json(self.api(f"/api/failures/{group['id']}/sessions"), f"group {group['id']} sessions", problems)
        return problems

    def check_sessions(self, sessions: list[str], threads: int) -> list[str]:
        with ThreadPoolExecutor(threads) as pool:
            return [p for found in pool.map(self.check_session, sessions) for p in found]

    def check_session(self, session: str) -> list[str]:
        """Every page and JSON answer the replay page, a share link and an export give for one session."""
        problems: list[str] = []
        base = f"/api/sessions/{session}"
        page = self.page(f"/sessions/{session}")
        if page.status_code != 200:
            return [f"GET /sessions/{session}: {page.status_code} {page.text[:300]}"]
        detail = self._json(self.api(base), f"GET {base}", problems) or {}
        for call in (detail.get("network_failures") or [])[:2]:
            answer = self.page(f"/sessions/{session}?call={requests.utils.quote(str(call.get('id')))}")
            if answer.status_code != 200:
                problems.append(f"GET /sessions/{session}?call=...: {answer.status_code}")
        for path in (f"{base}/events", f"{base}/calls", f"{base}/console"):
            self._json(self.api(path), f"GET {path}", problems)
        listed = (self._json(self.api(f"{base}/segments"), f"GET {base}/segments", problems) or {"segments": []})
        # The first and the last few: /events above already decoded every one.
        for segment in listed["segments"][:2] + listed["segments"][2:][-2:]:
            self._json(self.api(f"{base}/segments/{segment['id']}"), f"GET {base}/segments/{segment['id']}", problems)
        export = self.page(f"/sessions/{session}/export")
        found = EXPORT_EVENTS.search(export.content) if export.status_code == 200 else None
        if found is None:
            problems.append(f"GET /sessions/{session}/export: {export.status_code} {export.text[:300]}")
        else:
            try:
                strict_json(found.group(1))
            except ValueError as exc:
                problems.append(f"export of {session}: its events are not strict JSON ({exc})")
        shared = self.http.post(f"{self.url}/sessions/{session}/share", json={"t_ms": 0},
                                headers={"X-CSRF-Token": CSRF.search(page.text).group(1)}, timeout=60)
        if shared.status_code != 201:
            return problems + [f"POST /sessions/{session}/share: {shared.status_code} {shared.text[:300]}"]
        token = shared.json()["url"].rsplit("/", 1)[1]
        if (answer := requests.get(f"{self.url}/share/{token}", timeout=60)).status_code != 200:
            problems.append(f"share page of {session}: {answer.status_code} {answer.text[:300]}")
        for what in ("events", "segments"):
            self._json(requests.get(f"{self.url}/share/{token}/{what}", timeout=60), f"share {what} of {session}",
                       problems)
        return problems

    @staticmethod
    def failed_jobs(redis_url: str) -> int:
        redis = Redis.from_url(redis_url)
        try:
            return FailedJobRegistry(queue=Queue("replay", connection=redis)).count
        finally:
            redis.close()
