"""Sending one delivery: an email over SMTP (aiosmtplib) or a webhook POST (httpx).

Every network step has a timeout (``timeout_s``); the worker also bounds a whole attempt.
A failure raises SendError with a detail for the delivery log, and says whether trying
again could help (a 5xx SMTP answer or a deleted webhook will not get better).
"""

from __future__ import annotations

import json
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any
from urllib.parse import urlsplit

import aiosmtplib
import httpx

from debrief import __version__
from debrief.delivery.ics import INVITE_METHOD
from debrief.delivery.outbox import send_id
from debrief.delivery.signing import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, sign

RESPONSE_CHARS = 200  # of a receiver's answer kept in the log
USER_AGENT = f"Debrief/{__version__} (+webhooks)"


class SendError(Exception):
    """A failed attempt; ``permanent`` when retrying cannot help."""

    def __init__(self, detail: str, *, permanent: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.permanent = permanent


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    starttls: bool
    username: str
    password: str
    ca_file: str = ""

    def tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.ca_file:
            context.load_verify_locations(cafile=self.ca_file)
        return context


def _one_line(text: str) -> str:
    return " ".join(str(text).split())  # no CR/LF can reach a header


def message_id(record: dict[str, Any]) -> str:
    return f"<{send_id(record)}@debrief>"


def build_email(record: dict[str, Any], from_addr: str) -> EmailMessage:
    """The message of an email delivery: text (and html), an .ics invite, and the headers
    that let a mail client unsubscribe in one click (RFC 8058)."""
    msg = EmailMessage()
    msg["From"] = _one_line(from_addr)
    msg["To"] = ", ".join(_one_line(a) for a in record["to"])
    msg["Subject"] = _one_line(record.get("subject") or "Debrief")
    msg["Message-ID"] = message_id(record)
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Auto-Submitted"] = "auto-generated"  # no out-of-office replies to a robot
    msg["X-Debrief-Event"] = _one_line(record.get("event", ""))
    unsubscribe = record.get("unsubscribe_url")
    if unsubscribe:
        msg["List-Unsubscribe"] = f"<{_one_line(unsubscribe)}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(str(record.get("text") or ""))
    if record.get("html"):
        msg.add_alternative(str(record["html"]), subtype="html")
    ics = record.get("ics")
    if ics:
        # Inline (calendar apps show the invite) and as a file (everyone else).
        # the part's method must match the calendar's own METHOD line (delivery/ics.py)
        msg.add_alternative(str(ics), subtype="calendar", params={"method": INVITE_METHOD})
        msg.add_attachment(
            str(ics).encode(), maintype="text", subtype="calendar", filename="invite.ics"
        )
    return msg


async def send_email(
    record: dict[str, Any], server: SmtpServer, from_addr: str, timeout_s: float
) -> str:
    """Hand an email to the SMTP server; answers the log's detail once it accepted it."""
    message = build_email(record, from_addr)
    try:
        refused, answer = await aiosmtplib.send(
            message,
            hostname=server.host,
            port=server.port,
            username=server.username or None,
            password=server.password or None,
            start_tls=server.starttls,
            tls_context=server.tls_context() if server.starttls else None,
            timeout=timeout_s,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        raise SendError(f"the SMTP server refused every recipient: {exc}", permanent=True) from exc
    except aiosmtplib.SMTPAuthenticationError as exc:
        raise SendError(f"the SMTP server refused the username or password: {exc}") from exc
    except aiosmtplib.SMTPResponseException as exc:
        # 5xx: the server will say no again; 4xx: a temporary refusal, try later.
        permanent = 500 <= exc.code < 600
        raise SendError(
            f"the SMTP server answered {exc.code}: {exc.message}", permanent=permanent
        ) from exc
    except aiosmtplib.SMTPTimeoutError as exc:
        raise SendError(
            f"the SMTP server {server.host}:{server.port} did not answer in time"
        ) from exc
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise SendError(f"could not send through {server.host}:{server.port}: {exc}") from exc
    detail = f"accepted by {server.host}: {_one_line(answer)[:RESPONSE_CHARS]}"
    if refused:
        detail += f" (refused: {', '.join(sorted(refused))})"
    return detail


def chat_text(record: dict[str, Any]) -> str:
    subject, text = str(record.get("subject") or ""), str(record.get("text") or "")
    return f"{subject}\n{text}" if subject and not text.startswith(subject) else text or subject


def webhook_body(record: dict[str, Any], hook: dict[str, Any]) -> bytes:
    """Slack and Mattermost incoming webhooks take {"text"}; the JSON webhook gets the
    event itself: {id, event, team_id, created_ms, data}."""
    if hook["kind"] in ("slack", "mattermost"):
        body: dict[str, Any] = {"text": chat_text(record)}
    else:
        data = record.get("payload")
        if data is None:
            data = {"subject": record.get("subject", ""), "text": record.get("text", "")}
        body = {
            "id": record["id"],
            "event": record["event"],
            "team_id": record["team_id"],
            "created_ms": record["created_ms"],
            "replay": int(record.get("replays", 0)),
            "data": data,
        }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def webhook_headers(record: dict[str, Any], hook: dict[str, Any], body: bytes) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        DELIVERY_HEADER: send_id(record),
        EVENT_HEADER: record["event"],
    }
    if hook["kind"] == "json" and hook.get("secret"):
        # Signed at each attempt: a retry an hour later still passes the 5-minute check.
        headers[SIGNATURE_HEADER] = sign(hook["secret"], body, int(time.time()))
    return headers


async def send_webhook(
    client: httpx.AsyncClient, record: dict[str, Any], hook: dict[str, Any]
) -> str:
    """POST a delivery to a webhook; answers the log's detail when it answered 2xx."""
    body = webhook_body(record, hook)
    host = urlsplit(hook["url"]).netloc
    try:
        async with client.stream(
            "POST", hook["url"], content=body, headers=webhook_headers(record, hook, body)
        ) as response:
            answer = b""
            async for chunk in response.aiter_bytes():
                answer += chunk
                if len(answer) >= RESPONSE_CHARS:
                    break  # a receiver's long answer is not ours to read
    except httpx.TimeoutException as exc:
        raise SendError(f"{host} did not answer in time ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        raise SendError(f"could not reach {host}: {exc or type(exc).__name__}") from exc
    said = _one_line(answer[:RESPONSE_CHARS].decode(errors="replace"))
    if not response.is_success:
        raise SendError(f"{host} answered HTTP {response.status_code}: {said}".rstrip(": "))
    return f"{host} answered HTTP {response.status_code}"
