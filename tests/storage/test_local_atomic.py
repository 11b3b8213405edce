"""LocalStore.put is atomic: a reader sees the old or the new object, whole, whatever happens to the writer."""
from __future__ import annotations

import errno
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from replay.storage import store as store_mod
from replay.storage.store import LocalStore, StorageError

KEY = "sessions/s1/manifest.json"
SIZE = 2 * 1024 * 1024  # large enough that a kill often lands inside the write or its fsync
STAMP = 12  # each version is its number, zero-padded to 12 digits, repeated to SIZE bytes
ROOT = Path(__file__).resolve().parents[2]


def version_bytes(version: int) -> bytes:
    return (b"%012d" % version) * (SIZE // STAMP)


def version_of(data: bytes) -> int | None:
    """The version these bytes hold whole, or None for anything else (a torn or partial object)."""
    if len(data) != SIZE // STAMP * STAMP or not data[:STAMP].isdigit():
        return None
    return int(data[:STAMP]) if data == data[:STAMP] * (SIZE // STAMP) else None


# A writer process: puts ever newer versions of KEY until it is killed.
WRITER = f"""
import sys
from replay.storage.store import LocalStore
store, version = LocalStore(sys.argv[1]), int(sys.argv[2])
print("writing", flush=True)
while True:
    store.put({KEY!r}, (b"%012d" % version) * ({SIZE} // {STAMP}))
    version += 1
"""


def temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob(".tmp-*")]


def test_a_writer_killed_mid_write_leaves_the_old_or_the_new_object_never_a_part(tmp_path):
    root = tmp_path / "objects"
    store = LocalStore(root)
    store.put(KEY, version_bytes(0))
    stop, seen, bad = threading.Event(), [], []

    def reader():
        while not stop.is_set():
            data = store.get(KEY)
            version = version_of(data)
            if version is None:
                bad.append(f"{len(data)} bytes starting {data[:24]!r}")
            else:
                seen.append(version)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    rng = random.Random(7)
    kills = interrupted = 0
    deadline = time.monotonic() + 90
    try:
        # Kill writers until five kills have landed inside a write (each leaves its temp file behind).
        while interrupted < 5:
            assert time.monotonic() < deadline, f"only {interrupted} of {kills} kills landed inside a write"
            kills += 1
            writer = subprocess.Popen([sys.executable, "-c", WRITER, str(root), str(kills * 1_000_000)],
                                      env=env, stdout=subprocess.PIPE)
            assert writer.stdout.readline() == b"writing\n"
            time.sleep(rng.uniform(0.01, 0.2))
            before = len(temp_files(root))
            writer.send_signal(signal.SIGKILL)
            writer.wait(10)
            writer.stdout.close()
            interrupted += len(temp_files(root)) > before
            assert bad == [], f"the reader saw {len(bad)} partial objects: {bad[:3]}"
            # Right after the crash: a whole version is there, and listings show only the object.
            assert version_of(store.get(KEY)) is not None
            assert list(store.list("")) == [KEY]
            assert list(store.list("sessions/s1/", delimiter="/")) == [KEY]
    finally:
        stop.set()
        thread.join(10)
    assert bad == [], f"the reader saw {len(bad)} partial objects: {bad[:3]}"
    # The reader read throughout, saw writes land, and never went back to an older version.
    assert len(seen) > kills and len(set(seen)) > kills
    assert seen == sorted(seen)
    # The killed writers' temp files are still on disk (nothing cleans them up), but no listing shows them.
    assert len(temp_files(root)) >= interrupted and not any(".tmp-" in k for k in store.list(""))


class DiskFull(OSError):
    def __init__(self):
        super().__init__(errno.ENOSPC, "No space left on device")


def test_a_write_the_disk_refuses_half_way_leaves_the_old_object(tmp_path, monkeypatch):
    root = tmp_path / "objects"
    store = LocalStore(root)
    store.put(KEY, b"old and whole")
    real_fdopen = os.fdopen

    class HalfWritten:
        """The temp file takes half of the bytes, then the disk is full."""

        def __init__(self, f):
            self.f = f

        def write(self, data):
            self.f.write(data[: len(data) // 2])
            self.f.flush()
            raise DiskFull()

        def __getattr__(self, name):
            return getattr(self.f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return self.f.__exit__(*exc)

    monkeypatch.setattr(store_mod.os, "fdopen", lambda fd, *a, **k: HalfWritten(real_fdopen(fd, *a, **k)))
    with pytest.raises(StorageError) as info:
        store.put(KEY, b"new, and never written whole")
    assert isinstance(info.value.__cause__, DiskFull)
    monkeypatch.undo()
    assert store.get(KEY) == b"old and whole"
    assert temp_files(root) == [] and list(store.list("")) == [KEY]


def test_a_rename_the_disk_refuses_leaves_the_old_object(tmp_path, monkeypatch):
    root = tmp_path / "objects"
    store = LocalStore(root)
    store.put(KEY, b"old and whole")
    monkeypatch.setattr(store_mod.os, "replace", lambda *a: (_ for _ in ()).throw(DiskFull()))
    with pytest.raises(StorageError):
        store.put(KEY, b"new, whole in its temp file, never renamed")
    monkeypatch.undo()
    assert store.get(KEY) == b"old and whole"
    assert temp_files(root) == [] and list(store.list("")) == [KEY]
    # A first write that fails leaves no object at all.
    monkeypatch.setattr(store_mod.os, "replace", lambda *a: (_ for _ in ()).throw(DiskFull()))
    with pytest.raises(StorageError):
        store.put("sessions/s2/manifest.json", b"never there")
    monkeypatch.undo()
    assert not store.exists("sessions/s2/manifest.json") and temp_files(root) == []
