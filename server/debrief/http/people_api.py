"""The team directory as seen from inside a review: pick an action's owner, or add one.

Everyone in the meeting but observers may read the review's team directory (without the
personal links, which are their owners' secrets); the moderator and the scribe, who
write the action items, may add a person.
"""

from __future__ import annotations

from typing import Any

from debrief.http.commands import ATTENDEES, RECAP_WRITERS, Call, CommandSet
from debrief.http.teams_api import AddPerson, add_person_answer
from debrief.teams.keys import team_of

api = CommandSet("people")


def person_view(person: dict[str, Any]) -> dict[str, Any]:
    return {k: person.get(k, "") for k in ("id", "name", "email", "handle")}


async def team_id_of(call: Call) -> str:
    return team_of(await call.meeting.review(call.review_id))


@api.command("GET", "/people", "The people of the review's team (to pick an owner from)",
             roles=ATTENDEES)  # fmt: skip
async def review_people(call: Call, body: None) -> Any:
    people = await call.svc.teams.people.people(await team_id_of(call))
    return {"people": [person_view(p) for p in people]}


@api.command("POST", "/people", "Add a person to the review's team (or find them: same "
             "name, 200)", roles=RECAP_WRITERS, body=AddPerson, status=201)  # fmt: skip
async def add_review_person(call: Call, body: AddPerson) -> Any:
    return await add_person_answer(
        call.svc.teams.people.add, await team_id_of(call), body, person_view
    )
