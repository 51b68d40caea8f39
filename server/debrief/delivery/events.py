"""The events Debrief tells people about: who receives each one, and queuing it.

Called at the moment something happens (a review scheduled or closed, an action marked
done: the one-line hooks in http/review_api.py, http/exports_api.py, teams/live.py) and
by the scheduler (delivery/scheduler.py) for the time-based ones. Each builds the
deliveries (one email per recipient, each with its own unsubscribe link; one per team
webhook that takes the event) and queues them in the outbox. A delivery's id comes from
its dedup key, channel and recipient, so queuing the same reminder again is a no-op.

Recipients:
- review-scheduled, review-starting: the review's attendees (people of the directory).
- recap-published: only the review's recap_recipients (people or plain addresses).
- action-assigned, action-due-soon, action-overdue, weekly-digest: the action's owner.
- action-done: "whoever verifies". Debrief cannot know who will be moderator or scribe
  of a review from its people, so: the review's attendees other than the owner.
- review-nudge: the review's attendees.
Every event except the weekly digest also goes to the team's webhooks that take it.
A person who turned an event off (prefs, or an unsubscribe link) gets nothing of it.

A failure here is logged, never raised: the change that caused the event is stored.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, ParamSpec

from itsdangerous import BadSignature, URLSafeSerializer

from debrief.delivery import compose, keys
from debrief.delivery import prefs as pf
from debrief.delivery.compose import Message
from debrief.meeting.service import FROZEN_RECAP, REVIEW
from debrief.meeting.values import parse_time
from debrief.storage.base import Storage
from debrief.teams.keys import ACTION_STATE, PERSON, team_of

log = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "debrief-unsubscribe"
OPTOUT = "delivery-optout"  # id "<team>:<address>": prefs of an address outside the directory
# Indexes this module keeps (the scheduler reads them).
SCHEDULE_INDEX = "schedule/reviews"  # member: review id; score: scheduled start (ms)
NUDGE_INDEX = "schedule/unscheduled"  # draft reviews with an incident end; score: its ms

P = ParamSpec("P")


def quiet(func: Callable[P, Awaitable[Any]]) -> Callable[P, Awaitable[None]]:
    """An event source that logs its failure instead of failing the request it follows."""

    @functools.wraps(func)
    async def run(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            await func(*args, **kwargs)
        except Exception:
            log.exception("delivery: %s failed; nothing was sent for it", func.__name__)

    return run


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def base_url(settings: Any) -> str:
    """Links in messages: the public URL when set, else this server's own address."""
    public = getattr(settings, "public_url", None)
    if public:
        return str(public).rstrip("/")
    host = getattr(settings, "host", "127.0.0.1")
    return f"http://{host}:{getattr(settings, 'port', 8000)}"


# --- unsubscribe tokens ----------------------------------------------------------


