"""nginx ships its access and error logs over syslog to a running `replay serve` (two gunicorn workers reading
one socket), with DESIGN's log_format: each failed call's lines arrive parsed, with the cause and session id."""
from __future__ import annotations

import json

import pytest
import requests
from redis import Redis

from replay.core.keys import RedisKeys
from replay.core.proxy_logs.access_log import route_of
from tests.conftest import free_port
from tests.e2e.conftest import poll, replay_cli
from tests.nginx import REPLAY_LOG_FORMAT, running_nginx
from tests.nginx_upstreams import failure_config

KEYS = RedisKeys("replay:")
# (path, cause its error line names, status nginx answers)
CASES = [("/fail/refused", "upstream_refused", 502), ("/fail/closed", "upstream_closed_early", 502),
         ("/fail/reset", "upstream_reset", 502), ("/fail/slow", "upstream_timeout", 504),
         ("/fail/connect_timeout", "upstream_connect_timeout", 504), ("/fail/dns", "upstream_dns", 502),
         ("/fail/big_header", "upstream_header_too_big", 502), ("/fail/bad_header", "upstream_bad_response", 502),
         ("/fail/tls", "upstream_tls", 502)]


@pytest.fixture(scope="module")
def replay_env(replay_env):
    # Two web workers: both read the one syslog socket the master bound.
    return {**replay_env, "REPLAY_WEB_WORKERS": "2"}


@pytest.fixture(scope="module")
def shop(replay_env, replay_server, tmp_path_factory):
    """nginx in front of failing upstreams, logging both logs to replay's syslog address with the server key."""
    project = replay_cli(replay_env, "project", "create", "proxied", "--origin", "http://127.0.0.1")
    server_key = replay_cli(replay_env, "project", "server-key", project)
    target = replay_env["REPLAY_SYSLOG_ADDR"]
    port = free_port()
    with failure_config() as (http, locations):
        http += f"\n access_log syslog:server={target},tag={server_key},nohostname replay;"
        main = f"error_log syslog:server={target},tag={server_key},nohostname warn;"
        with running_nginx(tmp_path_factory.mktemp("nginx-logs"), port, locations, http=http, main=main,
                           log_format=REPLAY_LOG_FORMAT):
            yield {"url": f"http://127.0.0.1:{port}", "project": project,
                   "redis": Redis.from_url(replay_env["REPLAY_REDIS_URL"])}


def records(redis, key):
    return [json.loads(v) for v in redis.lrange(key, 0, -1)]


@pytest.mark.parametrize("path,cause,status", CASES)
def test_a_failed_call_arrives_with_its_cause_and_session(shop, path, cause, status):
    session = "sess_e2e_" + path.rsplit("/", 1)[1].replace("_", "")[:12].ljust(12, "x")
    r = requests.request("POST" if path.endswith("reset") else "GET", shop["url"] + path + "?id=7",
                         headers={"X-Replay-Session": session}, timeout=10)
    assert r.status_code == status
    [access] = poll(lambda: records(shop["redis"], KEYS.proxy_session(shop["project"], session)))
    assert (access["status"], access["uri"], access["via"]) == (status, path + "?id=7", "syslog")
    assert access["source"] == "127.0.0.1" and access["connection"] > 0
    errors = poll(lambda: records(shop["redis"], KEYS.proxy_connection(shop["project"], access["connection"])))
    assert errors[-1]["cause"] == cause and errors[-1]["uri"] == path + "?id=7"


def test_lines_without_a_session_and_the_rate_limit(shop):
    for _ in range(2):
        last = requests.get(shop["url"] + "/fail/limited", timeout=10)
    assert last.status_code == 503
    route = route_of("GET", "127.0.0.1", "/fail/limited")
    [limited] = poll(lambda: records(shop["redis"], KEYS.proxy_route(shop["project"], route)))
    assert limited["status"] == 503 and limited["session"] is None
    [error] = poll(lambda: records(shop["redis"], KEYS.proxy_connection(shop["project"], limited["connection"])))
    assert error["cause"] == "rate_limited"


def test_an_unknown_tag_is_dropped_and_counted(shop, replay_env):
    import socket

    host, port = replay_env["REPLAY_SYSLOG_ADDR"].rsplit(":", 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"<190>Nov 30 04:51:48 sk_not_a_key_of_ours: {}", (host, int(port)))
    poll(lambda: shop["redis"].hget(KEYS.proxy_dropped(), "unknown_tag"))
