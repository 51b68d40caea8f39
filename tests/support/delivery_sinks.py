"""Where delivery tests send to (a real SMTP server and HTTP receiver, from
support/delivery_receivers.py) and a team's side of it: its people, its delivery log.
"""

from __future__ import annotations

from typing import Any

from support.delivery_receivers import Accepted, Hit, HoldingSmtp, WebhookReceiver, wait_for
from support.server import wait_until
from support.teams import Team

__all__ = [
    "Hit",
    "HttpSink",
    "Mail",
    "SmtpSink",
    "add_person",
    "email_on",
    "emailed",
    "link_of",
    "log",
    "mails_to",
    "settled",
    "wait_for",
]

# The servers themselves are support/delivery_receivers.py's, under the names these
# tests know them by: every message or request is kept, nothing held or refused.
Mail = Accepted
SmtpSink = HoldingSmtp
HttpSink = WebhookReceiver


# --- a team's side of it: its people, its delivery log -----------------------------


async def add_person(team: Team, name: str, email: str) -> dict[str, Any]:
    person: dict[str, Any] = await team.ok("member", "POST", "/people",
                                           {"name": name, "email": email})  # fmt: skip
    return person


async def link_of(team: Team, person_id: str) -> str:
    """The code of a person's personal link (admins see the links)."""
    people = (await team.ok("admin", "GET", "/people"))["people"]
    return str(next(p for p in people if p["id"] == person_id)["link"]).rsplit("/", 1)[-1]


async def email_on(team: Team) -> None:
    """Turn the team's email on, through the server's SMTP settings (DEBRIEF_SMTP_*)."""
    await team.ok("admin", "PUT", "/channels", {"email": {"enabled": True, "smtp": None}})


async def log(team: Team) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await team.ok("admin", "GET", "/deliveries?limit=200"))[
        "deliveries"
    ]
    return found


async def settled(team: Team) -> list[dict[str, Any]]:
    """The team's delivery log once nothing in it is waiting or being sent."""
    entries: list[dict[str, Any]] = []

    async def done() -> bool:
        entries[:] = await log(team)
        return all(e["state"] in ("sent", "dead", "failed") for e in entries)

    await wait_until(done)
    return entries


def emailed(entries: list[dict[str, Any]], event: str) -> list[str]:
    """Every address an email of ``event`` was queued to (repeats kept: count them)."""
    return sorted(to for e in entries if e["event"] == event and e["channel"] == "email"
                  for to in e["to"])  # fmt: skip


def mails_to(smtp: SmtpSink, to: str, prefix: str) -> list[Mail]:
    return smtp.find(lambda m: to in m.to and m.subject.startswith(prefix))
