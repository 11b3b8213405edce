"""Worker contexts on the test Redis, with each storage backend."""
from __future__ import annotations

import pytest

from replay.core import settings as settings_mod
from worker import context
from worker.context import Context


@pytest.fixture(params=["local", "s3"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def make_ctx(request, settings):
    """Build (and configure) a worker Context on the test Redis: local folder, or a fresh S3 bucket."""
    built = []

    def make(backend: str = "local", **overrides) -> Context:
        values = {"REDIS_URL": settings.REDIS_URL, "DATA_DIR": settings.DATA_DIR, **overrides}
        if backend == "s3":
            values = {**request.getfixturevalue("s3_settings"), **values}
        ctx = context.configure(Context(settings_mod.load(values, environ={})))
        built.append(ctx)
        return ctx

    yield make
    context.reset()
    for ctx in built:
        ctx.redis.close()


@pytest.fixture
def ctx(make_ctx, backend) -> Context:
    return make_ctx(backend)
