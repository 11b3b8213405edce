"""Where each shipped file stands, kept in one JSON file replaced atomically (written beside it, then renamed).

`{"v": 1, "files": {"/var/log/nginx/replay-access.log": {"inode": 1234, "offset": 56789}}}`: the offset is
just after the last line the collector acknowledged, so a restart sends nothing twice and skips nothing.
"""
from __future__ import annotations

import hashlib
import json
import os

from replay.ship.follow import Position

VERSION = 1


class StateError(Exception):
    """The state file cannot be read or written: resuming from it would lose or repeat lines."""


def default_path(data_dir: str, files: list[str]) -> str:
    """One state file per set of followed files (two shippers on one host keep apart)."""
    digest = hashlib.sha1("\n".join(sorted(files)).encode()).hexdigest()[:12]
    return os.path.join(data_dir, f"log-ship-{digest}.json")


class Offsets:
    def __init__(self, path: str):
        self.path = path
        self.saved: dict[str, Position] = {}

    def load(self) -> dict[str, Position]:
        try:
            with open(self.path, encoding="utf-8") as fh:
                obj = json.load(fh)
            if obj.get("v") != VERSION:
                raise ValueError(f"version {obj.get('v')!r}, expected {VERSION}")
            self.saved = {path: Position.from_json(p) for path, p in obj["files"].items()}
        except FileNotFoundError:
            self.saved = {}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StateError(f"cannot read the state file {self.path} ({exc}); move it away to start over "
                             "(from the files' ends, or their starts with --from-start)") from None
        return dict(self.saved)

    def save(self, positions: dict[str, Position]) -> None:
        """Record `positions` (merged over what is saved) if anything changed: temp file, fsync, rename."""
        merged = {**self.saved, **positions}
        if merged == self.saved:
            return
        folder = os.path.dirname(os.path.abspath(self.path))
        tmp = f"{self.path}.tmp"
        body = json.dumps({"v": VERSION, "files": {p: pos.to_json() for p, pos in sorted(merged.items())}})
        try:
            os.makedirs(folder, exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(body)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            raise StateError(f"cannot write the state file {self.path}: {exc}") from None
        self.saved = merged
