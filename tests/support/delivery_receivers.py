"""Receivers for the delivery tests: a webhook receiver that checks signatures with the
recipe of docs/webhooks.md and can fail on purpose, and an SMTP server (aiosmtpd) that
can hold a message until the sending process is gone.

Both are real servers in threads of the test process; tests wait on what arrives
(``wait_for``), never a fixed sleep. support/delivery_sinks.py adds a team's side.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from support.server import ROOT, free_port

SIGNATURE_HEADER = "X-Debrief-Signature"


def documented_verifier() -> Callable[..., bool]:
    """``verify_debrief_signature`` exactly as docs/webhooks.md prints it."""
    text = (ROOT / "docs" / "webhooks.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    code = next(b for b in blocks if "def verify_debrief_signature" in b)
    scope: dict[str, Any] = {}
    exec(compile(code, "docs/webhooks.md", "exec"), scope)
    verifier: Callable[..., bool] = scope["verify_debrief_signature"]
    return verifier


@dataclass
class Hit:
    at: float
    headers: dict[str, str]
    raw: bytes
    verified: bool | None  # None: no secret to check with
    status: int
    path: str = ""

    @property
    def body(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.raw or b"{}")
        return found


@dataclass
class WebhookReceiver:
    """An HTTP receiver on 127.0.0.1. Answers the statuses of ``script`` in turn (then
    200); with a ``secret`` it refuses (401) any request whose signature the documented
    recipe does not accept, before looking at the script."""

    secret: str | None = None
    script: list[int] = field(default_factory=list)
    delay_s: float = 0.0
    hits: list[Hit] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.at_once = 0  # requests being answered right now
        self.most_at_once = 0
        self.verify = documented_verifier()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                receiver.handle(self, raw)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def handle(self, request: BaseHTTPRequestHandler, raw: bytes) -> None:
        with self.lock:
            self.at_once += 1
            self.most_at_once = max(self.most_at_once, self.at_once)
        try:
            self.answer(request, raw)
        finally:
            with self.lock:
                self.at_once -= 1

    def answer(self, request: BaseHTTPRequestHandler, raw: bytes) -> None:
        if self.delay_s:
            time.sleep(self.delay_s)  # a slow receiver (its own thread)
        verified = None
        if self.secret is not None:
            verified = self.verify(self.secret, raw, request.headers.get(SIGNATURE_HEADER, ""))
        with self.lock:
            if verified is False:
                status = 401
            else:
                status = self.script.pop(0) if self.script else 200
            hit = Hit(time.monotonic(), dict(request.headers), raw, verified, status, request.path)
            self.hits.append(hit)
        answer = b"ok" if status < 300 else b"not now"
        request.send_response(status)
        request.send_header("content-length", str(len(answer)))
        request.end_headers()
        request.wfile.write(answer)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def taken(self) -> list[Hit]:
        """The requests answered 2xx."""
        with self.lock:
            return [h for h in self.hits if h.status < 300]

    def all(self) -> list[Hit]:
        with self.lock:
            return list(self.hits)

    def find(self, match: Callable[[Hit], bool]) -> list[Hit]:
        with self.lock:
            return [h for h in self.hits if match(h)]


@dataclass
class Accepted:
    peer: tuple[str, int]
    rcpt: list[str]
    message: EmailMessage
    at: float = field(default_factory=time.time)  # wall clock, as leases are

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"] or "")

    @property
    def to(self) -> list[str]:
        return self.rcpt

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    def attachment(self, subtype: str) -> str | None:
        for part in self.message.walk():
            if part.get_content_type() == f"text/{subtype}":
                return str(part.get_content())
        return None


class _HoldingHandler:
    def __init__(self, box: HoldingSmtp) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        box = self.box
        with box.lock:
            hold = box.hold_first and not box.held_once
            box.held_once = box.held_once or hold
        if hold:
            box.holding = Accepted(tuple(session.peer), list(envelope.rcpt_tos), parsed)
            box.held.set()
            try:
                while not box.release.is_set():  # noqa: ASYNC110 - set by the test thread
                    await asyncio.sleep(0.02)
            except asyncio.CancelledError:
                box.dropped.append(box.holding)  # the sender went away: never accepted
                raise
            if server.transport is None or server.transport.is_closing():
                box.dropped.append(box.holding)
                return "421 the sender has gone"
        if box.delay_s:
            await asyncio.sleep(box.delay_s)
        if box.refuse:
            return box.refuse
        with box.lock:
            box.accepted.append(Accepted(tuple(session.peer), list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


class HoldingSmtp:
    """An SMTP server on 127.0.0.1 that keeps what it accepts. With ``hold_first`` it
    holds the first message in DATA (no answer) until ``release`` is set; a message whose
    sender is gone by then is dropped, not accepted (as a real server does)."""

    def __init__(self, *, hold_first: bool = False, **smtp: Any) -> None:
        self.port = free_port()
        self.hold_first = hold_first
        self.held_once = False
        self.held = threading.Event()
        self.release = threading.Event()
        self.holding: Accepted | None = None
        self.accepted: list[Accepted] = []
        self.dropped: list[Accepted] = []
        self.delay_s = 0.0
        self.refuse: str | None = None
        self.lock = threading.Lock()
        self.controller = Controller(
            _HoldingHandler(self), hostname="127.0.0.1", port=self.port, **smtp
        )

    def __enter__(self) -> HoldingSmtp:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.controller.stop()

    def env(self) -> dict[str, str]:
        return {
            "DEBRIEF_SMTP_HOST": "127.0.0.1",
            "DEBRIEF_SMTP_PORT": str(self.port),
            "DEBRIEF_SMTP_STARTTLS": "0",
            "DEBRIEF_SMTP_FROM": "Debrief <debrief@example.org>",
        }

    def got(self) -> list[Accepted]:
        with self.lock:
            return list(self.accepted)

    def find(self, match: Callable[[Accepted], bool]) -> list[Accepted]:
        with self.lock:
            return [m for m in self.accepted if match(m)]


async def wait_for(found: Callable[[], list[Any]], count: int = 1, timeout: float = 30.0) -> list:
    """Poll until ``found()`` lists at least ``count`` items (arrivals come from threads)."""
    async with asyncio.timeout(timeout):
        while len(items := found()) < count:  # noqa: ASYNC110 - nothing to subscribe to
            await asyncio.sleep(0.05)
    return items
