"""Close is atomic: closed <=> a frozen version exists (issue 10, item 6).

A real SQLite storage and real rooms; the one fault is a storage that fails the write
of the frozen version, as a full disk or a lost connection would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Map

from debrief.auth.roles import DocName
from debrief.meeting import closing
from debrief.meeting.errors import Conflict
from debrief.meeting.review import new_review
from debrief.meeting.service import FROZEN_RECAP, REVIEW, MeetingService
from debrief.metrics import Metrics
from debrief.rooms import RoomManager
from debrief.storage.base import StorageError
from debrief.storage.sqlite import SQLiteStorage


class FailingVersionWrite(SQLiteStorage):
    """Refuses to store a frozen version while `failing` is set."""

    failing = True

    async def put_record(
        self, kind: str, record_id: str, data: dict[str, Any], review_id: str | None = None
    ) -> None:
        if kind == FROZEN_RECAP and self.failing:
            raise StorageError("sqlite: disk full (injected)")
        await super().put_record(kind, record_id, data, review_id)


@pytest.fixture
async def meeting(tmp_path: Path) -> AsyncIterator[MeetingService]:
    storage = FailingVersionWrite(tmp_path / "db.sqlite3")
    await storage.open()
    rooms = RoomManager(storage, Metrics(), unload_grace_s=0.1)
    rooms.start()
    service = MeetingService(storage, rooms)
    try:
        yield service
    finally:
        await rooms.shutdown()
        await storage.close()


async def live_review(meeting: MeetingService) -> str:
    review = {**new_review("Outage"), "id": "r_atomic", "status": "live"}
    await meeting.storage.put_record(REVIEW, review["id"], review, review["id"])
    await meeting.initialize(review)
    return review["id"]


async def room_status(meeting: MeetingService, review_id: str) -> Any:
    return await meeting.read(
        review_id, DocName.ROOM, lambda d: d.get("review", type=Map).get("status")
    )


async def test_failed_version_write_leaves_the_review_open_and_closable(
    meeting: MeetingService,
) -> None:
    review_id = await live_review(meeting)
    storage = meeting.storage
    assert isinstance(storage, FailingVersionWrite)
    with pytest.raises(StorageError):
        await closing.close(meeting, review_id, "closing with a reason")
    review = await meeting.review(review_id)
    assert review["status"] == "live" and review["version"] is None
    assert await storage.get_record(FROZEN_RECAP, review_id) is None
    assert await room_status(meeting, review_id) == "live"
    await meeting.writable_review(review_id)  # commands still work

    storage.failing = False
    final = await closing.close(meeting, review_id, "closing with a reason")
    review = await meeting.review(review_id)
    assert review["status"] == "closed" and review["version"] == final["version"]
    frozen = await storage.get_record(FROZEN_RECAP, review_id)
    assert frozen is not None and frozen["version"] == final["version"]
    assert frozen["audit"] == []
    assert await room_status(meeting, review_id) == "closed"
    with pytest.raises(Conflict):
        await closing.close(meeting, review_id, "again")


async def test_closed_review_docs_refuse_server_edits(meeting: MeetingService) -> None:
    review_id = await live_review(meeting)
    meeting.storage.failing = False  # type: ignore[attr-defined]
    await closing.close(meeting, review_id, "reason")
    with pytest.raises(Conflict):
        await meeting.edit(review_id, DocName.RECAP, lambda d: d.get("actions", type=Map))
