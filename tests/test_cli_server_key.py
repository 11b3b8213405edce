"""`replay project server-key PROJECT [--rotate]` prints the key last; rotation refuses the old one."""
import os

import requests

from tests.test_cli import last_word, run


def test_server_key_by_key_and_name_rotate_and_refusals(redis_url, tmp_path, live_server):
    # live_server: the app on this same Redis database.
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPLAY_")}
    env.update(REPLAY_REDIS_URL=redis_url, REPLAY_DATA_DIR=str(tmp_path / "data"))
    project = last_word(run(env, "project", "create", "Shop", "--origin", "https://shop.example"))
    key = last_word(run(env, "project", "server-key", project))
    assert key.startswith("sk_") and len(key) <= 32 and key.replace("_", "").isalnum()
    assert last_word(run(env, "project", "server-key", "shop")) == key  # by name, same key
    rotated = run(env, "project", "server-key", project, "--rotate")
    new = last_word(rotated)
    assert new != key and "old one is refused" in rotated.stdout
    base = f"http://{live_server}"
    line = '{"v":1,"msec":"1732270503.123","method":"GET","uri":"/api","status":"502"}'
    assert requests.post(base + "/ingest/logs", data=line, headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert requests.post(base + "/ingest/logs", data=line, headers={"Authorization": f"Bearer {new}"}).json() == {
        "accepted": 1, "rejected": 0, "errors": []}
    missing = run(env, "project", "server-key", "nope")
    assert missing.returncode == 2 and "no project has the key or name 'nope'" in missing.stderr
