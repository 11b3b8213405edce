"""The SDK against a real collector: the replay app behind a real HTTP server, with a project's server key."""
import json

import pytest

from replay.core import server_keys
from replay_sdk import Client
from tests.conftest import free_port

SESSION = "sess_sdk_0123456789"


@pytest.fixture
def collector(app, live_server, project_key, redis, keys):
    """(base URL, server key, a function giving the events filed under a session)."""
    key = server_keys.issue(redis, keys, project_key)

    def filed(session=SESSION):
        return [json.loads(v) for v in redis.lrange(keys.server_session(project_key, session), 0, -1)]

    return {"url": f"http://{live_server}", "key": key, "filed": filed, "project": project_key}


@pytest.fixture
def sdk_client(collector):
    c = Client(endpoint=collector["url"], server_key=collector["key"], service="shop", release="1.2.3",
               backoff_s=0.01)
    yield c
    c.close(1)


@pytest.fixture
def dead_client():
    """A client whose collector is a port where nothing listens."""
    c = Client(endpoint=f"http://127.0.0.1:{free_port()}", server_key="sk_" + "a" * 29, backoff_s=0.01)
    yield c
    c.close(0.5)
