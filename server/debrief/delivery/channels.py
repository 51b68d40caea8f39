"""A team's delivery channels: its email settings and its webhooks (record "team-channels").

Secrets (the SMTP password, a JSON webhook's signing secret) are write-only: ``view``
never shows them, and a Slack or Mattermost URL (itself a secret: whoever has it may
post) is shown with its path hidden. A JSON webhook's secret is shown once, when added.
"""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import urlsplit

from debrief.delivery import keys
from debrief.delivery.signing import new_secret
from debrief.storage import Storage

MAX_WEBHOOKS = 20


class ChannelError(Exception):
    """A change the team's channels cannot take (status, code, message for the API)."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = error


def default_channels(team_id: str) -> dict[str, Any]:
    return {
        "team_id": team_id,
        "email": {"enabled": False, "from_addr": "", "smtp": None},
        "webhooks": [],
    }


def masked_url(url: str) -> str:
    """A URL with its path hidden but for its last 4 characters."""
    parts = urlsplit(url)
    tail = url.rstrip("/")[-4:]
    return f"{parts.scheme}://{parts.netloc}/…{tail}"


def webhook_view(hook: dict[str, Any]) -> dict[str, Any]:
    url = hook["url"] if hook["kind"] == "json" else masked_url(hook["url"])
    return {
        "id": hook["id"],
        "kind": hook["kind"],
        "url": url,
        "events": list(hook["events"]),
        "enabled": bool(hook.get("enabled", True)),
        "created_ms": hook.get("created_ms", 0),
        "signed": hook["kind"] == "json",
    }


def view(record: dict[str, Any]) -> dict[str, Any]:
    """The channels as GET shows them: every setting but the secrets."""
    email = record["email"]
    smtp = email.get("smtp")
    shown_smtp = None
    if smtp is not None:
        shown_smtp = {k: smtp.get(k) for k in ("host", "port", "starttls", "username")}
        shown_smtp["password_set"] = bool(smtp.get("password"))
    return {
        "email": {
            "enabled": bool(email.get("enabled")),
            "from_addr": email.get("from_addr", ""),
            "smtp": shown_smtp,
        },
        "webhooks": [webhook_view(h) for h in record["webhooks"]],
    }


def subscribed(hook: dict[str, Any], event: str) -> bool:
    events = hook.get("events") or []
    return bool(hook.get("enabled", True)) and (keys.ALL_EVENTS in events or event in events)


def check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ChannelError(422, "invalid-url", "a webhook URL must start with https:// or http://")
    return url


def check_events(events: list[str]) -> list[str]:
    unknown = [e for e in events if e != keys.ALL_EVENTS and e not in keys.EVENTS]
    if unknown:
        raise ChannelError(
            422, "unknown-event", f"unknown event {unknown[0]!r}; events: {', '.join(keys.EVENTS)}"
        )
    if not events:
        raise ChannelError(422, "no-events", 'name at least one event, or "*" for all')
    return list(dict.fromkeys(events))


class Channels:
    """Reads and changes teams' channel settings."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def _lock(self, team_id: str) -> Any:
        return self.storage.lock(f"team-channels:{team_id}")

    async def get(self, team_id: str) -> dict[str, Any]:
        found = await self.storage.get_record(keys.CHANNELS, team_id)
        return found if found is not None else default_channels(team_id)

    async def webhook(self, team_id: str, webhook_id: str) -> dict[str, Any] | None:
        record = await self.get(team_id)
        return next((h for h in record["webhooks"] if h["id"] == webhook_id), None)

    async def webhooks_for(self, team_id: str, event: str) -> list[dict[str, Any]]:
        """The team's enabled webhooks that take ``event`` (for the event sources)."""
        return [h for h in (await self.get(team_id))["webhooks"] if subscribed(h, event)]

    async def _save(self, record: dict[str, Any]) -> None:
        await self.storage.put_record(keys.CHANNELS, record["team_id"], record, record["team_id"])

    async def set_email(self, team_id: str, email: dict[str, Any]) -> dict[str, Any]:
        """Replace the email settings. An SMTP password left out (None or empty) keeps
        the one stored; no username means no login, so no password is kept either."""
        async with self._lock(team_id):
            record = await self.get(team_id)
            smtp = email.get("smtp")
            if smtp is not None:
                smtp = dict(smtp)
                if not smtp.get("username"):
                    smtp["password"] = ""
                elif not smtp.get("password"):
                    smtp["password"] = (record["email"].get("smtp") or {}).get("password") or ""
            record["email"] = {
                "enabled": bool(email.get("enabled")),
                "from_addr": email.get("from_addr") or "",
                "smtp": smtp,
            }
            await self._save(record)
        return record

    async def add_webhook(
        self, team_id: str, kind: str, url: str, events: list[str]
    ) -> tuple[dict[str, Any], str | None]:
        """Add a webhook; answers it and its signing secret (JSON webhooks only)."""
        if kind not in keys.WEBHOOK_KINDS:
            raise ChannelError(422, "unknown-kind", f"kind must be one of {keys.WEBHOOK_KINDS}")
        check_url(url)
        events = check_events(events)
        secret = new_secret() if kind == "json" else None
        hook = {
            "id": "wh_" + secrets.token_hex(6),
            "kind": kind,
            "url": url,
            "secret": secret,
            "events": events,
            "enabled": True,
            "created_ms": int(time.time() * 1000),
        }
        async with self._lock(team_id):
            record = await self.get(team_id)
            if len(record["webhooks"]) >= MAX_WEBHOOKS:
                raise ChannelError(
                    409, "too-many-webhooks", f"a team has at most {MAX_WEBHOOKS} webhooks"
                )
            record["webhooks"].append(hook)
            await self._save(record)
        return hook, secret

    async def patch_webhook(
        self, team_id: str, webhook_id: str, changes: dict[str, Any]
    ) -> dict[str, Any]:
        """Turn a webhook on or off, or change its events."""
        async with self._lock(team_id):
            record = await self.get(team_id)
            hook = next((h for h in record["webhooks"] if h["id"] == webhook_id), None)
            if hook is None:
                raise ChannelError(404, "unknown-webhook", "this team has no webhook with this id")
            if changes.get("events") is not None:
                hook["events"] = check_events(list(changes["events"]))
            if changes.get("enabled") is not None:
                hook["enabled"] = bool(changes["enabled"])
            await self._save(record)
        return hook

    async def remove_webhook(self, team_id: str, webhook_id: str) -> None:
        async with self._lock(team_id):
            record = await self.get(team_id)
            kept = [h for h in record["webhooks"] if h["id"] != webhook_id]
            if len(kept) == len(record["webhooks"]):
                raise ChannelError(404, "unknown-webhook", "this team has no webhook with this id")
            record["webhooks"] = kept
            await self._save(record)
