"""`replay logs ship`: follow nginx's log files and post their lines to the collector, at least once, in order.

Lines are read into a batch (up to `batch_bytes`, or `batch_wait_s` after its first line), posted, and only once
the collector answered 2xx are the files' positions saved: a crash or a stop re-sends at most the batch in flight,
and a collector that is away holds the batch (retried with capped, jittered backoff) while nothing more is read.
"""
from __future__ import annotations

import logging
import random
import signal
import threading
import time
from dataclasses import dataclass

from replay.ship.collector import Collector, Refused, TooLarge, Unavailable
from replay.ship.follow import Follower, Position
from replay.ship.offsets import Offsets

log = logging.getLogger(__name__)
FIRST_BACKOFF_S = 0.5


@dataclass(frozen=True)
class Options:
    files: list[str]
    url: str
    server_key: str
    state: str
    from_start: bool = False
    batch_bytes: int = 1024 * 1024
    batch_wait_s: float = 1.0
    poll_s: float = 0.25
    rotate_wait_s: float = 5.0
    max_backoff_s: float = 30.0
    timeout_s: float = 30.0


Entry = tuple[str, bytes, Position]  # (file, line, position just after it)


class Shipper:
    def __init__(self, opts: Options, stop: threading.Event | None = None):
        self.opts = opts
        self.stop = stop or threading.Event()
        self.collector = Collector(opts.url, opts.server_key, opts.timeout_s)
        self.offsets = Offsets(opts.state)
        self.followers: list[Follower] = []
        self.down_since: float | None = None
        self.sent = self.accepted = self.rejected = 0
        self._rejects_logged_at = 0.0

    def start(self) -> None:
        saved = self.offsets.load()
        self.followers = [Follower(path, saved.get(path), self.opts.from_start, self.opts.rotate_wait_s)
                          for path in self.opts.files]
        # Where a first run starts is kept at once: a restart before the first post must not skip or repeat.
        self.offsets.save({f.path: f.position() for f in self.followers
                           if f.path not in saved and f.position() is not None})

    def run(self) -> None:
        """Ship until `stop` is set (or a Refused ends it)."""
        self.start()
        log.info("shipping %s to %s (state in %s)", ", ".join(self.opts.files), self.collector.url, self.opts.state)
        batch: list[Entry] = []
        size, first_at = 0, 0.0
        try:
            while not self.stop.is_set():
                got = 0
                for follower in self.followers:
                    if size >= self.opts.batch_bytes:
                        break
                    for line, at in follower.read():
                        batch.append((follower.path, line, at))
                        size += len(line) + 1
                        got += 1
                if got and first_at == 0.0:
                    first_at = time.monotonic()
                if batch and (size >= self.opts.batch_bytes or time.monotonic() - first_at >= self.opts.batch_wait_s):
                    if not self.send(batch):
                        return  # stopped while the collector was away: the batch is read again on restart
                    batch, size, first_at = [], 0, 0.0
                elif not got:
                    self.stop.wait(self.opts.poll_s)
        finally:
            for follower in self.followers:
                follower.close()
            log.info("stopped: %d lines sent (%d accepted, %d rejected by the collector)%s", self.sent,
                     self.accepted, self.rejected, f"; {len(batch)} read lines not sent yet" if batch else "")

    def send(self, batch: list[Entry]) -> bool:
        """Post `batch` until the collector took all of it (split on 413); False if stopped before that."""
        pieces, attempt = [batch], 0
        while pieces:
            piece = pieces[0]
            try:
                answer = self.collector.post([line for _, line, _ in piece])
            except TooLarge as exc:
                if len(piece) > 1:
                    pieces[:1] = [piece[:len(piece) // 2], piece[len(piece) // 2:]]
                    continue
                log.warning("a line of %s (%d bytes) is over the collector's size cap, skipped: %s", piece[0][0],
                            len(piece[0][1]), exc)
                answer = {"accepted": 0, "rejected": 1, "errors": []}
            except Unavailable as exc:
                self._went_down(exc, sum(len(p) for p in pieces))
                delay = min(self.opts.max_backoff_s, FIRST_BACKOFF_S * 2 ** attempt)
                attempt += 1
                if self.stop.wait(random.uniform(delay / 2, delay)):
                    return False
                continue
            self._came_back()
            attempt = 0
            self._taken(piece, answer)
            pieces.pop(0)
        return True

    def _taken(self, piece: list[Entry], answer: dict) -> None:
        positions = {path: at for path, _, at in piece}
        self.offsets.save(positions)
        self.sent += len(piece)
        self.accepted += int(answer.get("accepted") or 0)
        rejected = int(answer.get("rejected") or 0)
        self.rejected += rejected
        now = time.monotonic()
        if rejected and now - self._rejects_logged_at >= 60:  # one line a minute, not one per batch
            first = (answer.get("errors") or [{}])[0]
            log.warning("the collector rejected %d of %d lines (first: %s); %d rejected since start", rejected,
                        len(piece), first.get("reason", "?"), self.rejected)
            self._rejects_logged_at = now

    def _went_down(self, exc: Exception, holding: int) -> None:
        if self.down_since is None:
            self.down_since = time.monotonic()
            log.warning("collector %s unavailable (%s): holding %d lines and retrying (backoff up to %.0f s)",
                        self.collector.url, exc, holding, self.opts.max_backoff_s)

    def _came_back(self) -> None:
        if self.down_since is not None:
            log.info("collector %s takes lines again after %.1f s", self.collector.url,
                     time.monotonic() - self.down_since)
            self.down_since = None


def run(opts: Options) -> int:
    """Ship until SIGTERM or SIGINT. 0 when stopped, 2 when the collector refuses us (key, URL)."""
    stop = threading.Event()

    def on_signal(signum, _frame):
        if stop.is_set():  # a second signal: abandon the post in flight (its lines are sent again on restart)
            raise KeyboardInterrupt
        log.info("%s: stopping after the post in flight", signal.Signals(signum).name)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    try:
        Shipper(opts, stop).run()
    except Refused as exc:
        log.error("%s", exc)
        return 2
    except KeyboardInterrupt:
        log.info("stopped without waiting for the post in flight: its lines are sent again on restart")
    return 0
