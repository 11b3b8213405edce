"""How many ingest sockets one `replay serve` process holds: in all, per client IP and per project.

Counted in the process (each process has its own connection budget); a socket over
a cap is refused with close code 1013 (try again later), so the snippet backs off.
"""
from __future__ import annotations

import threading
from collections import Counter

from replay.core.settings import Settings


class SocketCaps:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()
        self.total = 0
        self.by_ip: Counter[str] = Counter()
        self.by_project: Counter[str] = Counter()

    def open(self, ip: str) -> str | None:
        """Count a new socket from `ip`; returns why it is refused, or None when it may stay."""
        with self._lock:
            if self.total >= self.settings.MAX_SOCKETS:
                return f"this server holds its limit of {self.settings.MAX_SOCKETS} ingest sockets"
            if self.by_ip[ip] >= self.settings.MAX_SOCKETS_PER_IP:
                return f"more than {self.settings.MAX_SOCKETS_PER_IP} ingest sockets from one address"
            self.total += 1
            self.by_ip[ip] += 1
            return None

    def join_project(self, project: str) -> str | None:
        """Count the socket for the project its hello named; returns why it is refused, or None."""
        with self._lock:
            if self.by_project[project] >= self.settings.MAX_SOCKETS_PER_PROJECT:
                return f"more than {self.settings.MAX_SOCKETS_PER_PROJECT} ingest sockets for this project"
            self.by_project[project] += 1
            return None

    def close(self, ip: str, project: str | None) -> None:
        with self._lock:
            self.total -= 1
            _drop(self.by_ip, ip)
            if project is not None:
                _drop(self.by_project, project)


def _drop(counter: Counter, key: str) -> None:
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]
