"""The embedded default's disk floor: below MIN_FREE_DISK_MB free where objects are kept, new sessions are refused.

Only when objects live in the local data dir (no S3 endpoint): there a full disk would stop the very flushes that
free Redis, and take the embedded Redis down with it. The free space is read at most every CHECK_EVERY_S per process.
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path

from replay.core.settings import Settings

CHECK_EVERY_S = 5.0
MB = 1024 * 1024


class DiskWatch:
    def __init__(self, settings: Settings, clock=time.monotonic):
        self.path = None if settings.s3 else Path(settings.DATA_DIR)
        self.floor_mb = settings.MIN_FREE_DISK_MB
        self.clock = clock
        self._checked, self._free_mb = float("-inf"), None

    def free_mb(self) -> int | None:
        """Free space where objects are written, in MB (None on S3, or when it cannot be read)."""
        if self.path is None:
            return None
        now = self.clock()
        if now - self._checked >= CHECK_EVERY_S:
            self._checked = now
            place = self.path.resolve()
            while not place.exists() and place != place.parent:
                place = place.parent  # the data dir is made by the first write
            try:
                self._free_mb = shutil.disk_usage(place).free // MB
            except OSError:
                self._free_mb = None
        return self._free_mb

    def low(self) -> bool:
        """Is free space under the floor (new sessions are refused)?"""
        free = self.free_mb()
        return free is not None and self.floor_mb > 0 and free < self.floor_mb

    def message(self) -> str:
        return (f"the replay server's disk has {self.free_mb()} MB free, under its floor of {self.floor_mb} MB "
                "(REPLAY_MIN_FREE_DISK_MB): new sessions are not recorded until space is freed")
