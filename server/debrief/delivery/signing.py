"""Signing of the generic JSON webhook (pure: no I/O).

Header ``X-Debrief-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + raw
body)>``. The timestamp is inside what is signed, so a receiver that refuses a ``t`` more
than five minutes from its own clock refuses a captured request replayed later.
docs/webhooks.md tells receivers how to check it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "X-Debrief-Signature"
DELIVERY_HEADER = "X-Debrief-Delivery"
EVENT_HEADER = "X-Debrief-Event"
TOLERANCE_S = 300  # receivers refuse a signature older (or newer) than this
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A webhook's signing secret (shown to the admin once, at creation)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The value of the signature header for ``body`` sent at ``timestamp`` (unix s)."""
    return f"t={timestamp},v1={_mac(secret, timestamp, body)}"


class BadSignature(ValueError):
    """The signature header is missing, malformed, stale or does not match."""


def parse(header: str) -> tuple[int, list[str]]:
    """The timestamp and the v1 signatures of a header (a sender may list several v1
    values while a secret is being rotated)."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise BadSignature("the signature header needs t=<seconds> and v1=<hex>")
    return timestamp, signatures


def verify(
    secret: str, body: bytes, header: str, now: float, tolerance_s: int = TOLERANCE_S
) -> int:
    """Check a signature header the way a receiver should; returns its timestamp.

    Raises BadSignature when it does not match or ``t`` is more than ``tolerance_s``
    away from ``now`` (a replay of an old request)."""
    timestamp, signatures = parse(header)
    if abs(now - timestamp) > tolerance_s:
        raise BadSignature(f"the signature is {abs(now - timestamp):.0f} s old; too old to trust")
    expected = _mac(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, given) for given in signatures):
        raise BadSignature("the signature does not match the body")
    return timestamp
