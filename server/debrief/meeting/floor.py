"""Who has the floor: raised hands, round-robin turns and ELMO (pure helpers).

The speaking state lives in `room.meeting.speaking`; these functions take the plain
dicts and return new ones, raising before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .errors import Conflict, NotFound

UNNAMED = "Unnamed attendee"


def attendees(
    sessions: Iterable[Mapping[str, Any]], leaders: Sequence[str]
) -> list[dict[str, Any]]:
    """Everyone who joined as moderator, scribe or participant, in join order, once each."""
    seen: dict[str, dict[str, Any]] = {}
    for session in sorted(sessions, key=lambda s: s.get("created_ms", 0)):
        if session.get("role") == "observer":
            continue
        pid = session["participant_id"]
        name = (session.get("name") or "").strip()
        if pid not in seen:
            seen[pid] = {
                "participant_id": pid,
                "name": name or UNNAMED,
                "role": session.get("role"),
                "leader": pid in leaders,
            }
    return list(seen.values())


def speaking_order(people: Sequence[Mapping[str, Any]], leaders_last: bool) -> list[dict[str, Any]]:
    """Round-robin order: join order; leaders move to the end when the setting says so."""
    order = [
        {"participant_id": p["participant_id"], "name": p["name"], "leader": bool(p["leader"])}
        for p in people
    ]
    if leaders_last:
        order = [p for p in order if not p["leader"]] + [p for p in order if p["leader"]]
    return order


def start_round(order: list[dict[str, Any]]) -> dict[str, Any]:
    if not order:
        raise Conflict("nobody has joined yet, so there is nobody to give a turn to",
                       error="no-attendees")  # fmt: skip
    return {"active": True, "order": order, "index": 0, "current": order[0], "skipped": []}


def advance(speaking: Mapping[str, Any], *, skip: bool = False) -> dict[str, Any]:
    """Next turn; `skip` records that the current speaker passed. Ends after the last."""
    if not speaking.get("active"):
        raise Conflict("no round-robin is running", error="no-round")
    order = list(speaking.get("order") or [])
    index = int(speaking.get("index") or 0)
    skipped = list(speaking.get("skipped") or [])
    current = speaking.get("current")
    if skip and current:
        skipped.append(current["participant_id"])
    index += 1
    if index >= len(order):
        return {"active": False, "order": order, "index": index, "current": None,
                "skipped": skipped}  # fmt: skip
    return {"active": True, "order": order, "index": index, "current": order[index],
            "skipped": skipped}  # fmt: skip


def end_round(speaking: Mapping[str, Any]) -> dict[str, Any]:
    if not speaking.get("active"):
        raise Conflict("no round-robin is running", error="no-round")
    return {**speaking, "active": False, "current": None}


def raise_hand(hands: Sequence[Mapping[str, Any]], pid: str, name: str, now: int) -> list[Any]:
    if any(h["participant_id"] == pid for h in hands):
        raise Conflict("your hand is already raised", error="hand-raised")
    return [*hands, {"participant_id": pid, "name": name or UNNAMED, "raised_ms": now}]


def lower_hand(hands: Sequence[Mapping[str, Any]], pid: str) -> list[Any]:
    if all(h["participant_id"] != pid for h in hands):
        raise NotFound("that hand is not raised", error="hand-not-raised")
    return [h for h in hands if h["participant_id"] != pid]
