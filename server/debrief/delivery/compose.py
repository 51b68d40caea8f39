"""What each event says: subject and text of the email, and the webhook payloads.

Pure: plain dicts in, plain dicts out. Who receives a message and when is decided in
delivery/events.py and delivery/scheduler.py; here only the words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from debrief.meeting import recap as rc

MAX_LISTED = 50  # actions one message lists; the rest is "and N more"


@dataclass(frozen=True)
class Message:
    """One event's words: the same for every recipient except the unsubscribe footer."""

    event: str
    subject: str
    body: str
    link: str = ""
    html: str = ""
    data: dict[str, Any] = field(default_factory=dict)  # facts for JSON webhooks


def review_link(base: str, review_id: str) -> str:
    return f"{base}/r/{review_id}"


def recap_link(base: str, review_id: str) -> str:
    return f"{base}/r/{review_id}/recap"


def person_link(base: str, code: str) -> str:
    return f"{base}/p/{code}" if code else ""


def _when(review: Mapping[str, Any]) -> str:
    schedule = review.get("schedule")
    if not isinstance(schedule, Mapping) or not schedule.get("starts_at"):
        return "no date set yet"
    return f"{schedule['starts_at']} (UTC), {schedule.get('minutes', 60)} minutes"


def _action_line(action: Mapping[str, Any], *, with_owner: bool = False) -> str:
    parts = [f"- {action.get('what') or 'An action'}"]
    if with_owner and action.get("owner"):
        parts.append(f"owner: {action['owner']}")
    if action.get("due"):
        parts.append(f"due {action['due']}")
    if action.get("review_title"):
        parts.append(f'from "{action["review_title"]}"')
    return " · ".join(parts)


def _listed(actions: Iterable[Mapping[str, Any]], *, with_owner: bool = False) -> list[str]:
    items = list(actions)
    lines = [_action_line(a, with_owner=with_owner) for a in items[:MAX_LISTED]]
    if len(items) > MAX_LISTED:
        lines.append(f"... and {len(items) - MAX_LISTED} more")
    return lines


