"""The optional bearer token that ingest and the query API both require when it is set."""

from __future__ import annotations

import hmac

SCHEME = "bearer"


def authorized(token: str | None, header: str | None) -> bool:
    """Whether an ``Authorization`` header carries ``token`` (always true when no token is set).

    Compared in constant time, so response timing does not reveal how much of a guess was right.
    """
    if token is None:
        return True
    scheme, _, given = (header or "").strip().partition(" ")
    if scheme.lower() != SCHEME:
        given = ""
    return hmac.compare_digest(given.strip().encode(), token.encode())


def check_token(token: str) -> str | None:
    """Why ``token`` cannot be used in an HTTP header, or None."""
    if not token or any(c.isspace() or not c.isprintable() or ord(c) > 126 for c in token):
        return "the token must be non-empty printable ASCII without spaces (it travels in an HTTP header)"
    return None


UNAUTHENTICATED = (
    "this collector needs a token: send the header `Authorization: Bearer TOKEN` "
    "(with OpenTelemetry SDKs: OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20TOKEN)"
)
