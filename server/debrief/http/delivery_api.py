"""A team's delivery settings and log over HTTP (team admins only).

Email settings (GET shows everything but the password), webhooks (the signing secret is
shown once, in the answer that adds one), a test message, and the delivery log with
replay. Sending itself is the worker's (delivery/worker.py).
"""

from __future__ import annotations

import re
import secrets
from email.utils import parseaddr
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from debrief.delivery import keys, outbox
from debrief.delivery.channels import ChannelError, view, webhook_view
from debrief.delivery.outbox import OutboxError
from debrief.delivery.worker import TEST_EVENT
from debrief.followup.people import MAX_EMAIL
from debrief.http.errors import ApiError
from debrief.http.team_commands import ADMINS, TeamCall, TeamCommandSet

api = TeamCommandSet("delivery")
MAX_LOG_PAGE = 200
MAX_OFFSET = 1_000_000
DETAIL_KEYS = ("id", "event", "channel", "to", "subject", "text", "state", "created_ms",
               "next_at_ms", "replays")  # fmt: skip
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
EventName = Annotated[str, Field(min_length=1, max_length=40)]
_HOST = re.compile(r"^[A-Za-z0-9.\-]+$|^\[[0-9A-Fa-f:.]+\]$")


def _address(value: str, *, optional: bool) -> str:
    value = value.strip()
    if not value and optional:
        return ""
    _, addr = parseaddr(value)
    if not _EMAIL.match(addr) or "\n" in value or "\r" in value:
        raise ValueError("does not look like an email address")
    return value


class SmtpSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    host: str = Field(min_length=1, max_length=253)
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = Field(default=True, description="upgrade with STARTTLS (required then)")
    username: str = Field(default="", max_length=MAX_EMAIL)
    password: str | None = Field(
        default=None, max_length=1000, description="left out or empty: keep the stored one"
    )

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        if not _HOST.match(value):
            raise ValueError("must be a host name or an IP address")
        return value


class EmailSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool
    from_addr: str = Field(default="", max_length=2 * MAX_EMAIL,
                           description='e.g. "Debrief <debrief@example.org>"; empty: the '
                           "server's DEBRIEF_SMTP_FROM")  # fmt: skip
    smtp: SmtpSettings | None = Field(
        default=None, description="the team's own SMTP server; null: the server's DEBRIEF_SMTP_*"
    )

    @field_validator("from_addr")
    @classmethod
    def _from(cls, value: str) -> str:
        return _address(value, optional=True)


