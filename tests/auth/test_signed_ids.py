"""Signed tokens: a verified token is remembered, and still expires and cannot be forged."""

from __future__ import annotations

import time

import pytest

from debrief.auth import sessions
from debrief.auth.sessions import AuthError, SignedIds

TTL_S = 3600


def make_ids(salt: str = "session") -> SignedIds:
    return SignedIds("s3cret", salt, TTL_S, missing="missing", expired="expired", invalid="invalid")


class Clock:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = time.time()
        monkeypatch.setattr(time, "time", lambda: self.now)  # itsdangerous's clock too


def test_a_verified_token_is_not_checked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    ids = make_ids()
    token = ids.sign("s_1")
    checks: list[str] = []
    loads = ids._serializer.loads

    def counted(*args: object, **kwargs: object) -> object:
        checks.append(token)
        return loads(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ids._serializer, "loads", counted)
    assert [ids.unsign(token) for _ in range(3)] == ["s_1"] * 3
    assert len(checks) == 1


def test_a_remembered_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock(monkeypatch)
    ids = make_ids()
    token = ids.sign("s_1")
    assert ids.unsign(token) == "s_1"
    clock.now += TTL_S - 1
    assert ids.unsign(token) == "s_1"
    clock.now += 2
    with pytest.raises(AuthError, match="expired"):
        ids.unsign(token)
    with pytest.raises(AuthError, match="expired"):  # forgotten, then checked afresh
        ids.unsign(token)


def test_forged_and_foreign_tokens_are_refused_beside_remembered_ones() -> None:
    ids = make_ids()
    token = ids.sign("s_1")
    assert ids.unsign(token) == "s_1"
    payload, _, signature = token.rpartition(".")
    forged = f"{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    for bad in (forged, token + "x", make_ids("other-kind").sign("s_1")):
        with pytest.raises(AuthError, match="invalid"):
            ids.unsign(bad)
    with pytest.raises(AuthError, match="missing"):
        ids.unsign("")


def test_the_memory_of_tokens_is_bounded() -> None:
    ids = make_ids()
    tokens = [ids.sign(f"s_{i}") for i in range(sessions.VERIFIED_TOKENS + 10)]
    for i, token in enumerate(tokens):
        assert ids.unsign(token) == f"s_{i}"
    assert len(ids._verified) == sessions.VERIFIED_TOKENS
    assert ids.unsign(tokens[0]) == "s_0"  # forgotten, so checked again: still good
