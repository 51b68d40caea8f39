"""A whole review from draft to closed through the API, checked in the shared docs and
in the Markdown export, section by section."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pycrdt import Map, Text

from support.meeting import Review, open_review
from support.server import ServerProcess
from support.yclient import YClient

TIMELINE_CSV = """time,text,source,link,markers
2024-05-01T09:55:00Z,Disk alert fired in the shared channel,alert,https://alerts.example.com/1,first-signal
2024-05-01T10:05:00Z,On-call engineer paged,chat,,first-response
2024-05-01T10:07:00Z,Unmarked log line,log,,
2024-05-01T10:20:00Z,Rollback decided without full data,decision,,decision-under-uncertainty
"""


@pytest.fixture
async def review(server: ServerProcess) -> AsyncIterator[Review]:
    async with httpx.AsyncClient(base_url=server.url) as http:
        yield await open_review(server, http, "Checkout outage on 1 May")


def room_map(client: YClient, name: str) -> dict[str, Any]:
    return client.doc.get(name, type=Map).to_py() or {}


def sections(markdown: str) -> dict[str, str]:
    """'## Heading' -> its body (stripped)."""
    parts = markdown.split("\n## ")
    return {p.split("\n", 1)[0]: p.split("\n", 1)[1].strip() for p in parts[1:]}


async def test_full_meeting_from_draft_to_closed(review: Review) -> None:
    mod, scribe = "moderator", "scribe"
    room = await review.client("observer", "room")
    assert room_map(room, "review")["status"] == "draft"
    assert room_map(room, "meeting")["agenda"][0]["id"] == "opening"

    # --- prepare
    await review.ok(
        mod,
        "PATCH",
        "",
        {
            "scope": {
                "event": "Checkout returned errors for 40 minutes",
                "question": "Why did detection take 25 minutes?",
                "window_start": "2024-05-01T09:00:00Z",
                "window_end": "2024-05-01T12:00:00Z",
                "expected_output": "Findings and owned actions",
            },
            "baseline_metrics": [
                {"name": "Availability", "planned": 99.9, "actual": 99.2, "unit": "%"}
            ],
            "evidence_links": [{"url": "https://tickets.example.com/INC-7", "title": "INC-7"}],
            "settings": {"votes_per_person": 2, "leaders_last": True},
        },
    )
    await room.wait_for(lambda: room_map(room, "review")["scope"]["event"].startswith("Checkout"))
    assert room_map(room, "review")["metrics"][0]["name"] == "Availability"
    await review.ok(mod, "POST", "/status", {"status": "scheduled"})
    ids = [p["id"] for p in (await review.ok(mod, "GET", "/agenda"))["agenda"]]
    reordered = await review.ok(mod, "PUT", "/agenda/order", {"order": ids[::-1]})
    assert reordered["agenda"][0]["id"] == "close"
    await review.ok(mod, "PUT", "/agenda", {"template": "incident"})
    added = await review.ok(
        mod,
        "POST",
        "/agenda/phases",
        {"title": "Open actions from last time", "minutes": 5, "position": 1},
    )
    extra = added["agenda"][1]["id"]
    await review.ok(mod, "PATCH", f"/agenda/phases/{extra}", {"minutes": 3, "index": 2})
    await review.ok(mod, "DELETE", f"/agenda/phases/{extra}")

    timeline = await review.client("participant", "timeline")
    bad = await review.call(
        "participant",
        "POST",
        "/timeline/import",
        {"format": "csv", "content": TIMELINE_CSV + "not a time,oops,,,\n"},
    )
    assert bad.status_code == 422
    assert bad.json()["line"] == 6 and "line 6" in bad.json()["detail"]
    imported = await review.ok(
        "participant",
        "POST",
        "/timeline/import",
        {"filename": "events.csv", "content": TIMELINE_CSV},
    )
    assert imported["imported"] == 4
    await timeline.wait_for(lambda: len(room_map(timeline, "events")) == 4)  # not 4 + 5
    # The same file again adds nothing; a longer export adds only what is new.
    again = await review.ok(
        "participant", "POST", "/timeline/import", {"filename": "a.csv", "content": TIMELINE_CSV}
    )
    assert again["imported"] == 0 and again["already_there"] == 4 and again["ids"] == []
    longer = TIMELINE_CSV + "2025-03-04T10:40:00Z,  Error rate back to NORMAL ,log,,\n"
    more = await review.ok(
        "participant", "POST", "/timeline/import", {"filename": "later.csv", "content": longer}
    )
    assert more["imported"] == 1 and more["already_there"] == 4
    await timeline.wait_for(lambda: len(room_map(timeline, "events")) == 5)
    respaced = longer.replace("back to NORMAL", "back  to normal")
    same = await review.ok(
        "participant", "POST", "/timeline/import", {"filename": "x.csv", "content": respaced}
    )
    assert same["imported"] == 0  # case and spacing do not make an event new

    answered = await review.ok(
        "participant",
        "PUT",
        "/questionnaire",
        {"answers": [{"prompt": 0, "text": "The rollback took two minutes"}]},
    )
    assert answered["answers"][0]["yours"] is True

    # --- meet
    await review.ok(mod, "POST", "/status", {"status": "live"})
    phase = await review.ok(mod, "POST", "/phase", {"phase_id": "opening"})
    assert phase["timer"]["duration_ms"] == 5 * 60_000
    await review.ok(mod, "POST", "/timer/start", {})
    await review.ok(mod, "POST", "/timer/extend", {"minutes": 2})
    paused = await review.ok(mod, "POST", "/timer/pause")
    assert paused["timer"]["status"] == "paused" and paused["timer"]["extended_ms"] == 120_000
    await review.ok(mod, "POST", "/timer/resume")
    await review.ok(mod, "POST", "/timer/reset")
    await review.ok(mod, "POST", "/phase", {"phase_id": "factors"})
    await room.wait_for(lambda: room_map(room, "meeting")["phase_id"] == "factors")

    notes = {}
    for text in ("Pager went to an old rota", "Runbook link was dead", "Runbook link dead"):
        notes[text] = (await review.ok("participant", "POST", "/notes", {"text": text}))["id"]
    await review.ok("scribe", "POST", "/notes", {"kind": "worked-well", "text": "Quick rollback"})
    await room.wait_for(lambda: room.note_counts().get("contributing-factor") == 3)
    assert room_map(room, "note_counts") == {}  # a count is not the doc's content
    assert room_map(room, "notes") == {}
    await review.ok(mod, "POST", "/reveal", {"section": "contributing-factor"})
    await review.ok(mod, "POST", "/reveal", {"section": "worked-well"})
    await room.wait_for(lambda: len(room_map(room, "notes")) == 4)
    await review.ok(mod, "POST", "/reveal", {"section": "questionnaire"})
    await room.wait_for(lambda: len(room_map(room, "notes")) == 5)
    answer = next(n for n in room_map(room, "notes").values() if n["kind"] == "questionnaire")
    assert answer["text"] == "The rollback took two minutes" and answer["prompt"] == 0
    assert answer["question"] == "What went better than expected?"  # shown with its question
    assert "author" not in answer

    info = await review.ok(
        mod, "POST", "/themes", {"title": "Stale runbooks", "category": "process-gap"}
    )
    dupe = await review.ok(mod, "POST", "/themes", {"title": "Runbooks out of date"})
    paging = await review.ok(
        mod,
        "POST",
        "/themes",
        {"title": "Paging went to the wrong rota", "category": "information-gap"},
    )
    await review.ok(mod, "PATCH", f"/themes/{dupe['id']}", {"category": "process-gap"})
    await review.ok(
        mod,
        "POST",
        "/themes/assign",
        {"theme_id": info["id"], "note_ids": [notes["Runbook link was dead"]]},
    )
    await review.ok(
        mod,
        "POST",
        "/themes/assign",
        {"theme_id": dupe["id"], "note_ids": [notes["Runbook link dead"]]},
    )
    await review.ok(
        mod,
        "POST",
        "/themes/assign",
        {"theme_id": paging["id"], "note_ids": [notes["Pager went to an old rota"]]},
    )
    await review.ok(mod, "POST", "/voting/open", {"section": "contributing-factor"})
    await review.ok("participant", "POST", "/votes", {"target": dupe["id"]})
    await review.ok("scribe", "POST", "/votes", {"target": info["id"]})
    await review.ok("scribe", "POST", "/votes", {"target": paging["id"]})
    merged = await review.ok(
        mod, "POST", f"/themes/{info['id']}/merge", {"theme_ids": [dupe["id"]]}
    )
    assert merged["absorbed"] == [dupe["id"]]
    spare = await review.ok(mod, "POST", "/themes", {"title": "Spare"})
    assert (await review.ok(mod, "DELETE", f"/themes/{spare['id']}"))["deleted"] == spare["id"]
    assert room_map(room, "votes") == {}  # hidden until voting closes
    await review.ok(mod, "POST", "/voting/close", {"section": "contributing-factor"})
    await room.wait_for(lambda: room_map(room, "votes").get(info["id"]) == 2)
    assert all(
        n["theme_id"] == info["id"]
        for n in room_map(room, "notes").values()
        if n["text"].startswith("Runbook")
    )

    await review.ok("participant", "POST", "/elmo")
    await room.wait_for(lambda: room_map(room, "meeting")["elmo"]["count"] == 1)
    await review.ok("participant", "POST", "/hands/raise")
    await review.ok(
        mod, "POST", "/hands/lower", {"participant_id": review.people["participant"].participant_id}
    )
    await review.ok(
        mod,
        "PUT",
        f"/attendees/{review.people['moderator'].participant_id}/leader",
        {"leader": True},
    )
    turn = await review.ok(mod, "POST", "/round-robin/start")
    names = [p["name"] for p in turn["speaking"]["order"]]
    assert names[-1] == "Moderator Person" and "Observer Person" not in names
    await review.ok(mod, "POST", "/round-robin/skip")
    await review.ok(mod, "POST", "/round-robin/next")
    await review.ok(mod, "POST", "/round-robin/end")

    # --- close
    good = await review.ok(
        scribe,
        "POST",
        "/actions",
        {
            "what": "Add a disk-pressure runbook linked from the alert",
            "owner": "Priya (SRE)",
            "due": "2999-06-01",
            "verify": "The alert links to the runbook",
            "kind": "preventive-control",
        },
    )
    vague = await review.ok(
        scribe, "POST", "/actions", {"what": "Improve communication", "owner": "the team"}
    )
    assert {p["code"] for p in vague["problems"]} >= {"vague-wording", "shared-owner"}
    assert good["problems"] == []
    draft_action = await review.ok(mod, "POST", "/actions", {"what": "Draft"})
    await review.ok(scribe, "PATCH", f"/actions/{draft_action['id']}", {"owner": "Lee"})
    await review.ok(scribe, "DELETE", f"/actions/{draft_action['id']}")
    listed = await review.ok("observer", "GET", "/actions")
    assert [a["id"] for a in listed["actions"]] == [good["id"], vague["id"]]
    people = (await review.ok("observer", "GET", "/attendees"))["attendees"]
    assert {p["role"] for p in people} == {"moderator", "scribe", "participant"}
    asked = await review.ok("participant", "GET", "/questionnaire")
    assert len(asked["prompts"]) == 4 and len(asked["answers"]) == 1
    assert (await review.ok("observer", "GET", "/timer"))["timer"]["status"] == "idle"
    recap_doc = await review.client(scribe, "recap")
    recap_doc.doc.get("text", type=Text).insert(0, "Group agreed the pager rota needs an owner.")
    recap_doc.doc.get("followups", type=Text).insert(0, "Review the rota in the next ops sync\n")
    # another reader sees both texts: the server has applied (and stored) them
    reader = await review.client("observer", "recap")
    await reader.wait_for(
        lambda: (
            "rota" in str(reader.doc.get("followups", type=Text))
            and "owner" in str(reader.doc.get("text", type=Text))
        )
    )
    await reader.close()
    await review.ok("participant", "POST", "/signoff")
    await review.ok(scribe, "POST", "/signoff")
    await review.ok(scribe, "DELETE", "/signoff")
    await review.ok(scribe, "POST", "/signoff")
    await room.wait_for(lambda: room_map(room, "meeting")["signoffs"] == 2)
    lint = await review.ok(mod, "GET", "/actions/lint")
    assert lint["clean"] is False and lint["actions"][good["id"]] == []

    refused = await review.call(mod, "POST", "/close", {})
    assert refused.status_code == 409 and refused.json()["error"] == "actions-need-work"
    # The moderator reads the actions by their wording: no ids, no API paths.
    said = str(refused.json()["detail"])
    assert "“Improve communication”" in said and vague["id"] not in said and "/" not in said
    draft = await review.ok("observer", "GET", "/recap")
    assert draft["version"] is None and draft["scribe_text"].startswith("Group agreed")
    closed = await review.ok(
        mod, "POST", "/close", {"reason": "Owner for the vague one is agreed next week"}
    )
    version = closed["version"]
    assert len(version["hash"]) == 64 and version["number"] == 1
    await room.wait_for(lambda: room_map(room, "review")["status"] == "closed")
    assert room_map(room, "review")["version"] == version

    # --- frozen: every doc read-only for every role, every command refused
    recap_doc.doc.get("text", type=Text).insert(0, "late edit ")
    await recap_doc.wait_for(lambda: len(recap_doc.denied) == 1)
    late = await review.client("moderator", "timeline")
    late.doc.get("events", type=Map)["late"] = "x"
    await late.wait_for(lambda: len(late.denied) == 1)
    again = await review.call(mod, "POST", "/elmo")
    assert again.status_code == 409 and again.json()["error"] == "review-closed"
    assert (await review.ok("observer", "GET", "/recap"))["scribe_text"].startswith("Group")

    export = await review.call("observer", "GET", "/export?format=markdown", expect=200)
    assert "v1.md" in export.headers["content-disposition"]
    check_markdown(export.text, version)
    html = await review.call("observer", "GET", "/export?format=html", expect=200)
    assert version["hash"] in html.text and "<!DOCTYPE html>" in html.text
    data = (await review.call("observer", "GET", "/export?format=json", expect=200)).json()
    assert data["version"] == version and data["close_reason"].startswith("Owner")
    asked = {"question": "What went better than expected?"}
    assert data["questionnaire"] == [{**asked, "answers": ["The rollback took two minutes"]}]
    assert "<li>What went better than expected?<ul><li>The rollback took two minutes" in html.text
    for client in (room, timeline, recap_doc, late):
        await client.close()


def check_markdown(markdown: str, version: dict[str, Any]) -> None:
    head, _, _ = markdown.partition("\n## ")
    assert head.startswith("# Checkout outage on 1 May\n")
    assert f"Version 1 · sha256 {version['hash']}" in head and "Status: Closed" in head
    assert "Sign-offs: 2" in head
    got = sections(markdown)
    assert list(got) == [
        "Scope",
        "Baseline metrics",
        "Timeline",
        "Contributing factors",
        "What worked well",
        "Questionnaire answers",
        "Action items",
        "Follow-ups",
        "Parked topics",
        "Notes from the scribe",
    ]
    scope = got["Scope"]
    assert "**Event under review:** Checkout returned errors for 40 minutes" in scope
    assert "**Time window:** 2024-05-01T09:00:00Z to 2024-05-01T12:00:00Z" in scope
    assert "[INC-7](<https://tickets.example.com/INC-7>)" in scope
    assert got["Baseline metrics"].splitlines()[2] == "| Availability | 99.9 | 99.2 | % |"
    timeline = got["Timeline"].splitlines()
    assert len(timeline) == 3  # only marked events, oldest first
    assert timeline[0].startswith("- 2024-05-01T09:55:00Z · Disk alert fired")
    assert "First signal" in timeline[0] and "Unmarked" not in got["Timeline"]
    factors = got["Contributing factors"]
    assert factors.index("### Process gap") < factors.index("### Information gap")
    assert "- Stale runbooks (2 votes)" in factors
    assert "  - Runbook link was dead" in factors and "  - Runbook link dead" in factors
    assert "Runbooks out of date" not in factors  # merged away
    assert "- Paging went to the wrong rota (1 vote)" in factors
    assert "Quick rollback" in got["What worked well"]
    assert got["Questionnaire answers"] == (
        "- What went better than expected?\n  - The rollback took two minutes"
    )
    actions = got["Action items"]
    assert actions.startswith(
        "1. Add a disk-pressure runbook linked from the alert (Owner: Priya (SRE); Due: 2999-06-01;"
    )
    assert "2. Improve communication (Owner: the team; Due: not set" in actions
    assert "Reason given: Owner for the vague one is agreed next week" in actions
    assert got["Follow-ups"] == "- Review the rota in the next ops sync"
    assert got["Notes from the scribe"] == "Group agreed the pager rota needs an owner."


async def test_revoking_an_invite_ends_its_sessions(review: Review) -> None:
    extra = await review.join("participant", "Dana")
    socket = await review.client(extra, "timeline")
    invites = (await review.ok("moderator", "GET", "/invites"))["invites"]
    code = next(i["code"] for i in invites if i["role"] == "participant")
    done = await review.ok("moderator", "POST", f"/invites/{code}/revoke")
    assert done["sessions_ended"] == 2  # Dana and "Participant Person"
    assert await socket.wait_closed() == 4401
    gone = await review.call(extra, "GET", "")
    assert gone.status_code == 401
    again = await review.call("moderator", "POST", f"/invites/{code}/revoke")
    assert again.status_code == 409

    rotated = await review.ok("moderator", "POST", "/invites/rotate", {"role": "observer"})
    assert rotated["sessions_ended"] == 1 and not rotated["your_session_ended"]
    assert (await review.call("observer", "GET", "")).status_code == 401
    newcomer = await review.http.post("/api/join", json={"invite": rotated["invite"]["url"]})
    assert newcomer.status_code == 200 and newcomer.json()["role"] == "observer"
    old = await review.http.post("/api/join", json={"invite": review.invites["observer"]})
    assert old.status_code == 403


async def test_notes_are_private_and_editable_by_their_author_only(review: Review) -> None:
    room = await review.client("observer", "room")
    mine = await review.ok("participant", "POST", "/notes", {"text": "Alert was muted"})
    await room.wait_for(lambda: room.note_counts().get("contributing-factor") == 1)
    other = await review.call("scribe", "PATCH", f"/notes/{mine['id']}", {"text": "hijack"})
    assert other.status_code == 404  # someone else's note reads like a missing one
    assert (await review.call("scribe", "DELETE", f"/notes/{mine['id']}")).status_code == 404
    edited = await review.ok("participant", "PATCH", f"/notes/{mine['id']}", {"text": "Muted"})
    assert edited["text"] == "Muted" and edited["yours"] is True
    listed = await review.ok("participant", "GET", "/notes/mine")
    assert [n["text"] for n in listed["notes"]] == ["Muted"]
    assert (await review.ok("scribe", "GET", "/notes/mine"))["notes"] == []
    await review.ok("participant", "DELETE", f"/notes/{mine['id']}")
    await room.wait_for(lambda: room.note_counts().get("contributing-factor", 0) == 0)
    await room.close()
