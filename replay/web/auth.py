"""Who may look: viewer logins (signed cookie) for pages, bearer tokens (or a login) for the API."""
from __future__ import annotations

import functools
import hmac
import secrets

from flask import redirect, request, session, url_for

from replay.web.services import services
from replay.web.errors import ApiError


def current_user() -> str | None:
    email = session.get("user")
    if email and services().accounts.user_exists(email):
        return email
    return None


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
    return bool(expected and value) and hmac.compare_digest(expected, value)
