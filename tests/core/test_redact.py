"""Server-side redaction of call details: the same rules as the snippet's, run again on what any client sent."""
from __future__ import annotations

import json

import pytest

from replay.core import body_capture, redact
from replay.core.accounts import Accounts
from replay.core.wire import MASK


@pytest.mark.parametrize("name", ["token", "access_token", "apiKey", "api-key", "key", "X-Amz-Signature", "sig",
                                  "password", "client_secret", "sessionId", "auth", "code", "cardNumber", "cvv"])
def test_secret_names(name):
    assert redact.secret_name(name)


@pytest.mark.parametrize("name", ["q", "page", "monkey", "design", "keyboard", "email", "sort"])
def test_names_that_are_not_secret(name):
    assert not redact.secret_name(name)


def test_query_values_of_secret_names_are_masked_and_parsed():
    url = "https://a.test/x?token=abc&q=red+shoes&apiKey=zz&flag#top"
    assert redact.mask_query(url) == f"https://a.test/x?token={MASK}&q=red+shoes&apiKey={MASK}&flag#top"
    # OAuth's implicit flow puts the token in the fragment.
    assert redact.mask_query("https://a.test/cb#access_token=abc123&expires_in=3600") == \
        f"https://a.test/cb#access_token={MASK}&expires_in=3600"
    assert redact.query_params(redact.mask_query(url)) == [
        {"name": "token", "value": MASK, "masked": True}, {"name": "q", "value": "red shoes", "masked": False},
        {"name": "apiKey", "value": MASK, "masked": True}, {"name": "flag", "value": "", "masked": False}]
    # A modified snippet that sent the URL unmasked: parsing masks it all the same.
    assert redact.query_params("/x?password=hunter2")[0] == {"name": "password", "value": MASK, "masked": True}


def test_json_bodies_lose_secret_keys_and_card_numbers_anywhere():
    body = json.dumps({"email": "a@b.test", "password": "hunter2", "card": {"number": "4111 1111 1111 1111"},
                       "items": [{"note": "pay with 4111-1111-1111-1111"}], "n": 4111111111111111,
                       "order": 1234567890123})
    text, cut, changed = redact.scrub_body(body, 16 * 1024)
    out = json.loads(text)
    assert out == {"email": "a@b.test", "password": MASK, "card": MASK, "items": [{"note": f"pay with {MASK}"}],
                   "n": MASK, "order": 1234567890123}
    assert (cut, changed) == (False, True)


def test_scrubbing_is_idempotent_and_leaves_clean_bodies_alone():
    clean = '{ "q": "shoes", "page": 2 }'
    assert redact.scrub_body(clean, 100) == (clean, False, False)
    # What the snippet sent, scrubbed already: the server's pass changes nothing (JS JSON.stringify's spelling).
    once = '{"password":"[masked]","card":"[masked]"}'
    assert redact.scrub_body(once, 100) == (once, False, False)


def test_forms_text_and_bodies_cut_at_the_cap():
    assert redact.scrub_body("user=bob&password=hunter2&cc=4111111111111111", 100)[0] == \
        f"user=bob&password={MASK}&cc={MASK}"
    assert redact.scrub_text("Authorization: Bearer abc.def-123456 ok") == f"Authorization: Bearer {MASK} ok"
    assert redact.scrub_text("t=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig") == f"t={MASK}"
    text, cut, changed = redact.scrub_body('{"token": "abc", "password":"hunter2", "x": "' + "y" * 70000, 1000)
    assert text.startswith(f'{{"token": "{MASK}", "password":"{MASK}"') and len(text) == 1000
    assert cut and changed


@pytest.mark.parametrize("pattern,url,hit", [
    ("/api/*", "https://shop.test/api/pay?x=1", True),
    ("/api/*", "https://other.test/api/pay", True),
    ("/api/*", "https://shop.test/apix", False),
    ("/api/pay", "https://shop.test/api/pay/2", False),
    ("https://api.shop.test/*", "https://API.shop.test/v1/pay", True),
    ("https://api.shop.test/*", "http://api.shop.test/v1/pay", False),
    ("*", "https://any.test/", True),
])
def test_url_patterns(pattern, url, hit):
    assert body_capture.matches([body_capture.check(pattern)], url) is hit


@pytest.mark.parametrize("bad", ["", "api/*", "/a?b", "/a b", "ftp://x/*", "x" * 201])
def test_bad_patterns_are_refused(bad):
    with pytest.raises(body_capture.PatternError):
        body_capture.check(bad)


def test_a_projects_patterns_live_in_its_hash(redis, keys):
    key = Accounts(redis, keys).create_project("shop", ["https://shop.test"]).key
    assert body_capture.patterns(redis, keys, key) == []
    assert body_capture.set_patterns(redis, keys, key, ["/api/*", "/api/*", "HTTPS://Api.Shop.test/v1/*"]) == [
        "/api/*", "https://api.shop.test/v1/*"]
    assert body_capture.patterns(redis, keys, key) == ["/api/*", "https://api.shop.test/v1/*"]
    assert body_capture.set_patterns(redis, keys, key, []) == []
    assert body_capture.patterns(redis, keys, key) == []
    with pytest.raises(body_capture.PatternError, match="no project"):
        body_capture.set_patterns(redis, keys, "pk_nope", ["/api/*"])
