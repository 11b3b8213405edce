"""The diagnosis package's parts: each rule reachable and worded, the tables consistent with each other."""
from __future__ import annotations

import string

import pytest

from replay.viewer.diagnosis import KINDS, Card, diagnose
from replay.viewer.diagnosis.classify import (GATEWAY_RULES, NO_RESPONSE_RULES, QUALIFIERS, Rule, classify,
                                              family)
from replay.viewer.diagnosis.explain import FIELDS
from replay.viewer.diagnosis.facts import gather
from replay.viewer.diagnosis import texts
from tests.viewer.test_diagnosis import (CF_BRANDED, CF_HEADERS, CF_UNBRANDED_502, NGINX_500, NGINX_502, ORIGIN, SID,
                                         call)

CF_502 = CF_BRANDED.format(code=502, text="Bad gateway", lower="bad gateway")
NGINX = {"server": "nginx/1.22.1"}

# (failure, page origin, cause, kind, qualifiers): one row per rule, so every rule is reachable.
CASES = [
    (call(521, headers=CF_HEADERS, body="error code: 521"), ORIGIN, "cloudflare_code", "upstream_down", ()),
    (call(502, headers=CF_HEADERS, body=CF_UNBRANDED_502), ORIGIN, "cloudflare_itself", "upstream_broken", ()),
    (call(504, headers=CF_HEADERS, body=CF_502), ORIGIN, "origin_behind_cloudflare", "gateway_timeout", ()),
    (call(502, headers={"content-type": "application/json"}, body="{}"), ORIGIN, "app_answered_gateway",
     "server_error", ()),
    (call(503, headers={"server": "envoy"}, body="no healthy upstream"), ORIGIN, "body_names_cause", "upstream_down",
     ()),
    (call(504, duration=60_012, headers=NGINX), ORIGIN, "default_timeout", "upstream_slow", ()),
    (call(504, duration=60_100), ORIGIN, "default_timeout", "upstream_slow", ()),  # several defaults, one kind
    (call(502, duration=38, headers=NGINX, body=NGINX_502), ORIGIN, "instant_502", "upstream_refused_or_dropped", ()),
    # Under 3 s a refused connect is still possible across a slow network: both causes stay named.
    (call(502, duration=2_400, headers=NGINX, body=NGINX_502), ORIGIN, "instant_502", "upstream_refused_or_dropped",
     ()),
    (call(502, duration=8_200, headers=NGINX, body=NGINX_502), ORIGIN, "bad_gateway", "upstream_broken", ()),
    (call(502, duration=None, headers=NGINX), ORIGIN, "untimed_502", "upstream_refused_or_dropped", ()),
    (call(504, duration=12, headers=NGINX), ORIGIN, "instant_504", "gateway_timeout", ()),
    (call(504, duration=5_003, headers=NGINX), ORIGIN, "configured_timeout", "gateway_timeout", ()),
    (call(503, headers={"retry-after": "60"}), ORIGIN, "unavailable", "overloaded_or_maintenance", ("retry_after",)),
    (call(429, headers={"retry-after": "30"}), ORIGIN, "rate_limited", "rate_limited", ("retry_after",)),
    (call(413, headers=NGINX, body=NGINX_502.replace("502 Bad Gateway", "413 Request Entity Too Large")), ORIGIN,
     "refused", "client_error", ("answered_with_own_page",)),
    (call(500, headers=NGINX, body=NGINX_500), ORIGIN, "proxy_error_page", "server_error", ()),
    (call(500, body="oops"), ORIGIN, "app_raised", "server_error", ()),
    (call(0, duration=830, error="abort"), ORIGIN, "aborted", "aborted", ()),
    (call(0, duration=10_004, error="timeout"), ORIGIN, "client_timeout", "client_timeout", ()),
    (call(0, url="http://shop.example/api", duration=3, error="network"), ORIGIN, "mixed_content",
     "no_response_cors_or_blocked", ("never_left",)),
    (call(0, url="https://api.partner.example/x", duration=140, error="network"), ORIGIN, "cors_or_blocked",
     "no_response_cors_or_blocked", ()),
    (call(0, url="https://api.partner.example/x", duration=140, error="network"), None, "connection_failed",
     "no_response_network", ("page_origin_unknown",)),
]


@pytest.mark.parametrize("failure, page, cause, kind, qualifiers", CASES, ids=[c[2] for c in CASES])
def test_classify_picks_the_rule(failure, page, cause, kind, qualifiers):
    verdict = classify(gather(failure, session_id=SID, page_origin=page))
    assert (verdict.cause, verdict.kind, verdict.qualifiers) == (cause, kind, qualifiers)


def _rules() -> list[Rule]:
    return [rule for status in (0, 429, 500, 502) for rule in family(status)]


def test_every_rule_is_reached_worded_and_of_a_known_kind():
    assert {rule.cause for rule in _rules()} == {case[2] for case in CASES} == set(texts.TEXTS)
    assert set(KINDS) <= set(texts.HEADLINES) | {"no_response_network", "no_response_cors_or_blocked", "aborted",
                                                 "client_timeout", "client_error", "rate_limited"}
    assert all(rule.kind in KINDS for rule in _rules() if isinstance(rule.kind, str))
    assert {name for name, _ in QUALIFIERS} == set(texts.QUALIFIERS)


def test_every_family_ends_with_a_rule_that_always_holds():
    # A family whose last rule can fail would leave some call without a cause.
    for status in (0, 404, 500, 502, 503, 504, 520, 599):
        assert family(status)[-1].when(gather({"status": status}, session_id=SID, page_origin=None))


def test_no_response_rules_only_for_status_zero_and_gateway_rules_for_cloudflare_codes():
    assert family(0) is NO_RESPONSE_RULES and family(526) is GATEWAY_RULES and family(502) is GATEWAY_RULES


def _templates() -> list[str]:
    found = [t for text in texts.TEXTS.values()
             for t in (text.summary, text.headline, text.title, *text.cannot_show, *text.next_steps)]
    found += [*texts.QUALIFIERS.values(), *texts.STEPS_BY_KIND.values(), *texts.STEPS_BY_STATUS.values(),
              *texts.CANNOT_SHOW_BY_KIND.values(), texts.UNCONFIRMED_PROXY, texts.SEARCH_REQUEST_IDS]
    return found


def test_every_field_a_text_uses_is_filled_in():
    used = {name for t in _templates() for _, name, _, _ in string.Formatter().parse(t) if name}
    assert used <= set(FIELDS)


def test_the_card_keeps_the_page_s_shape():
    c = diagnose(call(502, duration=38, headers=NGINX, body=NGINX_502), session_id=SID, page_origin=ORIGIN)
    assert list(c) == ["title", "summary", "who_answered", "evidence", "cannot_show", "next_steps", "kind",
                       "cause", "confirmed", "matched_by", "proxy", "server"]
    browser_side = {k: v for k, v in c.items() if k not in ("cause", "confirmed", "matched_by", "proxy", "server")}
    assert Card(**browser_side).as_dict() == browser_side


@pytest.mark.parametrize("url", ["https://x:abc/api", "http://[::1/api", "http://h:99999/", "", "//", "\x00"])
@pytest.mark.parametrize("page", [None, "https://x:abc/", "http://[::1", "https://shop.example"])
def test_a_url_no_parser_takes_still_gets_a_card(url, page):
    for status in (0, 502, 404):
        card = diagnose({"url": url, "status": status, "duration_ms": 12, "method": "GET"}, session_id="sess_x_0123456789",
                        page_origin=page)
        assert card["title"] and card["summary"]