def _brief(action: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("gid", "review_id", "review_title", "what", "owner", "owner_id", "due", "status")
    return {k: action.get(k, "") for k in keys}


def review_scheduled(review: Mapping[str, Any], base: str) -> Message:
    title, link = str(review.get("title") or "A review"), review_link(base, str(review["id"]))
    body = "\n".join([
        f"The review \"{title}\" is scheduled: {_when(review)}.",
        "The invite is attached; add it to your calendar.",
        f"Open the review: {link}",
    ])  # fmt: skip
    data = {"review_id": review["id"], "title": title, "schedule": review.get("schedule")}
    return Message("review-scheduled", f"Review scheduled: {title}", body, link, data=data)


def review_starting(review: Mapping[str, Any], base: str, minutes_left: int) -> Message:
    title, link = str(review.get("title") or "A review"), review_link(base, str(review["id"]))
    soon = "now" if minutes_left <= 0 else f"in {minutes_left} minutes"
    body = f'The review "{title}" starts {soon} ({_when(review)}).\nJoin here: {link}'
    data = {"review_id": review["id"], "title": title, "schedule": review.get("schedule")}
    return Message("review-starting", f"Starting {soon}: {title}", body, link, data=data)


def recap_published(review: Mapping[str, Any], recap: Any, base: str) -> Message:
    """The frozen recap itself, so that someone with no session can read it all."""
    title, link = str(review.get("title") or "A review"), recap_link(base, str(review["id"]))
    intro = f'The review "{title}" has closed. Its recap follows (also at {link}).'
    markdown = rc.to_markdown(recap) if recap else ""
    body = f"{intro}\n\n{markdown}".rstrip()
    html = rc.to_html(recap) if recap else ""
    data = {"review_id": review["id"], "title": title, "recap_url": link}
    return Message("recap-published", f"Recap: {title}", body, link, html=html, data=data)


def actions_assigned(
    review: Mapping[str, Any], actions: Sequence[Mapping[str, Any]], base: str, page: str = ""
) -> Message:
    """To one owner: the actions of a closed review that are theirs."""
    title, link = str(review.get("title") or "A review"), recap_link(base, str(review["id"]))
    count = len(actions)
    noun = "an action" if count == 1 else f"{count} actions"
    lines = [f'The review "{title}" closed and gave you {noun}:', *_listed(actions)]
    if page:
        lines.append(f"Update their status (done, with evidence) from your page: {page}")
    lines.append(f"The recap: {link}")
    data = {"review_id": review["id"], "title": title, "actions": [_brief(a) for a in actions]}
    return Message("action-assigned", f"Yours from \"{title}\": {noun}", "\n".join(lines),
                   link, data=data)  # fmt: skip


def team_actions_assigned(
    review: Mapping[str, Any], actions: Sequence[Mapping[str, Any]], base: str
) -> Message:
    """To the team's webhooks: every owned action of a closed review, with its owner."""
    title, link = str(review.get("title") or "A review"), recap_link(base, str(review["id"]))
    lines = [f"The review \"{title}\" closed with {len(actions)} owned actions:",
             *_listed(actions, with_owner=True), f"The recap: {link}"]  # fmt: skip
    data = {"review_id": review["id"], "title": title, "actions": [_brief(a) for a in actions]}
    return Message("action-assigned", f"Actions from \"{title}\"", "\n".join(lines), link,
                   data=data)  # fmt: skip


def action_due_soon(action: Mapping[str, Any], base: str, today: date, page: str = "") -> Message:
    days = (date.fromisoformat(str(action["due"])) - today).days
    when = "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} days"
    link = recap_link(base, str(action.get("review_id") or ""))
    lines = [f"Due {when} ({action['due']}):", _action_line(action, with_owner=True)]
    if page:
        lines.append(f"Mark it done or say how it goes: {page}")
    lines.append(f"The review: {link}")
    return Message("action-due-soon", f"Due {when}: {action.get('what')}", "\n".join(lines),
                   link, data={"action": _brief(action), "days_left": days})  # fmt: skip


def action_overdue(action: Mapping[str, Any], base: str, today: date, page: str = "") -> Message:
    days = (today - date.fromisoformat(str(action["due"]))).days
    link = recap_link(base, str(action.get("review_id") or ""))
    late = "1 day" if days == 1 else f"{days} days"
    lines = [f"Past its due date ({action['due']}, {late} ago):",
             _action_line(action, with_owner=True),
             "If it is done, mark it done with evidence; if plans changed, say so "
             "(a new date, or won't do with a reason)."]  # fmt: skip
    if page:
        lines.append(f"Your page: {page}")
    lines.append(f"The review: {link}")
    return Message("action-overdue", f"Overdue: {action.get('what')}", "\n".join(lines), link,
                   data={"action": _brief(action), "days_late": days})  # fmt: skip


def action_done(state: Mapping[str, Any], base: str) -> Message:
    link = recap_link(base, str(state.get("review_id") or ""))
    raw = state.get("evidence")
    evidence: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    lines = [f"Marked done by {state.get('owner') or 'its owner'}:",
             _action_line(state, with_owner=True)]  # fmt: skip
    if evidence.get("url"):
        lines.append(f"Evidence: {evidence['url']}")
    if evidence.get("text"):
        lines.append(f"Evidence: {evidence['text']}")
    if state.get("verify"):
        lines.append(f"How we said we would know it worked: {state['verify']}")
    lines.append(f"Please check it and verify it (or reopen it) on the recap: {link}")
    data = {"action": _brief(state), "evidence": dict(evidence)}
    return Message("action-done", f"Done, to verify: {state.get('what')}", "\n".join(lines),
                   link, data=data)  # fmt: skip


def weekly_digest(
    name: str, actions: Sequence[Mapping[str, Any]], today: date, week: str, page: str = ""
) -> Message:
    overdue = [a for a in actions if a.get("due") and str(a["due"]) < today.isoformat()]
    lines = [f"Hello {name}," if name else "Hello,",
             f"you have {len(actions)} open actions"
             + (f", {len(overdue)} of them overdue." if overdue else "."),
             "", *_listed(actions)]  # fmt: skip
    if page:
        lines += ["", f"Update them from your page: {page}"]
    data = {"week": week, "actions": [_brief(a) for a in actions], "overdue": len(overdue)}
    return Message("weekly-digest", f"Your open actions, week {week}", "\n".join(lines),
                   page, data=data)  # fmt: skip


def review_nudge(review: Mapping[str, Any], base: str, days: int) -> Message:
    title, link = str(review.get("title") or "A review"), review_link(base, str(review["id"]))
    body = "\n".join([
        f"The incident of \"{title}\" ended {days} days ago and its review has no date yet.",
        "Memories fade fast: schedule it within a few days of the incident.",
        f"Schedule it here: {link}",
    ])  # fmt: skip
    data = {"review_id": review["id"], "title": title, "days_since": days}
    return Message("review-nudge", f"Not scheduled yet: {title}", body, link, data=data)


# --- what goes out ---------------------------------------------------------------


def email_text(message: Message, unsubscribe_url: str) -> str:
    """The plain-text email: the message, then how to stop this kind of message."""
    footer = ""
    if unsubscribe_url:
        footer = ("\n\n--\nYou get this from Debrief. To stop these messages, open "
                  f"{unsubscribe_url}")  # fmt: skip
    return message.body + footer


def webhook_payload(message: Message) -> dict[str, Any]:
    """The ``data`` of a JSON webhook's body (delivery/senders.py wraps it with the id,
    event and team; Slack and Mattermost get the subject and text as a chat message)."""
    return {"subject": message.subject, "text": message.body, "link": message.link,
            **message.data}  # fmt: skip
