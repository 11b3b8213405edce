"""A diagnosis card for one failed call: who answered, the likely cause, what it cannot show, what to do next.

Three steps over named structures: facts.gather reads the recorded call (a failure dict of the session manifest) into
Facts, matching the rows of vendors.py; classify.classify takes the first rule of the call's status family that holds,
a Verdict of cause and kind; explain.explain fills in that cause's Text from texts.py and adds the lines the facts call
for (the proxy's logs, request ids, the X-Replay-Session log search).

To add a cause, add a Rule to its family in classify.py, above the rules it should win over, and a Text of the same
name to texts.py; a fact the rule needs is one more Facts field that gather fills in. For example, with a proxy's
error-log line in Facts, `Rule("upstream_refused", lambda f: "Connection refused" in f.proxy_error, "upstream_down")`
and `"upstream_refused": Text("{by} answered {status}: its error log says the upstream refused the connection.")`.
"""
from __future__ import annotations

from replay.viewer.diagnosis.classify import KINDS, classify
from replay.viewer.diagnosis.explain import Card, explain
from replay.viewer.diagnosis.facts import gather
from replay.viewer.diagnosis.server_side import api_diagnosis, with_proxy

__all__ = ["KINDS", "Card", "api_diagnosis", "diagnose"]


def diagnose(failure: dict, *, session_id: str, page_origin: str | None = None, proxy: dict | None = None,
             server: dict | None = None) -> dict:
    """The diagnosis card of one failed call, as a dict of the Card's fields (what templates and tests read), with
    the cause in DESIGN's codes and, when the proxy's joined lines (`proxy`) or the app's event (`server`) settle
    it, confirmed."""
    facts = gather(failure, session_id=session_id, page_origin=page_origin)
    return with_proxy(explain(facts, classify(facts)).as_dict(), proxy, server, failure.get("status"))
