"""Sending one delivery to real servers: aiosmtpd (STARTTLS, AUTH, refusals, slowness)
and a real HTTP receiver (formats, signature, failures, redirects, slowness)."""

from __future__ import annotations

import asyncio
import json
import ssl
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from debrief.delivery import keys
from debrief.delivery.senders import (
    SendError,
    SmtpServer,
    build_email,
    send_email,
    send_webhook,
    webhook_body,
)
from debrief.delivery.signing import new_secret
from support.delivery_receivers import HoldingSmtp, WebhookReceiver
from support.server import free_port

ICS = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:PUBLISH\r\nEND:VCALENDAR\r\n"


def delivery(**extra: Any) -> dict[str, Any]:
    return {
        "id": "d0c0ffee0000000000000001",
        "team_id": "t_one",
        "event": "review-scheduled",
        "key": "k",
        "channel": keys.EMAIL,
        "to": ["ana@example.org"],
        "subject": "Review scheduled: checkout outage",
        "text": "Tuesday 10:00 UTC, 60 minutes.",
        "html": "<p>Tuesday 10:00 UTC, 60 minutes.</p>",
        "ics": ICS,
        "payload": {"review_id": "r1"},
        "unsubscribe_url": "https://debrief.example.org/u/tok",
        "created_ms": 1_767_225_600_000,
        "replays": 0,
        **extra,
    }


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (its own CA: the sender trusts it by
    DEBRIEF_SMTP_CA_FILE, as with a private CA)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=digitalSignature,keyCertSign"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def tls_smtp(certificate: tuple[Path, Path], logins: list[tuple[str, str]]) -> HoldingSmtp:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        assert isinstance(data, LoginPassword)
        login = (data.login.decode(), data.password.decode())
        logins.append(login)
        # handled=False: aiosmtpd answers the refusal (535) itself
        return AuthResult(success=login == ("debrief", "s3cret"), handled=False)

    return HoldingSmtp(
        tls_context=context,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=authenticator,
    )


async def test_email_over_starttls_with_login(certificate: tuple[Path, Path]) -> None:
    logins: list[tuple[str, str]] = []
    with tls_smtp(certificate, logins) as smtp:
        server = SmtpServer("127.0.0.1", smtp.port, True, "debrief", "s3cret", str(certificate[0]))
        detail = await send_email(delivery(), server, "Debrief <debrief@example.org>", 5.0)
        assert "accepted by 127.0.0.1" in detail
        [mail] = smtp.got()
    assert logins == [("debrief", "s3cret")]
    message = mail.message
    assert mail.rcpt == ["ana@example.org"]
    assert message["Message-ID"] == "<d0c0ffee0000000000000001@debrief>"
    assert message["List-Unsubscribe"] == "<https://debrief.example.org/u/tok>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] == "auto-generated"
    text = message.get_body(preferencelist=("plain",))
    assert text is not None and "Tuesday 10:00 UTC" in text.get_content()
    calendars = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert calendars and calendars[0].get_param("method") == "PUBLISH"
    assert "BEGIN:VCALENDAR" in calendars[0].get_content()


async def test_wrong_password_is_a_failure_worth_retrying(certificate: tuple[Path, Path]) -> None:
    with tls_smtp(certificate, []) as smtp:
        server = SmtpServer("127.0.0.1", smtp.port, True, "debrief", "wrong", str(certificate[0]))
        with pytest.raises(SendError) as failed:
            await send_email(delivery(), server, "debrief@example.org", 5.0)
        assert smtp.got() == []
    assert "username or password" in failed.value.detail and not failed.value.permanent


async def test_no_starttls_offered_means_nothing_sent_in_clear() -> None:
    logins: list[Any] = []

    def authenticator(*args: Any) -> Any:
        logins.append(args)
        return AuthResult(success=True)

    with HoldingSmtp(authenticator=authenticator, auth_require_tls=False) as smtp:
        server = SmtpServer("127.0.0.1", smtp.port, True, "debrief", "s3cret")
        with pytest.raises(SendError) as failed:
            await send_email(delivery(), server, "debrief@example.org", 5.0)
        assert smtp.got() == [] and logins == []
    assert "STARTTLS" in failed.value.detail.upper()