class PutChannels(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: EmailSettings


class NewWebhook(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["slack", "mattermost", "json"]
    url: str = Field(min_length=8, max_length=2000)
    events: list[EventName] = Field(default=["*"], min_length=1, max_length=len(keys.EVENTS) + 1)


class WebhookPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool | None = None
    events: list[EventName] | None = Field(
        default=None, min_length=1, max_length=len(keys.EVENTS) + 1
    )


class TestEmail(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: str = Field(min_length=3, max_length=MAX_EMAIL)

    @field_validator("to")
    @classmethod
    def _to(cls, value: str) -> str:
        return _address(value, optional=False)


def _refusal(exc: ChannelError | OutboxError) -> ApiError:
    return ApiError(exc.status, exc.error, str(exc))


async def channels_view(call: TeamCall) -> dict[str, Any]:
    shown = view(await call.svc.delivery.channels.get(call.team_id))
    shown["server_smtp"] = bool(call.svc.settings.smtp_host)  # may a team leave smtp null?
    shown["events"] = list(keys.EVENTS)
    return shown


@api.command("GET", "/channels", "The team's email settings and webhooks (no secrets)",
             roles=ADMINS)  # fmt: skip
async def get_channels(call: TeamCall, body: None) -> Any:
    return await channels_view(call)


@api.command("PUT", "/channels", "Set the team's email settings (the SMTP password is "
             "write-only: leave it out or empty to keep it)", roles=ADMINS,
             body=PutChannels)  # fmt: skip
async def put_channels(call: TeamCall, body: PutChannels) -> Any:
    await call.svc.delivery.channels.set_email(call.team_id, body.email.model_dump())
    return await channels_view(call)


@api.command("POST", "/channels/email/test", "Send a test email with the team's settings",
             roles=ADMINS, body=TestEmail, status=202)  # fmt: skip
async def test_email(call: TeamCall, body: TestEmail) -> Any:
    record = await _test_delivery(call, keys.EMAIL, [body.to])
    return {**outbox.summary(record), "delivery_id": record["id"]}


@api.command("POST", "/webhooks", "Add a webhook; a JSON webhook's signing secret is in this "
             "answer only", roles=ADMINS, body=NewWebhook, status=201)  # fmt: skip
async def add_webhook(call: TeamCall, body: NewWebhook) -> Any:
    try:
        hook, secret = await call.svc.delivery.channels.add_webhook(
            call.team_id, body.kind, body.url, body.events
        )
    except ChannelError as exc:
        raise _refusal(exc) from exc
    return {**webhook_view(hook), "secret": secret}


@api.command("PATCH", "/webhooks/{webhook_id}", "Turn a webhook on or off, or change its events",
             roles=ADMINS, body=WebhookPatch)  # fmt: skip
async def patch_webhook(call: TeamCall, body: WebhookPatch) -> Any:
    webhook_id = call.request.path_params["webhook_id"]
    try:
        hook = await call.svc.delivery.channels.patch_webhook(
            call.team_id, webhook_id, body.model_dump(exclude_unset=True)
        )
    except ChannelError as exc:
        raise _refusal(exc) from exc
    return webhook_view(hook)


@api.command("DELETE", "/webhooks/{webhook_id}", "Remove a webhook", roles=ADMINS)
async def remove_webhook(call: TeamCall, body: None) -> Any:
    webhook_id = call.request.path_params["webhook_id"]
    try:
        await call.svc.delivery.channels.remove_webhook(call.team_id, webhook_id)
    except ChannelError as exc:
        raise _refusal(exc) from exc
    return {"deleted": webhook_id}


@api.command("POST", "/webhooks/{webhook_id}/test", "Send a test message to a webhook (even "
             "one turned off); follow it in the delivery log", roles=ADMINS,
             status=202)  # fmt: skip
async def test_webhook(call: TeamCall, body: None) -> Any:
    webhook_id = call.request.path_params["webhook_id"]
    if await call.svc.delivery.channels.webhook(call.team_id, webhook_id) is None:
        raise ApiError(404, "unknown-webhook", "this team has no webhook with this id")
    record = await _test_delivery(call, keys.webhook_channel(webhook_id), [])
    return {**outbox.summary(record), "delivery_id": record["id"]}


async def _test_delivery(call: TeamCall, channel: str, to: list[str]) -> dict[str, Any]:
    who = call.session.name or "a team admin"
    text = f"A test message from Debrief, sent by {who}. If you can read it, this channel works."
    key = f"test:{secrets.token_hex(8)}"  # every test is a new delivery
    delivery_id = keys.delivery_id(key, channel, to)
    delivery: dict[str, Any] = {
        "id": delivery_id,
        "team_id": call.team_id,
        "event": TEST_EVENT,
        "key": key,
        "channel": channel,
        "to": to,
        "subject": "Debrief test message",
        "text": text,
        "payload": {"test": True, "text": text},
    }
    await call.svc.delivery.enqueue(delivery)
    record = await outbox.get(call.svc.storage, delivery_id)
    assert record is not None
    return record


def _page(call: TeamCall, name: str, default: int, high: int) -> int:
    raw = call.request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = -1
    low = 1 if name == "limit" else 0
    if not low <= value <= high:
        raise ApiError(422, "invalid-query", f"{name} must be a whole number from {low} to {high}")
    return value


@api.command("GET", "/deliveries", "The delivery log, newest first: state and attempts",
             roles=ADMINS, query={"offset": "skip this many (default 0)",
                                  "limit": f"at most this many (1 to {MAX_LOG_PAGE}, "
                                           "default 50)"})  # fmt: skip
async def list_deliveries(call: TeamCall, body: None) -> Any:
    offset = _page(call, "offset", 0, MAX_OFFSET)
    limit = _page(call, "limit", 50, MAX_LOG_PAGE)
    items, total = await outbox.log(call.svc.storage, call.team_id, offset, limit)
    return {"deliveries": items, "total": total}


async def _team_delivery(call: TeamCall) -> dict[str, Any]:
    delivery_id = call.request.path_params["delivery_id"]
    record = await outbox.get(call.svc.storage, delivery_id)
    if record is None or record.get("team_id") != call.team_id:
        raise ApiError(404, "unknown-delivery", "this team has no delivery with this id")
    return record


@api.command("GET", "/deliveries/{delivery_id}", "One delivery: what was sent and every attempt",
             roles=ADMINS)  # fmt: skip
async def get_delivery(call: TeamCall, body: None) -> Any:
    record = await _team_delivery(call)
    shown = {k: record.get(k) for k in DETAIL_KEYS}
    shown["attempts"] = record.get("attempts", [])
    return shown


@api.command("POST", "/deliveries/{delivery_id}/replay", "Send a delivery again (sent, failed "
             "or dead ones); receivers see it as a new message", roles=ADMINS,
             status=202)  # fmt: skip
async def replay_delivery(call: TeamCall, body: None) -> Any:
    record = await _team_delivery(call)
    try:
        replayed = await call.svc.delivery.replay(record["id"])
    except OutboxError as exc:
        raise _refusal(exc) from exc
    return outbox.summary(replayed)
