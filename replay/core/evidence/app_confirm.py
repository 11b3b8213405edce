"""The cause the app's own event settles (`app_error`), in words: "Confirmed:" headline and what to fix.

The app settles it when it answered the browser's 5xx itself (the same status reached the browser, so no proxy
made it): with an exception, the headline names it and the line it raised on; without one, the app answered the
error on purpose and its WARNING+ records say why. When the app's record is of a request it was still on (in
flight) and the proxy says the connection ended without an answer, the summary says the app's process died on it.
"""
from __future__ import annotations

from replay.core.evidence.app import in_flight, raising_frame

MATCHED = {"session": "Matched by session (the request's X-Replay-Session header, read by the app's SDK)",
           "time_url": "Matched by time and URL, not by session (the app's request carried no X-Replay-Session header)"}
MESSAGE_CHARS = 160
# The proxy's causes that an app's process ending mid-request makes (nginx: closed prematurely, reset).
PROCESS_ENDED = ("upstream_closed_early", "upstream_reset")


def _where(frame: dict | None) -> str:
    if not frame:
        return ""
    line = f":{frame['line']}" if frame.get("line") is not None else ""
    return f" in {frame.get('function') or '?'} ({frame.get('file') or '?'}{line})"


def _exception_text(exc: dict) -> str:
    message = (exc.get("message") or "").strip().splitlines()[0] if (exc.get("message") or "").strip() else ""
    if len(message) > MESSAGE_CHARS:
        message = message[:MESSAGE_CHARS - 1] + "…"
    return f"{exc.get('type') or 'Exception'}" + (f": {message}" if message else "")


def elapsed_text(ms) -> str:
    return "?" if ms is None else f"{round(ms)} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def in_flight_where(server: dict) -> str:
    """"<elapsed> in, at <function> (<file>:<line>)": how long the app had been on it and where it was."""
    frame = raising_frame({"stack": server.get("stack")})
    return f"{elapsed_text(server.get('elapsed_ms'))} in" + (f", at{_where(frame)[3:]}" if frame else "")


def process_ended(server: dict | None, cause: str) -> str | None:
    """The summary when the app's in-flight record shows its process ended on the request, else None."""
    if not in_flight(server) or cause not in PROCESS_ENDED:
        return None
    return (f"The app's process ended while it was still working on this request ({in_flight_where(server)}): "
            "it crashed, was killed (the OOM killer, SIGKILL) or its server's worker timeout ended it. Find which "
            "in the host's log at that moment (dmesg for the OOM killer, gunicorn's WORKER TIMEOUT), and make that "
            "code finish sooner or use less memory; its stack and log records are under the call.")


def app_answered(server: dict | None, call_status: int | None) -> bool:
    """The app itself answered the status the browser got, and it is a server error."""
    status = (server or {}).get("status")
    return bool(server) and status is not None and status >= 500 and status == call_status


def server_lines(server: dict) -> list[str]:
    """Evidence lines of what the app raised: its request, its exception and raising line, its records, the match."""
    who = " · ".join(x for x in (server.get("service"), server.get("release") and f"release {server['release']}") if x)
    took = server.get("duration_ms")
    if in_flight(server):
        frame = raising_frame({"stack": server.get("stack")})
        out = [f"app{f' ({who})' if who else ''}: {server.get('method')} {server.get('url')} still in flight, "
               f"{in_flight_where(server)}" + (f": {frame['code'].strip()}" if frame and frame.get("code") else "")]
        out += [f"app log {r.get('level')} {r.get('logger') or ''}: {r.get('message')}".replace("  ", " ")
                for r in server.get("logs") or []]
        return out + [MATCHED.get(server.get("matched_by"), "Matched by the app's event")]
    out = [f"app{f' ({who})' if who else ''}: {server.get('method')} {server.get('url')} answered "
           f"{server.get('status')}" + (f" after {round(took)} ms" if took is not None else "")]
    exc = server.get("exception")
    if exc:
        frame = raising_frame(exc)
        out.append(f"app raised {_exception_text(exc)}{_where(frame)}"
                   + (f": {frame['code'].strip()}" if frame and frame.get("code") else ""))
    out += [f"app log {r.get('level')} {r.get('logger') or ''}: {r.get('message')}".replace("  ", " ")
            for r in server.get("logs") or []]
    out.append(MATCHED.get(server.get("matched_by"), "Matched by the app's event"))
    return out


def confirm_app(server: dict | None, call_status: int | None) -> dict | None:
    """{cause, confirmed, title, summary, evidence, matched_by} when the app's event settles the cause, else None."""
    if not app_answered(server, call_status):
        return None
    exc = server.get("exception")
    if exc:
        frame = raising_frame(exc)
        title = f"Confirmed: the app raised {_exception_text(exc)}{_where(frame)} (app_error)"
        fix = (f"Fix {frame.get('function') or 'the code'} at {frame.get('file')}"
               f"{':' + str(frame['line']) if frame.get('line') is not None else ''}" if frame else "Fix the handler")
        summary = (f"{fix} so it does not raise {exc.get('type') or 'this exception'} on this request "
                   f"(the stack and the request's log records are under the call).")
    else:
        warned = [r for r in server.get("logs") or [] if r.get("message")]
        title = f"Confirmed: the app answered {server['status']} itself, without an exception (app_error)"
        summary = ("Read why the handler chose to fail: its last log record says "
                   f"\u201c{warned[-1]['message'][:MESSAGE_CHARS]}\u201d." if warned else
                   "Find where the handler answers this status on purpose: it logged nothing at WARNING or above.")
    return {"cause": "app_error", "confirmed": True, "title": title, "summary": summary,
            "evidence": server_lines(server), "matched_by": server.get("matched_by")}
