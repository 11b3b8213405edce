"""The CLI on the embedded default: admin commands with and without `replay serve`, and data across restarts."""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

from tests.conftest import free_port, wait_for_port
from tests.process_logs import TRACEBACK

BIN = Path(sys.executable).parent / "replay"


def embedded_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPLAY_")}
    env["REPLAY_DATA_DIR"] = str(tmp_path / "data")
    return env


def run(env, *args):
    out = subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True, timeout=60)
    assert TRACEBACK not in out.stderr, out.stderr
    return out


def last_word(out):
    return out.stdout.strip().splitlines()[-1].split()[-1]


def post_batch(base, key, origin, seq=1):
    # One session per project: a session id belongs to the project that first used it.
    body = {"v": 1, "key": key, "secret": "cli_secret_0123456789", "session": "sess_" + key[3:20], "window": "win_cli_0123456789", "url": origin,
            "batches": [{"seq": seq, "events": [{"type": 3, "timestamp": 1, "data": {}}]}]}
    return requests.post(base + "/ingest/batch", data=json.dumps(body), headers={"Origin": origin}, timeout=10)


def test_admin_commands_print_the_key_last_and_refuse_bad_input(tmp_path):
    env = embedded_env(tmp_path)
    out = run(env, "project", "create", "shop", "--origin", "https://shop.example", "--origin", "http://localhost:3000")
    assert out.returncode == 0, out.stderr
    assert last_word(out).startswith("pk_")
    assert last_word(run(env, "token", "create", "--name", "ci")).startswith("rpt_")
    assert last_word(run(env, "user", "create", "Dev@Example.com", "--password", "long enough")) == "dev@example.com"
    bad = run(env, "project", "create", "shop", "--origin", "shop.example/path")
    assert bad.returncode == 2 and "not an origin" in bad.stderr
    short = run(env, "user", "create", "a@b.c", "--password", "short")
    assert short.returncode == 2 and "8 characters" in short.stderr


def test_embedded_serve_sees_admin_changes_and_keeps_them_across_restarts(tmp_path, process_logs):
    env = embedded_env(tmp_path)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    origin = "https://shop.example"
    # `replay serve`, its web process and its worker all write here; a traceback fails the test.
    log = process_logs.watch(tmp_path / "serve.log", "replay serve (embedded)")

    def start():
        with open(log, "a") as out:
            proc = subprocess.Popen([str(BIN), "serve", "--port", str(port)], env=env,
                                    stdout=out, stderr=subprocess.STDOUT)
        wait_for_port(port, 30)
        return proc

    def stop(proc):
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)

    before = last_word(run(env, "project", "create", "before", "--origin", origin))
    serve = start()
    try:
        during = last_word(run(env, "project", "create", "during", "--origin", origin))
        assert post_batch(base, before, origin).status_code == 200
        assert post_batch(base, during, origin).status_code == 200
        assert post_batch(base, during, "https://evil.example").status_code == 403
    finally:
        stop(serve)
    serve = start()
    try:
        # Both projects survived the restart, and so did the dedup record of batch 1.
        r = post_batch(base, during, origin)
        assert r.status_code == 200 and r.json()["duplicates"] == 1
    finally:
        stop(serve)


def children(pid: int) -> dict[str, int]:
    """The embedded serve's children by role: redis, web (the gunicorn master), worker."""
    found = {}
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        role = "redis" if "redis-server" in cmdline else "worker" if " worker" in cmdline else "web"
        found[role] = int(child)
    return found


def test_embedded_serve_restarts_whatever_dies_and_keeps_acked_data(tmp_path):
    import time

    env = embedded_env(tmp_path)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    origin = "https://shop.example"
    key = last_word(run(env, "project", "create", "shop", "--origin", origin))
    serve = subprocess.Popen([str(BIN), "serve", "--port", str(port)], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, 30)
        assert post_batch(base, key, origin, seq=1).status_code == 200
        for role in ("redis", "worker", "web"):
            before = children(serve.pid)
            os.kill(before[role], signal.SIGKILL)
            deadline = time.monotonic() + 30
            while True:
                now = children(serve.pid)
                if now.get(role) not in (None, before[role]):
                    break
                assert time.monotonic() < deadline, f"{role} was not restarted"
                time.sleep(0.2)
        wait_for_port(port, 30)
        # Batch 1 was acked before Redis was killed: the restarted Redis still holds it (AOF, appendfsync always).
        deadline = time.monotonic() + 30
        while (r := post_batch(base, key, origin, seq=1)).status_code != 200:
            assert time.monotonic() < deadline, r.text
            time.sleep(0.5)
        assert r.json()["duplicates"] == 1
        assert post_batch(base, key, origin, seq=2).json()["stored"] == 1
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(30)


