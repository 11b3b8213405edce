"""The settings page: projects with their key, snippet, origins and refusals; every change needs the page's CSRF."""
import re

import pytest

from replay.core.refusals import Refusals
from tests.web_fixtures import ORIGIN


def page(viewer):
    r = viewer.get("/settings")
    assert r.status_code == 200
    return r.get_data(as_text=True)


def csrf_of(html):
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def section(html, key):
    return re.search(rf'<section class="project[^"]*" id="p-{key}".*?</section>', html, re.S).group(0)


@pytest.fixture
def refused(app, project_key):
    svc = app.extensions["replay"]
    refusals = Refusals(svc.redis, svc.keys)
    for _ in range(3):
        refusals.note(project_key, "http://localhost:8080", "origin_not_allowed", 1_732_250_000_000)
    return refusals


def test_strangers_are_sent_to_the_login_and_every_page_links_settings(client, viewer):
    assert client.application.test_client().get("/settings").headers["Location"].startswith("/login")
    assert 'href="/settings"' in viewer.get("/").get_data(as_text=True)


def test_a_project_shows_its_key_snippet_origins_and_refused_origins_with_the_fix(viewer, project_key, refused):
    html = section(page(viewer), project_key)
    assert project_key in html and ">shop<" in html
    assert f'data-project-key=&#34;{project_key}&#34;' in html and "/loader.js" in html
    assert f"<code>{ORIGIN}</code>" in html
    row = re.search(r'<tr data-origin="http://localhost:8080">.*?</tr>', html, re.S).group(0)
    assert '<td class="num count">3</td>' in row and "2024-11-22" in row
    assert f"replay project origin add {project_key} http://localhost:8080" in row and ">Allow</button>" in row


def test_allow_adds_the_origin_and_forgets_its_refusals(viewer, project_key, refused, accounts):
    csrf = csrf_of(page(viewer))
    r = viewer.post(f"/settings/projects/{project_key}/origins", data={"csrf": csrf, "origin": "http://localhost:8080"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/settings#p-{project_key}")
    assert accounts.project(project_key).origins == (ORIGIN, "http://localhost:8080")
    html = page(viewer)
    assert "http://localhost:8080 may now send to shop." in html
    assert 'data-origin="http://localhost:8080"' not in html and refused.of_project(project_key) == []


def test_remove_origin_disable_and_enable(viewer, project_key, accounts):
    csrf = csrf_of(page(viewer))
    viewer.post(f"/settings/projects/{project_key}/origins/remove", data={"csrf": csrf, "origin": ORIGIN})
    assert accounts.project(project_key).origins == ()
    assert "takes nothing until an origin is added" in page(viewer)
    viewer.post(f"/settings/projects/{project_key}/enabled", data={"csrf": csrf, "enabled": "0"})
    assert not accounts.project(project_key).enabled
    assert "Disabled: pages are refused" in section(page(viewer), project_key)
    viewer.post(f"/settings/projects/{project_key}/enabled", data={"csrf": csrf, "enabled": "1"})
    assert accounts.project(project_key).enabled


@pytest.mark.parametrize("origin", ["http://localhost:99999", "not an origin", "http://[::1"])
def test_a_bad_origin_is_one_line_on_the_page(viewer, project_key, accounts, origin):
    csrf = csrf_of(page(viewer))
    viewer.post(f"/settings/projects/{project_key}/origins", data={"csrf": csrf, "origin": origin})
    html = page(viewer)
    assert re.search(r'<p class="error" role="alert">[^<]*is not an origin like', html)
    assert accounts.project(project_key).origins == (ORIGIN,)


@pytest.mark.parametrize("path", ["/settings/projects/KEY/origins", "/settings/projects/KEY/origins/remove",
                                  "/settings/projects/KEY/enabled", "/settings/tokens/revoke"])
@pytest.mark.parametrize("csrf", [None, "wrong"])
def test_every_change_needs_the_pages_csrf_token(viewer, project_key, accounts, path, csrf):
    data = {"origin": "http://localhost:8080", "enabled": "0", "id": "x"} | ({"csrf": csrf} if csrf else {})
    r = viewer.post(path.replace("KEY", project_key), data=data)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "csrf_failed"
    assert accounts.project(project_key).origins == (ORIGIN,) and accounts.project(project_key).enabled


def test_tokens_are_listed_by_id_and_revoked(viewer, accounts, token):
    html = page(viewer)
    assert token[:12] in html and token not in html
    viewer.post("/settings/tokens/revoke", data={"csrf": csrf_of(html), "id": token[:12]})
    assert not accounts.check_token(token)
    assert "No API tokens" in page(viewer)


def test_an_unknown_project_key_is_an_error_line_not_a_crash(viewer):
    csrf = csrf_of(page(viewer))
    r = viewer.post("/settings/projects/pk_nope/enabled", data={"csrf": csrf, "enabled": "0"})
    assert r.status_code == 302
    assert "no project has the key" in page(viewer)


def test_a_disabled_user_cannot_log_in_and_their_logins_end(app, viewer, accounts):
    accounts.set_user_enabled("dev@example.com", False)
    assert viewer.get("/settings").status_code == 302
    assert accounts.authenticate("dev@example.com", "correct horse") is None
    accounts.set_user_enabled("dev@example.com", True)
    assert accounts.authenticate("dev@example.com", "correct horse") is not None


def test_a_project_shows_its_sample_rate_and_its_heartbeats(app, viewer, project_key):
    from replay.core import sampling

    svc = app.extensions["replay"]
    html = section(page(viewer), project_key)
    assert "As each page says" in html and f"replay project sampling {project_key} 0.1" in html
    sampling.set_rate(svc.redis, svc.keys, project_key, 0.1)
    for _ in range(3):
        sampling.count_heartbeat(svc.redis, svc.keys, project_key)
    html = section(page(viewer), project_key)
    assert "<strong>10%</strong> of sessions" in html
    assert '<strong class="heartbeats-today">3</strong>' in html and '<strong class="heartbeats-week">3</strong>' in html
