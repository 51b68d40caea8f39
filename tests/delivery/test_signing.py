"""The JSON webhook's signature: what Debrief signs, and the recipe of docs/webhooks.md."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest

from debrief.delivery.signing import BadSignature, new_secret, sign, verify
from support.delivery_receivers import documented_verifier

BODY = b'{"id":"abc","event":"action-overdue","data":{"what":"rotate keys"}}'


def test_signature_is_hmac_of_timestamp_dot_body() -> None:
    secret = new_secret()
    header = sign(secret, BODY, 1_767_225_600)
    expected = hmac.new(secret.encode(), b"1767225600." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1767225600,v1={expected}"


@pytest.mark.parametrize("check", ["server", "documented"])
def test_recipe_accepts_fresh_and_refuses_tampered_or_stale(check: str) -> None:
    documented = documented_verifier()

    def accepts(secret: str, body: bytes, header: str, now: float) -> bool:
        if check == "documented":
            return documented(secret, body, header, now=now)
        try:
            verify(secret, body, header, now)
        except BadSignature:
            return False
        return True

    secret, now = new_secret(), time.time()
    sent = int(now)
    header = sign(secret, BODY, sent)
    assert accepts(secret, BODY, header, now)
    assert accepts(secret, BODY, header, sent + 300)  # five minutes late: still fine
    assert not accepts(secret, BODY, header, sent + 301)  # a replay after 5 minutes
    assert not accepts(secret, BODY, header, sent - 301)  # from the future
    assert not accepts(secret, BODY + b" ", header, now)  # one byte more
    assert not accepts(new_secret(), BODY, header, now)  # another team's secret
    moved = header.replace(f"t={sent}", f"t={sent + 1}")  # a new time on an old MAC
    assert not accepts(secret, BODY, moved, now)
    for broken in ("", "v1=abc", f"t={sent}", "t=x,v1=abc", "nonsense"):
        assert not accepts(secret, BODY, broken, now)
    rotated = f"{header},v1={'0' * 64}"  # several v1 while a secret is rotated
    assert accepts(secret, BODY, rotated, now)


def test_secrets_are_long_and_new() -> None:
    first, second = new_secret(), new_secret()
    assert first != second and first.startswith("whsec_") and len(first) > 40
