"""Who may look: viewer logins (a server-side record named by the cookie) for pages, bearer tokens (or a login) for the API."""
from __future__ import annotations

import functools
import hmac
import secrets
from dataclasses import dataclass

from flask import g, redirect, request, session, url_for

from replay.core.accounts import normalize_email
from replay.core.login_throttle import LoginThrottle, address_bucket
from replay.web.services import services
from replay.web.errors import ApiError


def current_user() -> str | None:
    """The user of this request's login record (read once per request), or None."""
    if "replay_user" not in g:
        svc = services()
        g.replay_user = svc.accounts.logins.user_of(session.get("login"), svc.settings.LOGIN_SEEN_INTERVAL_S)
    return g.replay_user


def client_address() -> str:
    """What failed logins are counted under: the connection's address (the proxies' when TRUSTED_PROXIES is set)."""
    return address_bucket(request.remote_addr, services().settings.LOGIN_IPV6_PREFIX_BITS)


@dataclass(frozen=True)
class LoginOutcome:
    user: str | None
    # Refused unchecked while throttled: seconds until a try is allowed again.
    retry_after_s: int = 0


def log_in(email: str, password: str) -> LoginOutcome:
    """Check a login form under the throttle; if right, start a new login in a new session."""
    svc = services()
    email = normalize_email(email)
    throttle = LoginThrottle(svc.redis, svc.keys, svc.settings)
    attempt = throttle.begin(email, client_address())
    if attempt.refused:
        return LoginOutcome(None, attempt.retry_after_s)
    password_id = svc.accounts.authenticate(email, password)
    if password_id is None:
        return LoginOutcome(None)  # the attempt stays counted as a failure
    throttle.succeeded(attempt)
    logins = svc.accounts.logins
    logins.revoke(session.get("login"))  # this browser's previous login, if any, ends
    session.clear()  # nothing set before the login carries over (no fixation)
    session.permanent = True
    session["login"] = logins.create(email, password_id, svc.settings.LOGIN_TTL_S)
    session["csrf"] = secrets.token_urlsafe(24)
    g.replay_user = email
    return LoginOutcome(email)


def log_out() -> None:
    """End this browser's login: its record goes, so a copy of the cookie no longer works."""
    services().accounts.logins.revoke(session.get("login"))
    session.clear()
    g.replay_user = None


def login_required(view):
    """Pages: send strangers to the login form, and back here afterwards."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if current_user() is None:
            return redirect(url_for("pages.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper


def api_auth(view):
    """API: `Authorization: Bearer <token>`, or a logged-in viewer's cookie."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not services().accounts.check_token(token.strip()):
                raise ApiError(401, "unauthorized", "the bearer token is not valid")
        elif current_user() is None:
            raise ApiError(401, "unauthorized", "send Authorization: Bearer <token> (replay token create)")
        return view(*args, **kwargs)

    return wrapper


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


def check_csrf(value: str | None) -> bool:
    expected = session.get("csrf")
    if not (isinstance(expected, str) and isinstance(value, str) and expected and value):
        return False
    # As bytes: compare_digest raises TypeError on a str with non-ASCII characters.
    return hmac.compare_digest(expected.encode(), value.encode("utf-8", "surrogatepass"))
