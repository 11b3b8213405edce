"""One log file followed by name across rotation: complete lines only, each with the position just after it.

Rotation by rename (logrotate's default, then `nginx -s reopen`): the name now opens another inode. The open
descriptor of the old one is read on until it has been quiet for `rotate_wait_s` (nginx writes to it until it
reopens), then the new file is read from its start. Rotation by copytruncate: the same inode got shorter than
where we are; it is read again from its start. A file that does not exist yet is read from its start once it does.
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass

log = logging.getLogger(__name__)
READ_BYTES = 256 * 1024
# A "line" with no newline in this many bytes is sent cut here (the collector refuses it as too long): nginx never
# writes one (error lines are capped at 2 KB, access lines are a few), so it is garbage, never worth a stall.
MAX_LINE_BYTES = READ_BYTES


@dataclass(frozen=True)
class Position:
    """Where the next unsent line of a file starts: its inode and a byte offset in it."""
    inode: int
    offset: int

    def to_json(self) -> dict:
        return {"inode": self.inode, "offset": self.offset}

    @classmethod
    def from_json(cls, obj: dict) -> Position:
        return cls(int(obj["inode"]), int(obj["offset"]))


def rotated_copy(path: str, inode: int) -> str | None:
    """The file beside `path` (access.log.1, access.log-20241122, ...) that is the inode we were reading."""
    folder, base = os.path.split(os.path.abspath(path))
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name != base and entry.name.startswith(base) and entry.inode() == inode \
                        and entry.is_file(follow_symlinks=False):
                    return entry.path
    except OSError:
        return None
    return None


class Follower:
    """Reads the complete lines of one file as it grows, rotates and is truncated."""

    def __init__(self, path: str, saved: Position | None, from_start: bool, rotate_wait_s: float):
        self.path = path
        self.rotate_wait_s = rotate_wait_s
        self.fh = None
        self.inode = 0
        self.pos = 0
        self.renamed_at: float | None = None  # when the name was first seen on another inode
        self.last_data_at = 0.0
        self._open_first(saved, from_start)

    # Opening.
    def _stat(self):
        try:
            return os.stat(self.path)
        except FileNotFoundError:
            return None

    def _open(self, where: str, offset: int) -> bool:
        try:
            fh = open(where, "rb")
        except FileNotFoundError:
            return False
        if self.fh is not None:
            self.fh.close()
        st = os.fstat(fh.fileno())
        self.fh, self.inode, self.renamed_at = fh, st.st_ino, None
        self.pos = offset if offset <= st.st_size else 0
        if offset > st.st_size:
            log.warning("%s is shorter than where we stopped (%d < %d bytes): truncated meanwhile, read from its start",
                        where, st.st_size, offset)
        return True

    def _open_first(self, saved: Position | None, from_start: bool) -> None:
        st = self._stat()
        if saved is None:
            if st is None:
                log.info("%s does not exist yet: it is read from its start once it does", self.path)
            elif self._open(self.path, 0 if from_start else st.st_size):
                log.info("%s: following from %s (byte %d)", self.path, "its start" if from_start else "its end",
                         self.pos)
            return
        if st is not None and st.st_ino == saved.inode:
            self._open(self.path, saved.offset)
            log.info("%s: resuming at byte %d", self.path, self.pos)
            return
        old = rotated_copy(self.path, saved.inode)
        if old and self._open(old, saved.offset):
            self.renamed_at = time.monotonic()
            log.info("%s was rotated while stopped: finishing %s from byte %d first", self.path, old, self.pos)
        elif st is not None:
            log.warning("%s was rotated while stopped and the file we were reading is gone (compressed or deleted):"
                        " its lines after byte %d are lost; reading the new file from its start", self.path,
                        saved.offset)
            self._open(self.path, 0)
        else:
            log.info("%s does not exist (rotated while stopped): it is read from its start once it does", self.path)

    def position(self) -> Position | None:
        """Where reading stands (nothing read and unsent), or None before the file exists."""
        return Position(self.inode, self.pos) if self.fh is not None else None

    # Reading.
    def read(self) -> list[tuple[bytes, Position]]:
        """The complete lines written since the last call (at most about READ_BYTES), each with its end."""
        if self.fh is None:
            if self._stat() is None or not self._open(self.path, 0):
                return []
            log.info("%s appeared: reading it from its start", self.path)
        return self._lines() or self._check_rotation()

    def _lines(self) -> list[tuple[bytes, Position]]:
        self.fh.seek(self.pos)
        data = self.fh.read(READ_BYTES)
        end = data.rfind(b"\n") + 1
        if end == 0:
            if len(data) < MAX_LINE_BYTES:
                return []  # nothing, or a line still being written: it waits for its newline
            end = len(data)
        lines, start = [], 0
        while start < end:
            stop = data.find(b"\n", start, end)
            stop = end if stop < 0 else stop + 1
            lines.append((data[start:stop].rstrip(b"\r\n"), Position(self.inode, self.pos + stop)))
            start = stop
        self.pos += end
        self.last_data_at = time.monotonic()
        return [(line, at) for line, at in lines if line.strip()]

    def _check_rotation(self) -> list[tuple[bytes, Position]]:
        """Follow a truncation or a rename; the old file's unfinished last line, if any, once we leave it."""
        st = self._stat()
        if st is not None and st.st_ino == self.inode:
            if st.st_size < self.pos:
                log.info("%s was truncated (copytruncate): reading it again from its start", self.path)
                self.pos = 0
            self.renamed_at = None
            return []
        if st is None:
            return []  # renamed, the new one not created yet (or removed): the old descriptor still reads
        now = time.monotonic()
        if self.renamed_at is None:
            self.renamed_at = now
            log.info("%s was rotated (a new file under its name): finishing the old one first", self.path)
            return []
        if now - max(self.renamed_at, self.last_data_at) < self.rotate_wait_s:
            return []
        self.fh.seek(self.pos)
        rest = self.fh.read(MAX_LINE_BYTES)  # its writer is gone: a line it left unfinished is all there will be
        last = [(rest.rstrip(b"\r\n"), Position(self.inode, self.pos + len(rest)))] if rest.strip() else []
        if self._open(self.path, 0):
            log.info("%s: the old file stayed quiet %.1f s: now reading the new one", self.path, self.rotate_wait_s)
        return last

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()
            self.fh = None
