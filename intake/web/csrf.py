"""CSRF protection for the browser: one random token per session, in every form, checked on every POST.

The token travels in the form field `csrf_token` or, for the page's own fetch() calls, in the
`X-CSRF-Token` header. The JSON API does not use cookies (bearer tokens), so it needs none.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request

FIELD = "csrf_token"
HEADER = "x-csrf-token"


class CsrfError(Exception):
    """The POST did not carry this session's token."""


def token(request: Request) -> str:
    """This session's token, created on first use."""
    value = request.session.get("csrf")
    if not value:
        value = secrets.token_urlsafe(32)
        request.session["csrf"] = value
    return value


def rotate(request: Request) -> str:
    """A fresh token (at login and logout), so that one seen before cannot be replayed."""
    request.session["csrf"] = secrets.token_urlsafe(32)
    return request.session["csrf"]


async def check(request: Request) -> None:
    """Raise CsrfError unless the request carries the session's token (form field or header)."""
    expected = request.session.get("csrf")
    sent = request.headers.get(HEADER)
    if not sent:
        form = await request.form()
        value = form.get(FIELD)
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(str(expected), str(sent)):
        raise CsrfError()
