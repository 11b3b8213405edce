"""The cause the overview counts for a call is the one its diagnosis confirms."""
from replay.core.evidence.cause_codes import confirmed_cause

RAISED = {"matched_by": "session", "status": 500, "method": "POST", "url": "/api/pay",
          "exception": {"type": "KeyError", "message": "'total'", "stack": []}, "logs": []}


def test_the_app_answering_the_browsers_5xx_itself_is_app_error():
    assert confirmed_cause({"server": RAISED}, 500) == "app_error"
    assert confirmed_cause({"server": {**RAISED, "exception": None}}, 500) == "app_error"


def test_a_gateway_answer_is_not_the_apps_and_no_evidence_confirms_nothing():
    # The browser got nginx's 502: the app's 500 record sits beside it, but nginx answered.
    assert confirmed_cause({"server": RAISED}, 502) is None
    assert confirmed_cause({"server": None, "proxy": None}, 500) is None
    assert confirmed_cause(None, 500) is None
