"""Deleting one session by the API (token or the page's CSRF), the replay page's form, and the settings' retention."""
import json
import re

import pytest

from tests.web_fixtures import ORIGIN, SECRET, WINDOW, get
from replay.ingest.service import Connection
from replay.ingest.protocol import ProtocolError


def stored(app, session) -> list[str]:
    return list(app.extensions["replay"].store.list(f"sessions/{session}/"))


def test_delete_by_the_api_with_a_token(client, token, recorded, app):
    assert stored(app, recorded)
    r = client.delete(f"/api/sessions/{recorded}", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.get_json() == {"deleted": recorded}
    assert stored(app, recorded) == []
    assert get(client, f"/api/sessions/{recorded}", token).status_code == 404
    assert get(client, "/api/sessions?user=u-42", token).get_json()["sessions"] == []
    again = client.delete(f"/api/sessions/{recorded}", headers={"Authorization": f"Bearer {token}"})
    assert again.status_code == 404 and again.get_json()["error"]["code"] == "not_found"


def test_delete_refuses_strangers_pages_without_csrf_and_unknown_ids(client, viewer, token, recorded, app):
    assert client.application.test_client().delete(f"/api/sessions/{recorded}").status_code == 401
    # A logged-in viewer's cookie alone (a cross-site request could carry it) is not enough.
    r = viewer.delete(f"/api/sessions/{recorded}")
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "csrf_failed" and stored(app, recorded)
    for bad in ("nope", "sess_never_recorded_01", "../" * 3):
        r = client.delete(f"/api/sessions/{bad}", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code in (404, 405) and stored(app, recorded), bad


def test_the_replay_pages_delete_form_confirms_then_deletes(viewer, recorded, app):
    html = viewer.get(f"/sessions/{recorded}").get_data(as_text=True)
    assert "Delete for good" in html and "cannot be undone" in html
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    assert viewer.post(f"/sessions/{recorded}/delete", data={"csrf": "wrong"}).status_code == 403
    r = viewer.post(f"/sessions/{recorded}/delete", data={"csrf": csrf})
    assert r.status_code == 302 and r.headers["Location"] == "/"
    listing = viewer.get("/").get_data(as_text=True)
    assert f"Session {recorded} was deleted for good" in listing and stored(app, recorded) == []
    assert viewer.get(f"/sessions/{recorded}").status_code == 404


def test_retention_is_shown_and_set_on_the_settings_page(viewer, project_key, app):
    html = viewer.get("/settings").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
    assert 'name="days"' in html and 'value="30"' in html
    viewer.post(f"/settings/projects/{project_key}/retention", data={"csrf": csrf, "days": "7"})
    assert app.extensions["replay"].accounts.project_store.get(project_key).retention_days == 7
    html = viewer.get("/settings").get_data(as_text=True)
    assert "keeps its sessions 7 days" in html and 'value="7"' in html
    viewer.post(f"/settings/projects/{project_key}/retention", data={"csrf": csrf, "days": "0"})
    assert "retention is a whole number of days from 1 to 3650" in viewer.get("/settings").get_data(as_text=True)


def hello(app, key, session):
    conn = Connection(origin=ORIGIN)
    return app.extensions["replay.ingest"].receive(conn, json.dumps(
        {"type": "hello", "v": 1, "key": key, "secret": SECRET, "session": session, "window": WINDOW,
         "url": ORIGIN + "/", "ua": "pytest"}))


def test_under_the_disk_floor_new_sessions_are_refused_and_the_viewer_says_so(make_app, accounts, redis_url):
    from tests.web_fixtures import log_in_as

    app = make_app(MIN_FREE_DISK_MB=10**9)  # a floor above any real disk's free space
    key = app.extensions["replay"].accounts.create_project("shop", [ORIGIN]).key
    with pytest.raises(ProtocolError) as caught:
        hello(app, key, "sess_new_0123456789")
    refused = caught.value
    assert refused.code == "storage_full" and refused.close_code == 4507 and refused.http_status == 507
    assert "REPLAY_MIN_FREE_DISK_MB" in refused.message
    # A session it already records goes on.
    app.extensions["replay"].redis.hset(app.extensions["replay"].keys.session_meta("sess_old_0123456789"),
                                        mapping={"project": key, "ua": "pytest"})
    assert hello(app, key, "sess_old_0123456789")["type"] == "ready"
    client = app.test_client()
    app.extensions["replay"].accounts.create_user("ann@example.com", "correct horse battery")
    log_in_as(app, client, "ann@example.com")
    html = client.get("/").get_data(as_text=True)
    assert "Disk nearly full" in html and "new sessions are not recorded" in html
    # With room on the disk, no banner and new sessions are taken.
    roomy = make_app()
    assert hello(roomy, key, "sess_new_0123456789")["type"] == "ready"
