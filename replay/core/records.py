"""A batch as the collector received it: what the buffer holds and a flush merges into the manifest."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Record:
    window: str
    seq: int
    received_ms: int
    url: str
    events: list
