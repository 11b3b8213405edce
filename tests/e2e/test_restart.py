"""No data is lost when the web tier crashes under an open page: the snippet holds, reconnects and resends."""
from __future__ import annotations

import gzip
import json
from collections import defaultdict

from minio import Minio

from tests.e2e.conftest import poll


def stored_batches(replay_env, session_id):
    client = Minio(replay_env["REPLAY_S3_ENDPOINT"], access_key=replay_env["REPLAY_S3_ACCESS_KEY"],
                   secret_key=replay_env["REPLAY_S3_SECRET_KEY"], secure=False, region="us-east-1")
    bucket = replay_env["REPLAY_S3_BUCKET"]
    batches = defaultdict(dict)
    for obj in client.list_objects(bucket, prefix=f"sessions/{session_id}/segments/", recursive=True):
        segment = json.loads(gzip.decompress(client.get_object(bucket, obj.object_name).read()))
        for batch in segment["batches"]:
            batches[segment["window"]][batch["seq"]] = batch["events"]
    return batches


def console_lines(batches):
    return [" ".join(e["data"]["payload"]["args"]) for window in batches.values() for events in window.values()
            for e in events if e.get("type") == 5 and e["data"].get("tag") == "replay.console"]


def test_a_web_tier_crash_loses_no_batch(browser, site, api, replay_env, replay_procs):
    context = browser.new_context()
    page = context.new_page()
    page.goto(site["url"])
    page.wait_for_function("window.Replay && window.Replay.getSessionURL()")
    session_id = page.evaluate("window.Replay.getSessionURL()").rsplit("/sessions/", 1)[1].split("?")[0]
    page.evaluate("console.log('before the crash')")
    page.fill("#name", "first part")
    page.wait_for_timeout(2500)  # let the snippet send what it has

    replay_procs.crash_web()
    page.evaluate("console.log('while the collector was down')")
    page.fill("#name", "first part, second part")
    page.wait_for_timeout(1500)
    replay_procs.start_web()

    page.click("#place")
    page.wait_for_function("window.__lastStatus === 502")
    page.evaluate("console.log('after the restart')")
    page.wait_for_timeout(300)
    context.close()

    detail = poll(lambda: (d := api(f"/api/sessions/{session_id}").json()).get("network_failures") and d, timeout_s=40)
    assert any(f["status"] == 502 for f in detail["network_failures"])

    def everything_stored():
        batches = stored_batches(replay_env, session_id)
        lines = console_lines(batches)
        return batches if all(any(w in l for l in lines) for w in ("before the crash", "while the collector was down",
                                                                    "after the restart")) else None

    batches = poll(everything_stored, timeout_s=30)
    for window, by_seq in batches.items():
        seqs = sorted(by_seq)
        assert seqs == list(range(1, len(seqs) + 1)), f"window {window} has gaps: {seqs}"