async def test_refusals_permanent_and_temporary() -> None:
    with HoldingSmtp() as smtp:
        server = SmtpServer("127.0.0.1", smtp.port, False, "", "")
        smtp.refuse = "550 no such mailbox"
        with pytest.raises(SendError) as hard:
            await send_email(delivery(), server, "debrief@example.org", 5.0)
        smtp.refuse = "451 try again later"
        with pytest.raises(SendError) as soft:
            await send_email(delivery(), server, "debrief@example.org", 5.0)
    assert hard.value.permanent and "550" in hard.value.detail
    assert not soft.value.permanent and "451" in soft.value.detail


async def beats_during(work: Any) -> float:
    """The longest the event loop went without running a 10 ms ticker while ``work``
    ran: a sender that blocked the loop would show here."""
    gaps: list[float] = []

    async def ticker() -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    task = asyncio.create_task(ticker())
    try:
        await work
    finally:
        task.cancel()
    return max(gaps)


async def test_slow_smtp_server_times_out_without_blocking_the_loop() -> None:
    with HoldingSmtp() as smtp:
        smtp.delay_s = 5.0  # answers DATA after 5 s
        server = SmtpServer("127.0.0.1", smtp.port, False, "", "")
        started = time.monotonic()

        async def send() -> None:
            with pytest.raises(SendError) as failed:
                await send_email(delivery(), server, "debrief@example.org", 0.5)
            assert "did not answer in time" in failed.value.detail

        worst_gap = await beats_during(send())
        assert time.monotonic() - started < 3.0
    assert worst_gap < 0.2


async def test_nobody_listening() -> None:
    server = SmtpServer("127.0.0.1", free_port(), False, "", "")
    with pytest.raises(SendError) as failed:
        await send_email(delivery(), server, "debrief@example.org", 2.0)
    assert f"127.0.0.1:{server.port}" in failed.value.detail


def test_headers_cannot_be_injected() -> None:
    message = build_email(delivery(subject="Hi\r\nBcc: eve@example.org"), "d@example.org")
    assert message["Bcc"] is None and "\n" not in str(message["Subject"])


def test_webhook_formats() -> None:
    record = delivery(channel="webhook:wh_1")
    for kind in ("slack", "mattermost"):
        body = json.loads(webhook_body(record, {"kind": kind, "url": "https://x"}))
        assert body == {"text": "Review scheduled: checkout outage\nTuesday 10:00 UTC, 60 minutes."}
    body = json.loads(webhook_body(record, {"kind": "json", "url": "https://x"}))
    assert body == {
        "id": "d0c0ffee0000000000000001",
        "event": "review-scheduled",
        "team_id": "t_one",
        "created_ms": 1_767_225_600_000,
        "replay": 0,
        "data": {"review_id": "r1"},
    }


async def test_webhook_signed_and_refusals_reported() -> None:
    secret = new_secret()
    hook = {"id": "wh_1", "kind": "json", "secret": secret}
    async with httpx.AsyncClient(timeout=2.0) as http:
        with WebhookReceiver(secret=secret, script=[500]) as receiver:
            hook["url"] = receiver.url
            with pytest.raises(SendError) as failed:
                await send_webhook(http, delivery(), hook)
            assert "HTTP 500" in failed.value.detail and not failed.value.permanent
            assert "answered HTTP 200" in await send_webhook(http, delivery(), hook)
            hits = receiver.all()
            assert [h.verified for h in hits] == [True, True]
            assert hits[1].headers["X-Debrief-Delivery"] == "d0c0ffee0000000000000001"
            assert hits[1].headers["X-Debrief-Event"] == "review-scheduled"
            # Signed with another secret: the documented check refuses it.
            with pytest.raises(SendError) as refused:
                await send_webhook(http, delivery(), {**hook, "secret": new_secret()})
            assert "HTTP 401" in refused.value.detail
        with WebhookReceiver(script=[302]) as receiver:
            with pytest.raises(SendError):  # redirects are not followed
                await send_webhook(http, delivery(), {**hook, "url": receiver.url})
    async with httpx.AsyncClient(timeout=0.3) as http:
        with WebhookReceiver(delay_s=3.0) as receiver:
            started = time.monotonic()
            with pytest.raises(SendError) as slow:
                await send_webhook(http, delivery(), {**hook, "url": receiver.url})
            assert time.monotonic() - started < 2.0 and "in time" in slow.value.detail
