"""Packed mutation events back into rrweb's form (the snippet packs them: js-snippet/src/pack.js).

A packed event's data is {"source": 0, "packed": 1, "t", "a", "r", "rp", "n", "np", "nn", "nk", "nv", "na"}:
columns instead of one object per change, each id the difference from the one before it in its column
(docs/protocol.md, "Packed mutations"). Stored segments keep what the page sent; readers of a recording
(the player, the API, share links, exports) get rrweb's events: replay/storage/recording.py unpacks each
event as it reads it. Events come from browsers, so a packed event that does not add up becomes an empty
mutation (nothing changes on the page) instead of breaking the player.
"""
from __future__ import annotations

from typing import Any

PACKED = 1
_MUTATION = 0  # rrweb's IncrementalSource.Mutation
_INCREMENTAL = 3  # rrweb's EventType.IncrementalSnapshot


class _Bad(ValueError):
    pass


def _int(value: Any) -> int:
    if type(value) is not int:
        raise _Bad
    return value


def _list(data: dict, name: str) -> list:
    value = data.get(name, [])
    if type(value) is not list:
        raise _Bad
    return value


def _ids(deltas: list) -> list[int]:
    out, last = [], 0
    for d in deltas:
        last += _int(d)
        out.append(last)
    return out


def _pairs(flat: list, field: str) -> list[dict]:
    if len(flat) % 2:
        raise _Bad
    out, last = [], 0
    for i in range(0, len(flat), 2):
        last += _int(flat[i])
        out.append({"id": last, field: flat[i + 1]})
    return out


def _adds(data: dict) -> list[dict]:
    ids, parents = _ids(_list(data, "n")), _ids(_list(data, "np"))
    nexts, kinds = _list(data, "nn"), _list(data, "nk")
    texts, attrs = iter(_list(data, "nv")), iter(_list(data, "na"))
    if not len(ids) == len(parents) == len(nexts) == len(kinds):
        raise _Bad
    out = []
    for node_id, parent, nxt, kind in zip(ids, parents, nexts, kinds):
        if kind == 0 and type(kind) is int:
            node = {"type": 3, "textContent": next(texts), "id": node_id}
        elif type(kind) is str:
            node = {"type": 2, "tagName": kind, "attributes": next(attrs), "childNodes": [], "id": node_id}
        elif type(kind) is dict:
            node = {**kind, "id": node_id}
        else:
            raise _Bad
        out.append({"parentId": parent, "nextId": None if nxt is None else _int(nxt) + node_id, "node": node})
    return out


def _unpacked(data: dict) -> dict:
    removes = [{"parentId": p, "id": i} for i, p in zip(_ids(_list(data, "r")), _ids(_list(data, "rp")), strict=True)]
    return {"source": _MUTATION, "texts": _pairs(_list(data, "t"), "value"),
            "attributes": _pairs(_list(data, "a"), "attributes"), "removes": removes, "adds": _adds(data)}


def unpack(event: Any) -> Any:
    """rrweb's form of a packed mutation event; any other event as it is."""
    if type(event) is not dict or event.get("type") != _INCREMENTAL:
        return event
    data = event.get("data")
    if type(data) is not dict or data.get("packed") != PACKED or data.get("source") != _MUTATION:
        return event
    try:
        full = _unpacked(data)
    except (_Bad, ValueError, StopIteration, TypeError):
        full = {"source": _MUTATION, "texts": [], "attributes": [], "removes": [], "adds": []}
    return {**event, "data": full}
