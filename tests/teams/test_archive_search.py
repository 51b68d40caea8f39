"""The archive's search through its term indexes, on both backends (real SQLite, real Redis)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from debrief.storage.base import Storage
from debrief.storage.sqlite import SQLiteStorage
from debrief.teams.archive import Archive, ReviewQuery, search_terms
from support.scaleout import SHARED_REDIS, drop_prefix

TEAM = "t_search"


@pytest.fixture(params=["sqlite", "redis"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    prefix = f"debrief-test-{secrets.token_hex(4)}:"
    store: Storage
    if request.param == "redis":
        from debrief.storage.redis import RedisStorage

        store = RedisStorage(SHARED_REDIS, prefix=prefix)
    else:
        store = SQLiteStorage(tmp_path / "debrief.sqlite3")
    await store.open()
    try:
        yield store
    finally:
        await store.close()
        if request.param == "redis":
            drop_prefix(SHARED_REDIS, prefix)


def review(n: int, title: str, status: str = "closed", event: str = "") -> dict[str, Any]:
    return {
        "id": f"r_{n}",
        "team_id": TEAM,
        "title": title,
        "status": status,
        "created_ms": 1_000 + n,
        "scope": {"event": event, "question": ""},
    }


async def ids(archive: Archive, **query: Any) -> tuple[list[str], int]:
    rows, total = await archive.list_reviews(TEAM, ReviewQuery(**query))
    return [r["id"] for r in rows], total


def test_terms_are_words_and_their_prefixes() -> None:
    assert search_terms("DNS outage") == {"dns", "out", "outa", "outag", "outage"}
    assert "ch" not in search_terms("checkout") and "che" in search_terms("checkout")


async def test_search_filters_and_keeps_up_with_edits(storage: Storage) -> None:
    archive = Archive(storage)
    await archive.review_changed(review(1, "Checkout latency spike"), "incident")
    await archive.review_changed(review(2, "DNS outage", event="checkout down"), "incident")
    await archive.review_changed(review(3, "Checkout launch", status="live"), "launch")
    await archive.review_changed(review(4, "Payments: Überweisungen verspätet"), "incident")

    assert await ids(archive, q="checkout") == (["r_3", "r_2", "r_1"], 3)  # newest first
    assert await ids(archive, q="CHECK") == (["r_3", "r_2", "r_1"], 3)  # a prefix, any case
    assert await ids(archive, q="ch") == ([], 0)  # too short for a prefix, no such word
    assert await ids(archive, q="checkout spike") == (["r_1"], 1)  # every word
    assert await ids(archive, q="checkout", status="closed") == (["r_2", "r_1"], 2)
    assert await ids(archive, q="checkout", kind="launch") == (["r_3"], 1)
    assert await ids(archive, kind="incident", status="closed") == (["r_4", "r_2", "r_1"], 3)
    assert await ids(archive, q="checkout", offset=1, limit=1) == (["r_2"], 3)
    assert await ids(archive, q="überw") == (["r_4"], 1)  # not only ASCII words
    assert await ids(archive, q="nothing") == ([], 0)

    # an edit moves the review between terms, statuses and kinds
    await archive.review_changed(review(1, "Database failover", status="closed"), "launch")
    assert await ids(archive, q="checkout") == (["r_3", "r_2"], 2)
    assert await ids(archive, q="failo", kind="launch") == (["r_1"], 1)
    await archive.review_changed(review(3, "Checkout launch", status="closed"), "launch")
    assert await ids(archive, q="checkout", status="live") == ([], 0)
    assert await ids(archive, q="checkout", status="closed") == (["r_3", "r_2"], 2)

    # a long word is looked up by its first letters and then checked whole
    long_title = "Supercalifragilisticexpialidocious deploy"
    await archive.review_changed(review(5, long_title), "incident")
    assert await ids(archive, q="supercalifragilisticexpia") == (["r_5"], 1)
    assert await ids(archive, q="supercalifragilisticexpiXX") == ([], 0)

    # a deleted review leaves no row behind
    await archive.forget(TEAM, "r_2")
    assert await ids(archive, q="checkout") == (["r_3"], 1)
    assert await storage.index_count(f"team/{TEAM}/terms/dns") == 0
