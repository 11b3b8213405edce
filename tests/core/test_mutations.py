"""Packed mutation events: what the snippet packs (js-snippet/src/pack.js, run here in node) unpacks to the very
events rrweb wrote (replay/core/mutations.py), and what a browser may send instead breaks no reader."""
from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import pytest

from replay.core.mutations import unpack

PACK_JS = Path(__file__).resolve().parents[2] / "js-snippet" / "src" / "pack.js"
EMPTY = {"source": 0, "texts": [], "attributes": [], "removes": [], "adds": []}


def pack_in_node(events: list[dict]) -> list[dict]:
    script = (f"import {{ packMutation }} from {json.dumps(PACK_JS.as_uri())};\n"
              "let s = ''; process.stdin.on('data', (d) => (s += d)).on('end', () => "
              "process.stdout.write(JSON.stringify(JSON.parse(s).map(packMutation))));")
    done = subprocess.run(["node", "--input-type=module", "-e", script], input=json.dumps(events), text=True,
                          capture_output=True, check=True, timeout=60)
    return json.loads(done.stdout)


def node(rng: random.Random, node_id: int) -> dict:
    kind = rng.randrange(6)
    if kind < 3:
        return {"type": 3, "textContent": rng.choice(["", "v1.2", "naïve ☃", "a\nb", "x" * 300]), "id": node_id}
    if kind < 5:
        attrs = rng.choice([{}, {"class": "r1 hot"}, {"style": "color: red", "data-v": "1"}, {"href": "/x?y=1"}])
        return {"type": 2, "tagName": rng.choice(["tr", "td", "div", "my-element"]), "attributes": attrs,
                "childNodes": [], "id": node_id}
    return rng.choice([{"type": 5, "textContent": "a comment", "id": node_id},
                       {"type": 2, "tagName": "svg", "attributes": {}, "childNodes": [], "isSVG": True, "id": node_id},
                       {"type": 3, "textContent": "a { color: red }", "isStyle": True, "id": node_id},
                       {"type": 3, "textContent": "in a frame", "rootId": 17, "id": node_id}])


def mutation(rng: random.Random) -> dict:
    ids = lambda: rng.randrange(1, 100_000)  # noqa: E731
    data = {
        "source": 0,
        "texts": [{"id": ids(), "value": rng.choice(["new text", "", None])} for _ in range(rng.randrange(4))],
        "attributes": [{"id": ids(), "attributes": rng.choice([{"class": "a"}, {"style": {"color": "red"}},
                                                                 {"data-x": None}])}
                       for _ in range(rng.randrange(4))],
        "removes": [{"parentId": ids(), "id": ids()} for _ in range(rng.randrange(30))],
        "adds": [{"parentId": ids(), "nextId": rng.choice([None, ids()]), "node": node(rng, ids())}
                 for _ in range(rng.randrange(60))],
    }
    return {"type": 3, "timestamp": 1_700_000_000_000 + rng.randrange(10**6), "data": data}


def test_what_the_snippet_packs_unpacks_to_what_rrweb_wrote():
    rng = random.Random(11)
    events = [mutation(rng) for _ in range(300)]
    packed = pack_in_node(events)
    assert all(p["data"].get("packed") == 1 for p in packed)
    assert len(json.dumps(packed)) < len(json.dumps(events))
    assert [unpack(p) for p in packed] == events


def test_what_the_snippet_leaves_alone_is_read_as_it_is():
    shadow = {"type": 3, "timestamp": 1, "data": {**EMPTY, "removes": [{"parentId": 1, "id": 2, "isShadow": True}]}}
    iframe = {"type": 3, "timestamp": 2, "data": {**EMPTY, "isAttachIframe": True}}
    others = [{"type": 2, "timestamp": 3, "data": {"node": {"type": 0, "childNodes": [], "id": 1}}},
              {"type": 3, "timestamp": 4, "data": {"source": 1, "positions": []}},
              {"type": 5, "timestamp": 5, "data": {"tag": "replay.network", "payload": {}}}]
    assert pack_in_node([shadow, iframe]) == [shadow, iframe]
    for event in [shadow, iframe, *others, "text", None, 7]:
        assert unpack(event) == event


BROKEN = [
    {"r": [1, 2], "rp": [1]},  # columns of different lengths
    {"n": [5], "np": [1], "nn": [None], "nk": [0], "nv": []},  # a text with no value
    {"n": [5], "np": [1], "nn": [None], "nk": ["div"], "na": []},  # an element with no attributes
    {"n": [5], "np": [1], "nn": ["x"], "nk": [0], "nv": ["a"]},
    {"n": [5.5], "np": [1], "nn": [None], "nk": [0], "nv": ["a"]},
    {"n": [True], "np": [1], "nn": [None], "nk": [0], "nv": ["a"]},
    {"n": [5], "np": [1], "nn": [None], "nk": [[1]], "nv": ["a"]},
    {"t": [1]},  # an id with no value
    {"a": "not a list"},
    {"r": [10 ** 400]},
]


@pytest.mark.parametrize("columns", BROKEN)
def test_a_packed_event_that_does_not_add_up_becomes_an_empty_mutation(columns):
    event = {"type": 3, "timestamp": 9, "data": {"source": 0, "packed": 1, **columns}}
    assert unpack(event) == {"type": 3, "timestamp": 9, "data": EMPTY}
    json.dumps(unpack(event), allow_nan=False)
