"""POST /ingest/logs from the shipper's side: one gzipped body of lines, and what the answer means for it.

2xx: taken (the answer counts accepted and rejected lines). 413: the body is too big, split it. 5xx, 408, 429,
no connection, a timeout: the collector is away, retry later. Any other 4xx (401 and 403 above all) will not
get better by retrying: the shipper stops and says why.
"""
from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request

RETRY_STATUSES = {408, 425, 429}


class Unavailable(Exception):
    """The collector could not take the lines now (down, overloaded, Redis away): send them again later."""


class TooLarge(Exception):
    """413: the body is over the collector's caps."""


class Refused(Exception):
    """A 4xx that retrying will not change (bad server key, wrong URL)."""


def _error_text(body: bytes) -> str:
    try:
        err = json.loads(body)["error"]
        return f"{err['code']}: {err['message']}"
    except (ValueError, KeyError, TypeError):
        return body[:200].decode("utf-8", "replace").strip() or "(no body)"


class Collector:
    def __init__(self, base_url: str, server_key: str, timeout_s: float):
        self.url = base_url.rstrip("/") + "/ingest/logs"
        self.server_key = server_key
        self.timeout_s = timeout_s

    def post(self, lines: list[bytes]) -> dict:
        """Send `lines`; the collector's answer {"accepted", "rejected", "errors"} once it took them."""
        body = gzip.compress(b"\n".join(lines) + b"\n", compresslevel=5)
        req = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Authorization": f"Bearer {self.server_key}", "Content-Type": "text/plain; charset=utf-8",
            "Content-Encoding": "gzip", "User-Agent": "replay-logs-ship"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                answer = resp.read()
        except urllib.error.HTTPError as exc:
            text = _error_text(exc.read())
            if exc.code == 413:
                raise TooLarge(text) from None
            if exc.code >= 500 or exc.code in RETRY_STATUSES:
                raise Unavailable(f"HTTP {exc.code} ({text})") from None
            if exc.code in (401, 403):
                raise Refused(f"{self.url} refused the server key (HTTP {exc.code}, {text}): give the project's key "
                              "(`replay project server-key PROJECT`) in REPLAY_SERVER_KEY or --server-key") from None
            raise Refused(f"{self.url} answered HTTP {exc.code} ({text}): is --url the replay server?") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise Unavailable(f"{type(reason).__name__}: {reason}") from None
        try:
            return json.loads(answer)
        except ValueError:
            raise Refused(f"{self.url} answered 2xx with no JSON count of lines: is --url the replay server?") from None
