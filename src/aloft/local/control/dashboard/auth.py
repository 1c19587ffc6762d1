"""The dashboard's browser session: the control token once in a URL, then a cookie.

Stateless on purpose (a restarted daemon keeps the browser logged in): the cookie is a random
session id signed with the platform token, and the CSRF token of a session is derived from both.
Nothing here stores or logs the token itself.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

COOKIE = "aloft_session"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-aloft-csrf"


def _sign(token: str, purpose: str, value: str) -> str:
    return hmac.new(token.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def new_session(token: str) -> str:
    """A cookie value for a new browser session: `<id>.<signature>`."""
    sid = secrets.token_urlsafe(18)
    return f"{sid}.{_sign(token, 'session', sid)}"


def session_id(token: str, cookie_value: str | None) -> str | None:
    """The session id of a valid cookie value, else None."""
    if not cookie_value or "." not in cookie_value:
        return None
    sid, signature = cookie_value.rsplit(".", 1)
    if not sid or not hmac.compare_digest(signature, _sign(token, "session", sid)):
        return None
    return sid


def csrf_token(token: str, sid: str) -> str:
    """The token every state-changing form of session `sid` must carry."""
    return _sign(token, "csrf", sid)[:32]


def csrf_ok(token: str, sid: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(str(given), csrf_token(token, sid))


def token_ok(token: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(str(given).encode(), token.encode())


def parse_cookies(header: str | None) -> dict[str, str]:
    cookies: dict[str, str] = {}
    for part in (header or "").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep:
            cookies.setdefault(name, value)
    return cookies


def set_cookie(value: str) -> str:
    """The Set-Cookie header: HttpOnly (no script reads it), SameSite=Strict (no other site
    sends it), scoped to the dashboard's path."""
    return f"{COOKIE}={value}; Path=/_aloft/; HttpOnly; SameSite=Strict"