def test_ctrl_c_stops_every_process_cleanly(tmp_path):
    import time

    env = embedded_env(tmp_path)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    key = last_word(run(env, "project", "create", "shop", "--origin", "https://shop.example"))
    serve = subprocess.Popen([str(BIN), "serve", "--port", str(port)], env=env, start_new_session=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_for_port(port, 30)
    assert post_batch(base, key, "https://shop.example").status_code == 200
    started = children(serve.pid)
    assert set(started) == {"redis", "web", "worker"}
    # The worker's links (alert messages) point at this server, REPLAY_PUBLIC_URL being unset.
    environ = Path(f"/proc/{started['worker']}/environ").read_bytes().split(b"\0")
    assert f"REPLAY_PUBLIC_URL=http://127.0.0.1:{port}".encode() in environ
    t0 = time.monotonic()
    os.killpg(serve.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends: the whole foreground group
    output, _ = serve.communicate(timeout=30)
    print(f"stopped in {time.monotonic() - t0:.2f} s")
    assert serve.returncode == 0, output
    assert "SIGKILL" not in output and "Traceback" not in output, output
    for pid in started.values():
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()


def test_project_bodies_sets_and_clears_the_capture_patterns(tmp_path):
    env = embedded_env(tmp_path)
    key = last_word(run(env, "project", "create", "shop", "--origin", "https://shop.example"))
    on = run(env, "project", "bodies", key, "--url", "/api/*", "--url", "https://API.shop.example/v1/*")
    assert on.returncode == 0 and on.stdout.strip().endswith("/api/*, https://api.shop.example/v1/*"), on.stderr
    off = run(env, "project", "bodies", key, "--off")
    assert off.returncode == 0 and "no request bodies" in off.stdout
    for args, says in [(["--url", "api/*"], "neither a path"), ([], "--url PATTERN"),
                       (["--url", "/a", "--off"], "--url PATTERN")]:
        bad = run(env, "project", "bodies", key, *args)
        assert bad.returncode == 2 and says in bad.stderr and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    unknown = run(env, "project", "bodies", "pk_nope", "--url", "/api/*")
    assert unknown.returncode == 2 and "no project has the key pk_nope" in unknown.stderr


def test_project_sampling_sets_and_clears_the_sample_rate(tmp_path):
    env = embedded_env(tmp_path)
    key = last_word(run(env, "project", "create", "shop", "--origin", "https://shop.example"))
    on = run(env, "project", "sampling", key, "10%")
    assert on.returncode == 0 and "records 10% of sessions in full" in on.stdout, on.stderr
    off = run(env, "project", "sampling", key, "off")
    assert off.returncode == 0 and "data-capture decides" in off.stdout
    bad = run(env, "project", "sampling", key, "1.5")
    assert bad.returncode == 2 and "from 0 to 1" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    unknown = run(env, "project", "sampling", "pk_nope", "0.5")
    assert unknown.returncode == 2 and "no project has the key pk_nope" in unknown.stderr


def _open_files_limit(pid: int) -> int:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return int(line.split()[3])
    raise AssertionError("no open files limit")


def test_serve_raises_a_low_open_files_limit_for_all_it_runs(tmp_path):
    """A shell's soft limit of 1,024 would cap the web process at about 1,000 sockets: raised to the hard limit."""
    import resource
    import time

    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    want = min(hard, 1 << 20) if hard != resource.RLIM_INFINITY else 1 << 20
    env, port = embedded_env(tmp_path), free_port()
    serve = subprocess.Popen([str(BIN), "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL,
                             preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard)))
    try:
        wait_for_port(port, 30)
        deadline = time.monotonic() + 30
        while len(found := children(serve.pid)) < 3:
            assert time.monotonic() < deadline, found
            time.sleep(0.2)
        assert {role: _open_files_limit(pid) for role, pid in found.items()} == \
            {"web": want, "worker": want, "redis": want}
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(30)
