"""Viewer users: one password check of the same cost whether or not the email is known."""
from werkzeug.security import generate_password_hash

from replay.core import accounts as accounts_mod
from replay.core.accounts import DUMMY_PASSWORD_HASH, Accounts


def test_the_dummy_hash_has_the_method_and_parameters_of_a_new_password():
    assert DUMMY_PASSWORD_HASH.split("$")[0] == generate_password_hash("anything").split("$")[0]
    new_salt = generate_password_hash("anything").split("$")[1]
    assert len(DUMMY_PASSWORD_HASH.split("$")[1]) == len(new_salt)


def test_an_unknown_email_checks_a_password_against_the_dummy_hash(redis, keys, monkeypatch):
    accounts = Accounts(redis, keys)
    accounts.create_user("dev@example.com", "correct horse")
    checked = []
    real = accounts_mod.check_password_hash
    monkeypatch.setattr(accounts_mod, "check_password_hash", lambda h, p: checked.append(h) or real(h, p))
    assert accounts.authenticate("nobody@example.com", "correct horse") is None
    assert accounts.authenticate("dev@example.com", "wrong") is None
    assert accounts.authenticate(" DEV@example.com ", "correct horse") is not None
    assert checked[0] == DUMMY_PASSWORD_HASH
    assert [h.split("$")[0] for h in checked] == [DUMMY_PASSWORD_HASH.split("$")[0]] * 3


def test_the_dummy_hash_never_matches(redis, keys):
    accounts = Accounts(redis, keys)
    for guess in ("", "password", "correct horse"):
        assert accounts.authenticate("nobody@example.com", guess) is None


def test_each_password_gets_a_new_password_id(redis, keys):
    accounts = Accounts(redis, keys)
    accounts.create_user("dev@example.com", "correct horse")
    first = accounts.authenticate("dev@example.com", "correct horse")
    accounts.reset_password("dev@example.com", "correct horse")
    assert first and accounts.authenticate("dev@example.com", "correct horse") not in (None, first)
