"""Many windows sending at once: 20 windows over 14 sessions (six sessions have two tabs)."""
from __future__ import annotations

import secrets
import time
from collections import defaultdict

from tests.faults.window import Window

WINDOWS = 20
SHARED_SESSIONS = 6  # sessions with two windows each; the rest have one


class Traffic:
    def __init__(self, base_url: str, origin: str, key: str, seed: int):
        self.windows: list[Window] = []
        sessions = WINDOWS - SHARED_SESSIONS
        for s in range(sessions):
            session, secret = secrets.token_urlsafe(16), secrets.token_urlsafe(18)
            # Two sessions in three have failed calls (a 502 now and then); the rest have none.
            status = 502 if s % 3 else None
            for _ in range(2 if s < SHARED_SESSIONS else 1):
                window = secrets.token_urlsafe(16)
                self.windows.append(Window(base_url, origin, key, session, secret, window, status,
                                           seed=seed * 1000 + len(self.windows)))

    def start(self) -> "Traffic":
        for w in self.windows:
            w.start()
        return self

    def stop_producing(self) -> None:
        for w in self.windows:
            w.stop_producing()

    def halt(self) -> None:
        for w in self.windows:
            w.halt()
        for w in self.windows:
            w.join(5)

    def done(self) -> bool:
        """Every window stopped, with nothing unacked."""
        return all(not w.is_alive() and not w.unacked() for w in self.windows)

    def sessions(self) -> dict[str, list[Window]]:
        by_session = defaultdict(list)
        for w in self.windows:
            by_session[w.session].append(w)
        return dict(by_session)

    def acked_ids(self, session: str) -> set[str]:
        return set().union(*(w.acked_ids for w in self.sessions()[session]))

    def acked_failed_calls(self, session: str) -> int:
        return sum(w.acked_failed_calls for w in self.sessions()[session])

    def totals(self) -> dict:
        out = {"windows": len(self.windows), "sessions": len(self.sessions()),
               "generated": sum(w.generated for w in self.windows),
               "acked": sum(len(w.acked_ids) for w in self.windows),
               "unacked_batches": sum(w.unacked() for w in self.windows)}
        for w in self.windows:
            for k, v in w.stats.items():
                out[k] = out.get(k, 0) + v
        return out

    def journal(self) -> str:
        lines = []
        for w in self.windows:
            if w.journal or w.fatal or w.unacked():
                lines.append(f"window {w.window} (session {w.session}): unacked {w.unacked()}, fatal {w.fatal}")
                lines.extend("    " + j for j in w.journal[-15:])
        return "\n".join(lines)


def wait_for(fn, timeout_s: float, interval_s: float = 0.05):
    deadline = time.monotonic() + timeout_s
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval_s)
