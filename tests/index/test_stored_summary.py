"""The summary the index keeps per session is stored compact and read back whole."""
from __future__ import annotations

import json
import zlib

from replay.core.records import Record
from replay.index import stored_summary
from replay.storage import manifest as mf
from tests import samples

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"


def checkout_manifest() -> dict:
    records = [Record(window, seq, samples.T0 + 1000, samples.SITE + "/cart", events)
               for window, batches in samples.checkout_session().items() for seq, events in batches]
    return mf.merge(mf.new("sess_summary_0123456789"), records, project="pk_shop", user_agent=UA,
                    segment_keys=[], max_body_chars=1000, release="2.5.0")


def test_a_summary_reads_back_as_it_was_made_in_well_under_half_the_bytes():
    for manifest in (checkout_manifest(), mf.new("sess_empty_0123456789")):
        summary = mf.summary(manifest)
        stored = stored_summary.encode(summary)
        assert stored_summary.decode(stored) == summary
        assert len(stored) < len(json.dumps(summary, separators=(",", ":"))) / 2


def test_a_summary_stored_as_plain_json_by_an_older_version_still_reads():
    summary = mf.summary(checkout_manifest())
    assert stored_summary.decode(json.dumps(summary).encode()) == summary


def test_a_summary_deflated_without_the_dictionary_by_an_older_version_still_reads():
    summary = mf.summary(checkout_manifest())
    older = {k: v for k, v in summary.items() if k not in ("browser", "has_5xx", "first_url", "frustration")}
    assert stored_summary.decode(zlib.compress(json.dumps(older).encode())) == summary