def signer(settings: Any) -> URLSafeSerializer:
    # Not timed: a link in an old email must still stop the messages.
    return URLSafeSerializer(settings.resolve_secret(), salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(settings: Any, payload: dict[str, Any]) -> str:
    token: str = signer(settings).dumps(payload)
    return token


def read_token(settings: Any, token: str) -> tuple[str, str, str, str] | None:
    """(person id, address, team id, event) of a valid token, else None."""
    if len(token) > 1_000:
        return None
    try:
        data = signer(settings).loads(token)
    except BadSignature:
        return None
    return pf.read_payload(data)


def optout_id(team_id: str, email: str) -> str:
    return f"{team_id}:{email.strip().casefold()}"


# --- recipients --------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str
    person_id: str = ""  # "" for an address outside the directory
    link: str = ""  # the person's personal link code


async def person_recipient(storage: Storage, team_id: str, person_id: str) -> Recipient | None:
    person = await storage.get_record(PERSON, person_id) if person_id else None
    if person is None or person.get("team_id") != team_id or not person.get("email"):
        return None
    return Recipient(str(person["email"]), str(person.get("name") or ""), person_id,
                     str(person.get("link") or ""))  # fmt: skip


async def wants(storage: Storage, team_id: str, who: Recipient, event: str) -> bool:
    if who.person_id:
        return pf.wants(await storage.get_record(PERSON, who.person_id), event)
    return pf.wants(await storage.get_record(OPTOUT, optout_id(team_id, who.email)), event)


async def people(storage: Storage, team_id: str, person_ids: Iterable[str]) -> list[Recipient]:
    found = []
    for person_id in dict.fromkeys(person_ids):
        recipient = await person_recipient(storage, team_id, person_id)
        if recipient is not None:
            found.append(recipient)
    return found


async def recap_recipients(storage: Storage, team_id: str, review: Mapping[str, Any]) -> list:
    found: list[Recipient] = []
    seen: set[str] = set()
    for entry in review.get("recap_recipients") or []:
        if not isinstance(entry, dict):
            continue
        if entry.get("person_id"):
            who = await person_recipient(storage, team_id, str(entry["person_id"]))
        elif entry.get("email"):
            who = Recipient(str(entry["email"]), str(entry.get("name") or ""))
        else:
            who = None
        if who is not None and who.email.casefold() not in seen:
            seen.add(who.email.casefold())
            found.append(who)
    return found


# --- building and queuing deliveries ----------------------------------------------


async def channels(storage: Storage, team_id: str) -> dict[str, Any]:
    return await storage.get_record(keys.CHANNELS, team_id) or {}


def email_on(found: Mapping[str, Any]) -> bool:
    """Email goes out only when the team admin turned it on (the worker refuses it
    otherwise); its SMTP server is the team's own or the server's (DEBRIEF_SMTP_*)."""
    email = found.get("email")
    return isinstance(email, Mapping) and bool(email.get("enabled"))


def webhooks_for(found: Mapping[str, Any], event: str) -> list[dict[str, Any]]:
    hooks = found.get("webhooks")
    result = []
    for hook in hooks if isinstance(hooks, list) else []:
        if not isinstance(hook, dict) or not hook.get("enabled", True) or not hook.get("id"):
            continue
        events = hook.get("events") or [keys.ALL_EVENTS]
        if keys.ALL_EVENTS in events or event in events:
            result.append(hook)
    return result


class Batch:
    """The deliveries of one event occurrence, queued together."""

    def __init__(self, svc: Any, team_id: str, key: str) -> None:
        self.svc, self.team_id, self.key = svc, team_id, key
        self.items: list[dict[str, Any]] = []

    def _base(self, message: Message, channel: str, to: list[str]) -> dict[str, Any]:
        return {
            "id": keys.delivery_id(self.key, channel, to),
            "team_id": self.team_id,
            "event": message.event,
            "key": self.key,
            "channel": channel,
            "to": to,
            "created_ms": now_ms(),
        }

    async def email(self, who: Recipient, message: Message, ics: str | None = None) -> None:
        """One email to one recipient, unless they turned this event off."""
        if not await wants(self.svc.storage, self.team_id, who, message.event):
            return
        payload = pf.token_payload(message.event, person_id=who.person_id, email=who.email,
                                   team_id=self.team_id)  # fmt: skip
        url = f"{base_url(self.svc.settings)}/u/{unsubscribe_token(self.svc.settings, payload)}"
        self.items.append({
            **self._base(message, keys.EMAIL, [who.email]),
            "subject": message.subject,
            "text": compose.email_text(message, url),
            "html": message.html or None,
            "payload": None,
            "ics": ics,
            "unsubscribe_url": url,
        })  # fmt: skip

    async def webhooks(self, message: Message) -> None:
        found = await channels(self.svc.storage, self.team_id)
        for hook in webhooks_for(found, message.event):
            channel = keys.webhook_channel(str(hook["id"]))
            base = self._base(message, channel, [])
            self.items.append({**base, "subject": message.subject, "text": message.body,
                               "html": None, "payload": compose.webhook_payload(message),
                               "ics": None,
                               "unsubscribe_url": None})  # fmt: skip

    async def send(self) -> int:
        """Queue what was built (emails only when the team has email on); how many new."""
        from debrief.delivery import outbox  # the outbox imports storage only; no cycle

        found = await channels(self.svc.storage, self.team_id)
        mail = email_on(found)
        queued = 0
        for item in self.items:
            if item["channel"] == keys.EMAIL and not mail:
                continue
            if await outbox.enqueue(self.svc.storage, item):
                queued += 1
        if queued:
            kick = getattr(getattr(self.svc, "delivery", None), "kick", None)
            if callable(kick):
                kick()
        return queued


# --- reviews: schedule and indexes -------------------------------------------------


def starts_ms(review: Mapping[str, Any]) -> int | None:
    schedule = review.get("schedule")
    if not isinstance(schedule, Mapping) or not schedule.get("starts_at"):
        return None
    try:
        return int(parse_time(schedule["starts_at"]).timestamp() * 1000)
    except ValueError:
        return None


def incident_end_ms(review: Mapping[str, Any]) -> int | None:
    scope = review.get("scope")
    end = scope.get("window_end") if isinstance(scope, Mapping) else None
    if not end:
        return None
    try:
        return int(parse_time(end).timestamp() * 1000)
    except ValueError:
        return None


async def keep_indexes(storage: Storage, review: Mapping[str, Any]) -> None:
    """The scheduler's view of a review: its start while it is not closed, and its
    incident's end while it is a draft without a date (the nudge)."""
    review_id, status = str(review["id"]), review.get("status")
    start = starts_ms(review)
    summary = {"review_id": review_id, "team_id": team_of(dict(review))}
    if start is not None and status in ("draft", "scheduled", "live"):
        await storage.index_put(SCHEDULE_INDEX, review_id, float(start), summary)
    else:
        await storage.index_remove(SCHEDULE_INDEX, review_id)
    end = incident_end_ms(review)
    if end is not None and status == "draft" and start is None:
        await storage.index_put(NUDGE_INDEX, review_id, float(end), summary)
    else:
        await storage.index_remove(NUDGE_INDEX, review_id)


@quiet
async def review_saved(svc: Any, review: dict[str, Any]) -> None:
    """A review's fields or status changed (Prepare): keep the indexes; while it is
    scheduled, invite its attendees (one added later gets the invite then; a new date
    sends a new one: the dedup key holds the start)."""
    await keep_indexes(svc.storage, review)
    if review.get("status") == "scheduled":
        await review_scheduled(svc, review)


async def review_scheduled(svc: Any, review: dict[str, Any]) -> None:
    from debrief.delivery.ics import invite_ics  # helper 13C's; imported when needed

    team_id, base = team_of(review), base_url(svc.settings)
    starts = (review.get("schedule") or {}).get("starts_at", "")
    batch = Batch(svc, team_id, f"review-scheduled:{review['id']}:{starts}")
    message = compose.review_scheduled(review, base)
    attendees = await people(svc.storage, team_id, review.get("attendees") or [])
    ics = None
    if starts:
        ics = invite_ics(review, "Debrief", base, attendees=[(a.name, a.email) for a in attendees],
                         sequence=now_ms() // 60_000)  # fmt: skip
    for who in attendees:
        await batch.email(who, message, ics)
    await batch.webhooks(message)
    await batch.send()


async def review_starting(svc: Any, review: dict[str, Any], now: datetime) -> None:
    start = starts_ms(review)
    if start is None:
        return
    team_id = team_of(review)
    starts = review["schedule"]["starts_at"]
    minutes = max(0, round((start - now.timestamp() * 1000) / 60_000))
    batch = Batch(svc, team_id, f"review-starting:{review['id']}:{starts}")
    message = compose.review_starting(review, base_url(svc.settings), minutes)
    for who in await people(svc.storage, team_id, review.get("attendees") or []):
        await batch.email(who, message)
    await batch.webhooks(message)
    await batch.send()


async def review_nudge(svc: Any, review: dict[str, Any], days: int) -> None:
    team_id = team_of(review)
    batch = Batch(svc, team_id, f"review-nudge:{review['id']}")
    message = compose.review_nudge(review, base_url(svc.settings), days)
    for who in await people(svc.storage, team_id, review.get("attendees") or []):
        await batch.email(who, message)
    await batch.webhooks(message)
    await batch.send()


# --- close: the recap and the actions' owners ----------------------------------------


@quiet
async def review_closed(svc: Any, review_id: str) -> None:
    """After close (and the actions' indexing): the recap to the review's recap
    recipients and the team's webhooks, and to each owner their actions."""
    storage: Storage = svc.storage
    review = await storage.get_record(REVIEW, review_id)
    if review is None or review.get("status") != "closed":
        return
    await keep_indexes(storage, review)
    team_id, base = team_of(review), base_url(svc.settings)
    recap = await storage.get_record(FROZEN_RECAP, review_id)
    batch = Batch(svc, team_id, f"recap-published:{review_id}")
    message = compose.recap_published(review, recap, base)
    for who in await recap_recipients(storage, team_id, review):
        await batch.email(who, message)
    await batch.webhooks(message)
    await batch.send()
    await actions_assigned(svc, review)


async def actions_assigned(svc: Any, review: dict[str, Any]) -> None:
    storage: Storage = svc.storage
    team_id, base, review_id = team_of(review), base_url(svc.settings), str(review["id"])
    states = await storage.list_records(ACTION_STATE, review_id)
    states.sort(key=lambda s: (s.get("position", 0), s.get("gid", "")))
    owned: dict[str, list[dict[str, Any]]] = {}
    for state in states:
        if state.get("owner_id"):
            owned.setdefault(str(state["owner_id"]), []).append(state)
    for person_id, mine in owned.items():
        who = await person_recipient(storage, team_id, person_id)
        if who is None:
            continue
        batch = Batch(svc, team_id, f"action-assigned:{review_id}:{person_id}")
        page = compose.person_link(base, who.link)
        await batch.email(who, compose.actions_assigned(review, mine, base, page))
        await batch.send()
    if owned:
        batch = Batch(svc, team_id, f"action-assigned:{review_id}")
        await batch.webhooks(compose.team_actions_assigned(
            review, [s for mine in owned.values() for s in mine], base))  # fmt: skip
        await batch.send()


# --- actions after close -------------------------------------------------------------


@quiet
async def action_changed(svc: Any, state: dict[str, Any]) -> None:
    """After every status change: when it just became done, ask for verification."""
    history = state.get("history") or []
    last = history[-1] if history else {}
    if state.get("status") != "done" or last.get("to") != "done" or last.get("from") == "done":
        return
    storage: Storage = svc.storage
    review = await storage.get_record(REVIEW, str(state.get("review_id") or "")) or {}
    team_id = str(state.get("team_id") or team_of(review))
    owner = str(state.get("owner_id") or "")
    key = f"action-done:{state['gid']}:{last.get('at_ms', state.get('updated_ms', ''))}"
    batch = Batch(svc, team_id, key)
    message = compose.action_done(state, base_url(svc.settings))
    verifiers = [p for p in review.get("attendees") or [] if p != owner]
    for who in await people(storage, team_id, verifiers):
        await batch.email(who, message)
    await batch.webhooks(message)
    await batch.send()


async def action_due_soon(svc: Any, team_id: str, action: dict[str, Any], today: date) -> None:
    await _owner_reminder(svc, team_id, action, "action-due-soon", today)


async def action_overdue(svc: Any, team_id: str, action: dict[str, Any], today: date) -> None:
    await _owner_reminder(svc, team_id, action, "action-overdue", today)


async def _owner_reminder(
    svc: Any, team_id: str, action: dict[str, Any], event: str, today: date
) -> None:
    """One reminder per action and due date (a new date reminds again)."""
    base = base_url(svc.settings)
    batch = Batch(svc, team_id, f"{event}:{action['gid']}:{action['due']}")
    who = await person_recipient(svc.storage, team_id, str(action.get("owner_id") or ""))
    build = compose.action_due_soon if event == "action-due-soon" else compose.action_overdue
    page = compose.person_link(base, who.link) if who else ""
    message = build(action, base, today, page)
    if who is not None:
        await batch.email(who, message)
    await batch.webhooks(build(action, base, today))  # no personal link to a channel
    await batch.send()


async def weekly_digest(
    svc: Any, team_id: str, person_id: str, actions: list[dict[str, Any]], today: date
) -> None:
    who = await person_recipient(svc.storage, team_id, person_id)
    if who is None or not actions:
        return
    year, week, _ = today.isocalendar()
    label = f"{year}-W{week:02d}"
    batch = Batch(svc, team_id, f"weekly-digest:{person_id}:{label}")
    page = compose.person_link(base_url(svc.settings), who.link)
    await batch.email(who, compose.weekly_digest(who.name, actions, today, label, page))
    await batch.send()


def utc_now() -> datetime:
    return datetime.now(UTC)
