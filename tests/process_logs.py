"""A test fails when a process it started (`replay serve`, `replay worker`) logged a Python traceback meanwhile.

Fixtures that start such a process send its output to a file and register it with
the `process_logs` fixture. After each phase of each test (setup, call, teardown)
the new text of every registered file is read; a new `Traceback (most recent call
last)` fails that phase with the traceback in the report. A module-scoped server
is stopped in the teardown of its module's last test, so what it logs while
stopping fails that teardown. What pytest captured of the phase (output and log
records of the test's own process, such as a live server's thread) is read too.

A test that provokes a logged error on purpose says so, with the text it expects:

    @pytest.mark.allow_traceback(r"StorageError: injected", reason="the job fails on purpose")

Matching tracebacks are then shown but pass; any other still fails, and so does the
test when no matching traceback was logged at all (a marker that no longer applies).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

TRACEBACK = "Traceback (most recent call last)"
CHAINED = ("During handling of the above exception", "The above exception was the direct cause")
MAX_REPORT_CHARS = 12_000


@dataclass
class Logged:
    label: str
    path: Path
    text: str


@dataclass
class _File:
    label: str
    offset: int
    partial: bytes = b""


@dataclass
class LogWatch:
    """Files that processes write; reads only what was added since the last look."""

    files: dict[Path, _File] = field(default_factory=dict)

    def watch(self, path: str | Path, label: str) -> Path:
        """Watch `path` from its current end: what it held before is nobody's fault here."""
        path = Path(path)
        if path not in self.files:
            self.files[path] = _File(label, path.stat().st_size if path.exists() else 0)
        return path

    def new_tracebacks(self) -> list[Logged]:
        found = []
        for path, f in self.files.items():
            try:
                with open(path, "rb") as fh:
                    fh.seek(f.offset)
                    data = fh.read()
            except FileNotFoundError:
                continue
            f.offset += len(data)
            data, f.partial = f.partial + data, b""
            # A line still being written is kept for the next look.
            complete, _, rest = data.rpartition(b"\n")
            if rest:
                f.partial = rest
            found += [Logged(f.label, path, block) for block in tracebacks(complete.decode(errors="replace"))]
        return found


def tracebacks(text: str) -> list[str]:
    """Each traceback in a log, with the log line before it and chained causes, as one block of text."""
    lines = text.splitlines()
    blocks, i, last_end = [], 0, 0
    while i < len(lines):
        if TRACEBACK not in lines[i]:
            i += 1
            continue
        # The line before, unless it ends the previous block: "[ERROR] Error handling request /api/x".
        start = i - 1 if i > last_end and lines[i - 1].strip() else i
        end = i + 1
        while True:
            while end < len(lines) and lines[end].startswith((" ", "\t")):
                end += 1
            end += 1  # the exception's own line: "ValueError: ..."
            k = end
            while k < len(lines) and not lines[k].strip():
                k += 1
            if k < len(lines) and lines[k].startswith(CHAINED):
                k += 1
                while k < len(lines) and not lines[k].strip():
                    k += 1
                if k < len(lines) and TRACEBACK in lines[k]:
                    end = k + 1
                    continue
            break
        blocks.append("\n".join(lines[start:end]))
        i = last_end = end
    return blocks


def captured_tracebacks(report) -> list[Logged]:
    """Tracebacks in what pytest captured of this phase (stdout, stderr, logging): the test's own process,
    its threads (a live server) and the children that share its stderr."""
    return [Logged(title, Path(report.fspath), block) for title, content in report.sections
            if title.startswith("Captured ") and title.endswith(f" {report.when}") for block in tracebacks(content)]


_WATCH = pytest.StashKey[LogWatch]()
_ALLOWED_SEEN = pytest.StashKey[int]()


def pytest_configure(config):
    config.stash[_WATCH] = LogWatch()
    config.addinivalue_line(
        "markers", "allow_traceback(match, reason): a traceback matching the regex `match` is logged on purpose "
                   "by a process this test drives (tests/process_logs.py); `reason` says why.")


@pytest.fixture(scope="session")
def process_logs(pytestconfig) -> LogWatch:
    """Register a process's log file: `process_logs.watch(path, "replay serve")`."""
    return pytestconfig.stash[_WATCH]


def _allowed_patterns(item) -> list[re.Pattern]:
    patterns = []
    for mark in item.iter_markers("allow_traceback"):
        match = mark.args[0] if mark.args else mark.kwargs.get("match")
        if not match or not str(mark.kwargs.get("reason", "")).strip():
            raise pytest.UsageError(f"{item.nodeid}: allow_traceback needs a pattern and a reason=")
        patterns.append(re.compile(match))
    return patterns


def _excerpt(found: list[Logged]) -> str:
    text = "\n\n".join(f"--- {t.label} ({t.path}) ---\n{t.text}" for t in found)
    return text if len(text) <= MAX_REPORT_CHARS else text[:MAX_REPORT_CHARS] + "\n[… cut]"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    watch = item.config.stash.get(_WATCH, None)
    if watch is None:
        return
    try:
        patterns = _allowed_patterns(item)
    except pytest.UsageError as exc:
        if call.when == "setup":
            report.outcome, report.longrepr = "failed", str(exc)
        return
    found = watch.new_tracebacks() + captured_tracebacks(report)
    allowed = [t for t in found if any(p.search(t.text) for p in patterns)]
    unexpected = [t for t in found if t not in allowed]
    item.stash[_ALLOWED_SEEN] = item.stash.get(_ALLOWED_SEEN, 0) + len(allowed)
    if allowed:
        report.sections.append((f"tracebacks allowed by allow_traceback ({call.when})", _excerpt(allowed)))
    problem = None
    if unexpected:
        problem = (f"{len(unexpected)} traceback(s) logged by a process this test drives (or captured from the test "
                   f"itself), during its {call.when} (or since the previous test's last phase):\n\n"
                   f"{_excerpt(unexpected)}")
    elif call.when == "teardown" and patterns and not item.stash[_ALLOWED_SEEN]:
        problem = ("allow_traceback is set but no matching traceback was logged: "
                   + ", ".join(p.pattern for p in patterns))
    if problem is None:
        return
    if report.failed:
        report.sections.append((f"tracebacks logged by processes ({call.when})", problem))
    else:
        report.outcome, report.longrepr = "failed", problem
