"""Client-id bindings: first writer wins, and nobody can use up a doc's ids."""

from __future__ import annotations

from pathlib import Path

from debrief.rooms.client_ids import (
    CLIENT_ID,
    MAX_CLIENT_IDS_PER_PARTICIPANT,
    MAX_NEW_IDS_PER_WRITE,
    ClientIds,
)
from debrief.storage.sqlite import SQLiteStorage

KEY = "r_1/timeline"


async def test_bindings_are_bounded_per_write_and_per_participant(tmp_path: Path) -> None:
    storage = SQLiteStorage(tmp_path / "db.sqlite3")
    await storage.open()
    try:
        ids = ClientIds(storage, KEY, server_client_id=1)
        too_many = list(range(100, 101 + MAX_NEW_IDS_PER_WRITE))
        assert not await ids.claim(too_many, "p_ana", {})
        assert await storage.list_records(CLIENT_ID, "r_1") == []
        next_id = 1_000
        for _ in range(MAX_CLIENT_IDS_PER_PARTICIPANT // MAX_NEW_IDS_PER_WRITE):
            batch = list(range(next_id, next_id + MAX_NEW_IDS_PER_WRITE))
            assert await ids.claim(batch, "p_ana", {})
            next_id += MAX_NEW_IDS_PER_WRITE
        assert not await ids.claim([next_id], "p_ana", {})  # her page loads are used up
        assert await ids.claim([next_id], "p_ben", {})  # nobody else's are
        assert not await ids.claim([1_000], "p_ben", {})  # and Ana's stay hers

        again = ClientIds(storage, KEY, server_client_id=2)  # the room loaded afresh
        await again.load()
        assert again.known_owner(1_000) == "p_ana"
        assert again.known_owner(next_id) == "p_ben"
        assert not await again.claim([next_id + 1], "p_ana", {})
        assert not await again.claim([7], "p_ana", {7: 3})  # structs but no binding
    finally:
        await storage.close()
