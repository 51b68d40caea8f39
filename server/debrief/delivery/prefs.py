"""Which person gets which event: their preferences, and the unsubscribe token's content.

Pure: no I/O. A person record may carry ``prefs: {<event>: bool}``; an event missing
from it is on (everything is on by default, the weekly digest too: it is the one
message that lists all of a person's open actions, and one click turns it off).
Someone outside the directory (a recap-only address) has an opt-out record instead
(delivery/events.py), with the same shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from debrief.delivery.keys import EVENTS
from debrief.meeting.errors import ValidationError

ALL = "all"  # an unsubscribe token for every event at once
DEFAULTS: dict[str, bool] = dict.fromkeys(EVENTS, True)

# What each event is, in the words the prefs page and the unsubscribe page show.
LABELS: dict[str, str] = {
    "review-scheduled": "A review you are invited to is scheduled (with a calendar invite)",
    "review-starting": "A review you are invited to starts soon",
    "recap-published": "The recap of a review you were asked to receive",
    "action-assigned": "An action is given to you when its review closes",
    "action-due-soon": "One of your actions is due in a few days",
    "action-overdue": "One of your actions is past its due date",
    "action-done": "An action you can verify was marked done",
    "weekly-digest": "A weekly list of your open actions",
    "review-nudge": "An incident review still has no date some days after the incident",
}


def prefs_of(record: Mapping[str, Any] | None) -> dict[str, bool]:
    """Every event with its on/off value for a person (or an opt-out record)."""
    stored = (record or {}).get("prefs")
    stored = stored if isinstance(stored, Mapping) else {}
    return {event: bool(stored.get(event, on)) for event, on in DEFAULTS.items()}


def wants(record: Mapping[str, Any] | None, event: str) -> bool:
    """Whether this person (or address) still receives ``event``."""
    return prefs_of(record).get(event, False)


def validate_prefs(data: Any) -> dict[str, bool]:
    """A partial change ``{<event>: bool}``; unknown events and non-booleans refused."""
    if not isinstance(data, Mapping):
        raise ValidationError("prefs must be an object of event: true/false", field="prefs")
    result: dict[str, bool] = {}
    for event, value in data.items():
        if event not in DEFAULTS:
            raise ValidationError(
                f"unknown event {event!r}; events: {', '.join(EVENTS)}", field=f"prefs.{event}"
            )
        if not isinstance(value, bool):
            raise ValidationError(f"prefs.{event} must be true or false", field=f"prefs.{event}")
        result[str(event)] = value
    return result


def turned_off(current: Mapping[str, Any] | None, event: str) -> dict[str, bool]:
    """The prefs after unsubscribing from ``event`` (or from everything with "all")."""
    prefs = prefs_of(current)
    for name in prefs:
        if event in (ALL, name):
            prefs[name] = False
    return prefs


def token_payload(event: str, *, person_id: str = "", email: str = "", team_id: str = "") -> dict:
    """What an unsubscribe token says: whom (a person, or an address of a team) and what."""
    if event != ALL and event not in DEFAULTS:
        raise ValueError(f"unknown event {event!r}")
    if person_id:
        return {"p": person_id, "e": event}
    return {"m": email.strip().casefold(), "t": team_id, "e": event}


def read_payload(data: Any) -> tuple[str, str, str, str] | None:
    """(person id, email, team id, event) from a verified token payload; None if malformed."""
    if not isinstance(data, dict):
        return None
    event = data.get("e")
    if event != ALL and event not in DEFAULTS:
        return None
    person, email, team = data.get("p", ""), data.get("m", ""), data.get("t", "")
    if not all(isinstance(v, str) for v in (person, email, team)):
        return None
    if not person and not (email and team):
        return None
    return person, email, team, str(event)
