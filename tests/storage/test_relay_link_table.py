"""The relay's link table: each tailer reads only its own rooms; a link that was
replaced by a newer one for the same room is not dropped by the old one's close."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from debrief.storage.redis_relay import TAILERS, LinkTable, tailer_of


def link(key: str) -> Any:
    return SimpleNamespace(room=SimpleNamespace(key=key))


def test_each_tailer_sees_its_own_rooms_only() -> None:
    table = LinkTable()
    links = [link(f"review-{i}/room") for i in range(200)]
    for each in links:
        table.add(each)
    seen = [table.of_tailer(t) for t in range(TAILERS)]
    assert sum(len(s) for s in seen) == 200 == len(table)
    for t, own in enumerate(seen):
        assert all(tailer_of(each.room.key) == t for each in own)


def test_a_replaced_link_does_not_remove_its_successor() -> None:
    table = LinkTable()
    old, new = link("r1/room"), link("r1/room")
    table.add(old)
    table.add(new)  # the room attached again
    table.discard(old)
    assert table.get("r1/room") is new
    assert table.of_tailer(tailer_of("r1/room")) == [new]
    table.discard(new)
    assert table.get("r1/room") is None and len(table) == 0
    assert table.of_tailer(tailer_of("r1/room")) == []
