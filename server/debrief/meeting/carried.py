"""Actions carried into a review from earlier ones: where its docs keep them.

- The `room` doc (written only by the server) keeps each carried action's live status in
  ``meeting["carried"][gid] = {"status", "at_ms"}``. Every client sees a change there
  and refetches the list (GET .../carried); the status at close is read from here.
- The `recap` doc keeps, in its root map ``carried``, what the recap needs of each one:
  the wording as it was carried in and a line of what was said about it, so both are
  frozen with the recap at close.

Pure: plain data in, plain data out, plus the doc changes the http layer runs inside
`MeetingService.edit`. Every reader is total (docdata): stored docs may hold anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pycrdt import Doc, Map

from . import docdata as dd

ROOT = "carried"  # root map of the recap doc; also the key in the room doc's `meeting`
MAX_CARRIED = 100  # actions one review carries (overdue first when there are more)
MAX_NOTE = 1_000
STATUSES = ("open", "in-progress", "done", "verified", "wont-do")
_ENTRY_KEYS = ("what", "owner", "due", "review_id", "review_title", "status")


# --- the room doc: live statuses ------------------------------------------------------


def statuses(meeting: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """gid -> {status, at_ms} from the `meeting` map as plain data."""
    found = dd.record(meeting.get(ROOT)) or {}
    result = {}
    for gid, raw in found.items():
        entry = dd.record(raw)
        if entry is not None:
            result[gid] = {"status": dd.text(entry.get("status")),
                           "at_ms": dd.count(entry.get("at_ms"))}  # fmt: skip
    return result


def changed_statuses(doc: Doc, changes: Mapping[str, str]) -> dict[str, str]:
    """The statuses in `changes` that the room doc does not show yet."""
    current = statuses({ROOT: doc.get("meeting", type=Map).get(ROOT)})
    return {gid: s for gid, s in changes.items() if current.get(gid, {}).get("status") != s}


def set_statuses(doc: Doc, changes: Mapping[str, str], at_ms: int) -> bool:
    """Show new statuses in the room doc; writes nothing (and returns False) when every
    status already reads so, so refetching clients do not start a loop of updates."""
    changed = changed_statuses(doc, changes)
    if not changed:
        return False
    meeting = doc.get("meeting", type=Map)
    current = statuses({ROOT: meeting.get(ROOT)})
    fresh = {gid: {"status": status, "at_ms": at_ms} for gid, status in changed.items()}
    meeting[ROOT] = {**current, **fresh}
    return True


# --- the recap doc: wording as carried in, and the note -------------------------------


def entry(gid: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """One carried action as the recap doc keeps it, in its documented shape. `status`
    is the status it had when carried in; `rank` its place in the walk (overdue first)."""
    return {
        "gid": gid,
        **{key: dd.text(raw.get(key)) for key in _ENTRY_KEYS},
        "rank": dd.count(raw.get("rank")),
        "added_ms": dd.count(raw.get("added_ms")),
        "note": dd.text(raw.get("note")),
        "note_by": dd.text(raw.get("note_by")),
    }


def entries(doc: Doc) -> dict[str, dict[str, Any]]:
    """gid -> entry of every carried action in the recap doc."""
    return {gid: entry(gid, raw) for gid, raw in dd.entries(doc.get(ROOT, type=Map))}


def in_order(found: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Entries in the order of the walk."""
    return sorted((entry(g, e) for g, e in found.items()), key=lambda e: (e["rank"], e["gid"]))


def add_entries(doc: Doc, found: Mapping[str, Mapping[str, Any]], at_ms: int) -> list[str]:
    """Carry in the actions not carried yet (`found`: gid -> action state or index
    summary, in walk order), up to MAX_CARRIED in all; returns the gids added."""
    root = doc.get(ROOT, type=Map)
    rank = len(root)
    fresh = [gid for gid in found if gid not in root][: max(0, MAX_CARRIED - rank)]
    for offset, gid in enumerate(fresh):
        summary = found[gid]
        root[gid] = {
            **{key: dd.text(summary.get(key)) for key in _ENTRY_KEYS},
            "rank": rank + offset,
            "added_ms": at_ms,
            "note": "",
            "note_by": "",
        }
    return fresh


def set_note(doc: Doc, gid: str, note: str, by: str) -> bool:
    """Write what was said about a carried action; False when it is not carried here."""
    root = doc.get(ROOT, type=Map)
    raw = dd.record(root.get(gid))
    if raw is None:
        return False
    root[gid] = {**entry(gid, raw), "note": note, "note_by": by}
    return True


# --- the recap section -----------------------------------------------------------------


def for_recap(room_statuses: Any, recap_entries: Any) -> list[dict[str, Any]]:
    """Rows of "Open actions reviewed", in the order of the walk: the wording as carried
    in, the status when carried in and as the meeting last saw it, and the note."""
    live = dd.record(room_statuses) or {}
    found = {g: r for g, r in (dd.record(recap_entries) or {}).items() if dd.record(r) is not None}
    rows = []
    for carried in in_order({g: dd.record(r) or {} for g, r in found.items()}):
        now = dd.record(live.get(carried["gid"])) or {}
        rows.append({
            "what": carried["what"],
            "owner": carried["owner"],
            "due": carried["due"],
            "from_review": carried["review_title"],
            "status_carried": carried["status"],
            "status": dd.text(now.get("status")) or carried["status"],
            "note": carried["note"],
        })  # fmt: skip
    return rows
