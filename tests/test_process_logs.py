"""The check in tests/process_logs.py, run on small test files by pytester: real processes write real tracebacks."""
from __future__ import annotations

import textwrap

import pytest

from tests.process_logs import tracebacks

# pytester echoes the inner run's report, tracebacks included, into this test's captured output.
INNER_OUTPUT = pytest.mark.allow_traceback(r"ValueError|KeyError", reason="the inner run's report is echoed here")

HELPERS = """
import logging
import subprocess
import sys

import pytest


def crash(path, message):
    \"\"\"A real Python process that dies with a traceback, its output appended to path.\"\"\"
    with open(path, "a") as out:
        subprocess.run([sys.executable, "-c", f"raise ValueError({message!r})"], stdout=out, stderr=subprocess.STDOUT)


@pytest.fixture(scope="module")
def server_log(process_logs, tmp_path_factory):
    path = tmp_path_factory.mktemp("logs") / "serve.log"
    path.write_text("Traceback (most recent call last):\\nValueError: logged before the watch began\\n")
    process_logs.watch(path, "fake serve")
    yield path
    if getattr(sys.modules[__name__], "CRASH_ON_STOP", False):
        crash(path, "raised while stopping")
"""


def run(pytester, body: str):
    pytester.makepyfile(test_inner=HELPERS + textwrap.dedent(body))
    return pytester.runpytest("-p", "tests.process_logs", "-p", "no:cacheprovider")


@INNER_OUTPUT
def test_a_traceback_fails_the_test_it_was_logged_in_and_only_that_one(pytester):
    result = run(pytester, """
        def test_before(server_log):
            pass

        def test_server_raises(server_log):
            crash(server_log, "the server raised")

        def test_after(server_log):
            pass
    """)
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*1 traceback(s) logged by a process this test drives*during its call*",
                                 "*fake serve*", "*ValueError: the server raised*",
                                 "FAILED test_inner.py::test_server_raises*"])
    result.stdout.no_fnmatch_line("*logged before the watch began*")


@INNER_OUTPUT
def test_a_traceback_while_a_module_server_stops_fails_the_modules_last_test(pytester):
    result = run(pytester, """
        CRASH_ON_STOP = True

        def test_one(server_log):
            pass

        def test_last(server_log):
            pass
    """)
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*during its teardown*", "*ValueError: raised while stopping*",
                                 "ERROR test_inner.py::test_last*"])


@INNER_OUTPUT
def test_a_traceback_in_the_tests_own_captured_log_fails_it(pytester):
    result = run(pytester, """
        def test_swallowed():
            try:
                {}["missing"]
            except KeyError:
                logging.getLogger("replay").exception("handled, and logged")
    """)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*Captured log call*", "*KeyError: 'missing'*"])


@INNER_OUTPUT
def test_the_opt_out_names_what_it_expects_and_why(pytester):
    result = run(pytester, """
        @pytest.mark.allow_traceback(r"ValueError: on purpose", reason="the test provokes it")
        def test_expected(server_log):
            crash(server_log, "on purpose")

        @pytest.mark.allow_traceback(r"ValueError: on purpose", reason="the test provokes it")
        def test_another_is_still_caught(server_log):
            crash(server_log, "on purpose")
            crash(server_log, "by accident")

        @pytest.mark.allow_traceback(r"ValueError: on purpose")
        def test_without_a_reason(server_log):
            pass

        @pytest.mark.allow_traceback(r"ValueError: on purpose", reason="it used to")
        def test_that_no_longer_provokes_it(server_log):
            pass
    """)
    # The stale marker fails at teardown, after its call passed: counted once as passed, once as an error.
    result.assert_outcomes(passed=2, failed=1, errors=2)
    result.stdout.fnmatch_lines_random([
        "FAILED test_inner.py::test_another_is_still_caught*",
        "ERROR test_inner.py::test_without_a_reason*",
        "ERROR test_inner.py::test_that_no_longer_provokes_it*",
        "*allow_traceback needs a pattern and a reason=*",
        "*allow_traceback is set but no matching traceback was logged*",
        "*ValueError: by accident*",
    ])


def test_tracebacks_are_split_into_blocks_with_their_chained_causes():
    log = textwrap.dedent("""\
        [2026-11-30 01:00:00 +0000] [12] [INFO] Booting worker with pid: 12
        [2026-11-30 01:00:01 +0000] [12] [ERROR] Error handling request /api/x
        Traceback (most recent call last):
          File "a.py", line 1, in f
            g()
        OSError: disk full

        The above exception was the direct cause of the following exception:

        Traceback (most recent call last):
          File "b.py", line 2, in h
        replay.storage.store.StorageError: cannot write k
        [2026-11-30 01:00:02 +0000] [12] [INFO] next request
        Traceback (most recent call last):
          File "c.py", line 3, in j
        KeyError: 'x'
        """)
    first, second = tracebacks(log)
    assert tracebacks(log + log.split("[INFO] next request\n")[1]) == [first, second, second.split("\n", 1)[1]]
    assert first.splitlines()[0].endswith("Error handling request /api/x")
    assert "OSError: disk full" in first and first.endswith("StorageError: cannot write k")
    assert second.splitlines()[0].endswith("next request") and second.endswith("KeyError: 'x'")
    assert tracebacks("no trouble here\n") == []
