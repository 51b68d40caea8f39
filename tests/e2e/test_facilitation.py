"""Facilitation: the moderator's prompts per phase, and the parking lot, which the
recap keeps."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from support.meeting import Review, open_review
from support.server import ServerProcess
from support.teams import new_team, team_review


@pytest.fixture
async def review(server: ServerProcess) -> AsyncIterator[Review]:
    async with httpx.AsyncClient(base_url=server.url) as http:
        yield await open_review(server, http, "Payments timeouts")


async def test_prompts_are_the_moderators(review: Review) -> None:
    prompts = await review.ok("moderator", "GET", "/prompts")
    assert prompts["phase_hints"]["timeline"].startswith("Walk the events in order")
    assert "What information was available at this moment?" in prompts["timeline_questions"]
    refused = await review.call("participant", "GET", "/prompts")
    assert refused.status_code == 403


async def test_parked_topics_stay_in_the_recap(review: Review) -> None:
    parked = await review.ok("participant", "POST", "/parking-lot", {"text": "  Vendor SLA  "})
    assert parked["text"] == "Vendor SLA" and parked["id"].startswith("pk_")
    await review.ok("scribe", "POST", "/parking-lot", {"text": "Rota tooling"})
    observer = await review.call("observer", "POST", "/parking-lot", {"text": "x"})
    assert observer.status_code == 403
    blank = await review.call("participant", "POST", "/parking-lot", {"text": "   "})
    assert blank.status_code == 422
    topics = (await review.ok("observer", "GET", "/parking-lot"))["topics"]
    assert [t["text"] for t in topics] == ["Vendor SLA", "Rota tooling"]

    # only the moderator takes a topic off
    rota = topics[1]["id"]
    assert (await review.call("participant", "DELETE", f"/parking-lot/{rota}")).status_code == 403
    await review.ok("moderator", "DELETE", f"/parking-lot/{rota}")
    gone = await review.call("moderator", "DELETE", f"/parking-lot/{rota}")
    assert gone.status_code == 404 and gone.json()["error"] == "unknown-topic"

    recap = await review.ok("observer", "GET", "/recap")
    assert recap["parked_topics"] == ["Vendor SLA"]
    export = await review.call("observer", "GET", "/export?format=markdown", expect=200)
    assert "## Parked topics\n\n- Vendor SLA" in export.text


async def test_an_agenda_saved_as_a_template_starts_another_review(review: Review) -> None:
    mod = "moderator"
    await review.ok(mod, "POST", "/agenda/phases", {"title": "Customer impact", "minutes": 7})
    await review.ok(mod, "PATCH", "", {"questionnaire": ["What surprised you?"]})
    saved = await review.ok(mod, "POST", "/templates", {"name": "  Payments review "})
    assert saved["name"] == "Payments review" and saved["questions"] == 1
    base = (await review.ok(mod, "GET", "/agenda"))["agenda"]
    assert saved["phases"] == len(base) and saved["minutes"] == sum(p["minutes"] for p in base)

    async with httpx.AsyncClient(base_url=review.server.url) as http:
        other = await open_review(review.server, http, "Another payments incident")
        listed = (await other.ok(mod, "GET", "/templates"))["templates"]
        assert saved["id"] in [t["id"] for t in listed]
        await other.ok(mod, "POST", f"/templates/{saved['id']}/apply")
        agenda = await other.ok(mod, "GET", "/agenda")
        assert [p["title"] for p in agenda["agenda"]] == [p["title"] for p in base]
        assert agenda["template"] == "saved:" + saved["id"]
        assert (await other.ok(mod, "GET", ""))["questionnaire"] == ["What surprised you?"]
        # a participant may not save or see them
        assert (await other.call("participant", "GET", "/templates")).status_code == 403
        # they are the team's: a review of another team neither lists nor applies them
        elsewhere = await team_review(review.server, await new_team(http, "Search"), "DNS")
        assert (await elsewhere.ok(mod, "GET", "/templates"))["templates"] == []
        foreign = await elsewhere.call(mod, "POST", f"/templates/{saved['id']}/apply")
        assert foreign.status_code == 404 and foreign.json()["error"] == "unknown-template"
        assert (await elsewhere.call(mod, "DELETE", f"/templates/{saved['id']}")).status_code == 404
        await other.ok(mod, "DELETE", f"/templates/{saved['id']}")
        gone = await other.call(mod, "POST", f"/templates/{saved['id']}/apply")
        assert gone.status_code == 404 and gone.json()["error"] == "unknown-template"
