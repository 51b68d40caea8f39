"""The delivery worker: every process runs one; together they send each delivery once.

It looks at the outbox every ``delivery_poll_s`` (and at once after ``kick()``), claims
due deliveries under a lease (outbox.py), sends at most ``delivery_concurrency`` at a
time, and records each attempt. Nothing here blocks the event loop: every network step
has a timeout and a whole attempt is cut off well before its lease ends, so no other
process can take it over while it is still being sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
from typing import Any

import httpx

from debrief.delivery import keys, outbox
from debrief.delivery.channels import Channels
from debrief.delivery.senders import SendError, SmtpServer, send_email, send_webhook
from debrief.settings import Settings
from debrief.storage import Storage, StorageError

log = logging.getLogger(__name__)

TEST_EVENT = "test"  # an admin's test message: sent even to a channel turned off
ATTEMPT_SHARE_OF_LEASE = 0.75
STOP_WAIT_S = 3.0


def node_name() -> str:
    """This process, as leases and attempts name it (host and pid: a test maps it back)."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Worker:
    def __init__(self, storage: Storage, settings: Settings) -> None:
        self.storage = storage
        self.settings = settings
        self.channels = Channels(storage)
        self.node = node_name()
        self.concurrency = max(1, settings.delivery_concurrency)
        self.lease_ms = int(settings.delivery_lease_s * 1000)
        self.attempt_s = settings.delivery_lease_s * ATTEMPT_SHARE_OF_LEASE
        self.in_flight: dict[str, asyncio.Task[None]] = {}
        self.wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.http: httpx.AsyncClient | None = None

    # --- what the rest of the server calls ---------------------------------------------

    def kick(self) -> None:
        """Look at the outbox now (a delivery was just queued)."""
        self.wake.set()

    async def enqueue(self, delivery: dict[str, Any]) -> bool:
        """Queue a delivery (see outbox.enqueue) and send it at once when it is due."""
        added = await outbox.enqueue(self.storage, delivery)
        if added:
            self.kick()
        return added

    async def replay(self, delivery_id: str) -> dict[str, Any]:
        record = await outbox.replay(self.storage, delivery_id)
        self.kick()
        return record

    def start(self) -> None:
        timeout = httpx.Timeout(self.settings.delivery_timeout_s)
        limits = httpx.Limits(max_connections=self.concurrency * 2)
        self.http = httpx.AsyncClient(timeout=timeout, limits=limits, follow_redirects=False)
        self.task = asyncio.create_task(self._loop(), name="delivery-worker")

    async def stop(self) -> None:
        """Stop claiming; let sends in flight finish briefly, then cut them off (their
        leases expire and another process sends them)."""
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        pending = list(self.in_flight.values())
        if pending:
            _, late = await asyncio.wait(pending, timeout=STOP_WAIT_S)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self.http is not None:
            await self.http.aclose()

    # --- the loop ------------------------------------------------------------------------

    async def _loop(self) -> None:
        while True:
            try:
                await self.tick()
            except StorageError as exc:  # storage away for a moment: look again later
                log.warning("delivery: could not read the outbox: %s", exc)
            except Exception:
                log.exception("delivery: could not read the outbox")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.delivery_poll_s):
                    await self.wake.wait()
            self.wake.clear()

    async def tick(self) -> None:
        """Start sending what is due, up to the free slots."""
        free = self.concurrency - len(self.in_flight)
        if free <= 0:
            return
        due = [d for d in await outbox.due(self.storage, free * 4 + len(self.in_flight))
               if d not in self.in_flight]  # fmt: skip
        random.shuffle(due)  # processes looking at once go for different ones first
        for delivery_id in due[:free]:
            task = asyncio.create_task(self._run(delivery_id), name=f"delivery-{delivery_id}")
            self.in_flight[delivery_id] = task
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        for delivery_id, running in list(self.in_flight.items()):
            if running is task:
                del self.in_flight[delivery_id]
        self.kick()  # a slot is free: there may be more waiting

    async def _run(self, delivery_id: str) -> None:
        try:
            claimed = await outbox.claim(self.storage, delivery_id, self.node, self.lease_ms)
        except Exception as exc:  # busy lock, storage away: another look later
            log.info("delivery %s: not claimed now (%s)", delivery_id, exc)
            return
        if claimed is None:
            return
        if claimed.get("taken_over_from"):
            log.warning("delivery %s: %s stopped while sending it; sending it again",
                        delivery_id, claimed["taken_over_from"])  # fmt: skip
        ok, detail, permanent = await self._attempt(claimed)
        try:
            done = await outbox.finish(
                self.storage,
                claimed,
                ok,
                detail,
                self.settings.delivery_retry_s,
                permanent=permanent,
            )
        except Exception:
            log.exception("delivery %s: could not record the attempt (%s)", delivery_id, detail)
            return
        what = f"delivery {delivery_id} ({claimed['event']} to {claimed['channel']}, " \
               f"team {claimed['team_id']})"  # fmt: skip
        if done is None:
            log.warning("%s: took longer than its lease; another process had it", what)
        elif ok:
            log.info("%s sent: %s", what, detail)
        else:
            log.warning("%s failed, now %s: %s", what, done["state"], detail)

    async def _attempt(self, record: dict[str, Any]) -> tuple[bool, str, bool]:
        """One try: (accepted, detail for the log, whether a retry is pointless)."""
        try:
            async with asyncio.timeout(self.attempt_s):
                return True, await self._send(record), False
        except SendError as exc:
            return False, exc.detail, exc.permanent
        except TimeoutError:
            return False, f"the attempt took longer than {self.attempt_s:.0f} s", False
        except Exception as exc:  # a bad setting must fail this delivery, not the worker
            log.exception("delivery %s: unexpected failure", record["id"])
            return False, f"could not send: {type(exc).__name__}: {exc}", False

    async def _send(self, record: dict[str, Any]) -> str:
        channels = await self.channels.get(record["team_id"])
        testing = record.get("event") == TEST_EVENT
        if record["channel"] == keys.EMAIL:
            email = channels["email"]
            if not email.get("enabled") and not testing:
                raise SendError("email is turned off for this team", permanent=True)
            server = self.smtp_server(email.get("smtp"))
            from_addr = email.get("from_addr") or self.settings.smtp_from
            return await send_email(record, server, from_addr, self.settings.delivery_timeout_s)
        webhook_id = keys.webhook_id_of(record["channel"])
        hook = next((h for h in channels["webhooks"] if h["id"] == webhook_id), None)
        if hook is None:
            raise SendError("the team removed this webhook", permanent=True)
        if not hook.get("enabled", True) and not testing:
            raise SendError("this webhook is turned off", permanent=True)
        assert self.http is not None
        return await send_webhook(self.http, record, hook)

    def smtp_server(self, team_smtp: dict[str, Any] | None) -> SmtpServer:
        """The team's own SMTP server, else the server's (DEBRIEF_SMTP_*)."""
        s = self.settings
        if team_smtp is None:
            if not s.smtp_host:
                raise SendError("no SMTP server: set one in the team's email settings "
                                "or DEBRIEF_SMTP_HOST on the server")  # fmt: skip
            return SmtpServer(s.smtp_host, s.smtp_port, s.smtp_starttls, s.smtp_username,
                              s.smtp_password, s.smtp_ca_file)  # fmt: skip
        host, port = str(team_smtp.get("host") or ""), team_smtp.get("port")
        if not host or not isinstance(port, int) or not 0 < port < 65536:
            raise SendError("the team's SMTP settings need a host and a port from 1 to 65535")
        return SmtpServer(
            host,
            port,
            bool(team_smtp.get("starttls", True)),
            str(team_smtp.get("username") or ""),
            str(team_smtp.get("password") or ""),
            s.smtp_ca_file,
        )
