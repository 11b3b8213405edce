"""The snippet as a site's visitors download it."""
import gzip

from replay.web.paths import static_dir


def test_snippet_is_served_gzipped_with_an_etag_and_revalidates(client):
    raw = (static_dir() / "snippet.js").read_bytes()
    r = client.get("/snippet.js", headers={"Accept-Encoding": "gzip, br"})
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/javascript")
    assert r.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(r.data) == raw
    assert len(r.data) < 32 * 1024
    assert "max-age" in r.headers["Cache-Control"]
    again = client.get("/snippet.js", headers={"Accept-Encoding": "gzip", "If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    plain = client.get("/snippet.js")
    assert plain.data == raw and "Content-Encoding" not in plain.headers


def test_the_loader_is_served_like_the_snippet(client):
    raw = (static_dir() / "loader.js").read_bytes()
    r = client.get("/loader.js", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/javascript")
    assert gzip.decompress(r.data) == raw
    assert r.headers["ETag"] != client.get("/snippet.js", headers={"Accept-Encoding": "gzip"}).headers["ETag"]
    assert client.get("/loader.js").data == raw
