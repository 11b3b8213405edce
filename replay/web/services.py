"""What a request needs: the per-process clients the factory built, reached through the app."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import current_app
from redis import Redis

from replay.core.accounts import Accounts
from replay.core.keys import RedisKeys
from replay.core.settings import Settings
from replay.storage.store import ObjectStore


@dataclass
class Services:
    """The clients one web process shares between its requests."""

    settings: Settings
    redis: Redis
    keys: RedisKeys
    accounts: Accounts
    store: ObjectStore
    # (manifest, failed call, proxy evidence, app event) -> the call's `diagnosis`; set by the factory from the viewer,
    # which the API (a layer below) cannot import.
    diagnose: Callable[[dict, dict, dict | None, dict | None], dict] | None = None


EXTENSION = "replay"


def services() -> Services:
    return current_app.extensions[EXTENSION]
