"""The worker in this process, on a real SQLite storage, sending to real receivers: bounded
concurrency, a free event loop, cut-off attempts, bad settings failing alone, kick, stop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from debrief.delivery import keys, outbox
from debrief.delivery.worker import Worker
from debrief.settings import Settings
from debrief.storage import Storage
from debrief.storage.sqlite import SQLiteStorage
from support.delivery_receivers import HoldingSmtp, WebhookReceiver, wait_for


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    store = SQLiteStorage(tmp_path / "db.sqlite3")
    await store.open()
    try:
        yield store
    finally:
        await store.close()


def settings(tmp_path: Path, **changes: Any) -> Settings:
    base = Settings(data_dir=tmp_path)
    base.smtp_host = ""
    base.delivery_poll_s = 0.1
    base.delivery_retry_s = [0.2]
    base.delivery_timeout_s = 5.0
    for name, value in changes.items():
        setattr(base, name, value)
    return base


async def running(storage: Storage, config: Settings) -> Worker:
    worker = Worker(storage, config)
    worker.start()
    return worker


async def add_hook(worker: Worker, team_id: str, url: str, kind: str = "json") -> str:
    hook, _ = await worker.channels.add_webhook(team_id, kind, url, ["*"])
    return str(hook["id"])


def to_hook(team_id: str, hook_id: str, key: str) -> dict[str, Any]:
    return {
        "team_id": team_id,
        "event": "action-overdue",
        "key": key,
        "channel": keys.webhook_channel(hook_id),
        "subject": "Overdue: rotate keys",
        "text": "Rotate the signing keys (due yesterday).",
    }


async def state_of(storage: Storage, delivery_id: str, wanted: str, timeout: float = 15) -> dict:
    async with asyncio.timeout(timeout):
        while True:
            record = await outbox.get(storage, delivery_id)
            if record is not None and record["state"] == wanted:
                return record
            await asyncio.sleep(0.05)


async def test_concurrency_is_bounded(storage: Storage, tmp_path: Path) -> None:
    worker = await running(storage, settings(tmp_path, delivery_concurrency=2))
    try:
        with WebhookReceiver(delay_s=0.4) as receiver:
            hook = await add_hook(worker, "t_one", receiver.url)
            for n in range(6):
                await worker.enqueue(to_hook("t_one", hook, f"k{n}"))
            await wait_for(receiver.taken, 6)
        assert receiver.most_at_once == 2
    finally:
        await worker.stop()


async def test_slow_smtp_server_never_blocks_the_loop(storage: Storage, tmp_path: Path) -> None:
    with HoldingSmtp() as smtp:
        smtp.delay_s = 3.0
        config = settings(tmp_path, smtp_host="127.0.0.1", smtp_port=smtp.port,
                          smtp_starttls=False, delivery_timeout_s=0.5)  # fmt: skip
        worker = await running(storage, config)
        await worker.channels.set_email("t_one", {"enabled": True, "smtp": None})
        gaps: list[float] = []

        async def ticker() -> None:
            last = time.monotonic()
            while True:
                await asyncio.sleep(0.01)
                gaps.append(time.monotonic() - last)
                last = time.monotonic()

        beat = asyncio.create_task(ticker())
        try:
            mail = {"team_id": "t_one", "event": "action-done", "key": "slow",
                    "channel": keys.EMAIL, "to": ["ana@example.org"], "text": "Done."}  # fmt: skip
            await worker.enqueue(mail)
            slow_id = keys.delivery_id("slow", keys.EMAIL, ["ana@example.org"])
            record = await state_of(storage, slow_id, "failed")
            assert "did not answer in time" in record["attempts"][0]["detail"]
        finally:
            beat.cancel()
            await worker.stop()
    assert max(gaps) < 0.2


async def test_an_attempt_is_cut_off_before_its_lease_ends(
    storage: Storage, tmp_path: Path
) -> None:
    # A 1 s lease: the attempt may take 0.75 s, however patient each network step is.
    worker = await running(storage, settings(tmp_path, delivery_lease_s=1.0))
    try:
        with WebhookReceiver(delay_s=2.0) as receiver:
            hook = await add_hook(worker, "t_one", receiver.url)
            await worker.enqueue(to_hook("t_one", hook, "cut"))
            delivery_id = keys.delivery_id("cut", keys.webhook_channel(hook))
            record = await state_of(storage, delivery_id, "failed")
        assert "took longer than" in record["attempts"][0]["detail"]
    finally:
        await worker.stop()


async def test_bad_settings_fail_only_their_delivery(storage: Storage, tmp_path: Path) -> None:
    worker = await running(storage, settings(tmp_path))
    try:
        # Stored settings no form would let through (an older or hand-edited record).
        await storage.put_record(keys.CHANNELS, "t_bad", {
            "team_id": "t_bad", "webhooks": [],
            "email": {"enabled": True, "from_addr": "", "smtp": {"host": "", "port": "25"}},
        }, "t_bad")  # fmt: skip
        mail = {"team_id": "t_bad", "event": "action-done", "key": "bad", "channel": keys.EMAIL,
                "to": ["ana@example.org"], "text": "Done."}  # fmt: skip
        no_server = {**mail, "team_id": "t_plain", "key": "no-server"}
        await worker.channels.set_email("t_plain", {"enabled": True, "smtp": None})
        with WebhookReceiver() as receiver:
            hook = await add_hook(worker, "t_good", receiver.url, "slack")
            await worker.enqueue(mail)
            await worker.enqueue(no_server)
            await worker.enqueue(to_hook("t_good", hook, "good"))
            await worker.enqueue(to_hook("t_good", "wh_gone", "gone"))
            await state_of(storage, keys.delivery_id("good", keys.webhook_channel(hook)), "sent")
        bad = await state_of(storage, keys.delivery_id("bad", keys.EMAIL, mail["to"]), "failed")
        assert "need a host and a port" in bad["attempts"][0]["detail"]
        plain = keys.delivery_id("no-server", keys.EMAIL, mail["to"])
        assert (
            "no SMTP server" in (await state_of(storage, plain, "failed"))["attempts"][0]["detail"]
        )
        gone = await state_of(storage, keys.delivery_id("gone", "webhook:wh_gone"), "dead")
        assert "removed this webhook" in gone["attempts"][0]["detail"]
        assert len(receiver.taken()) == 1
    finally:
        await worker.stop()


async def test_kick_sends_at_once_and_stop_does_not_wait_for_slow_receivers(
    storage: Storage, tmp_path: Path
) -> None:
    worker = await running(storage, settings(tmp_path, delivery_poll_s=60.0))
    try:
        with WebhookReceiver() as receiver:
            hook = await add_hook(worker, "t_one", receiver.url)
            await asyncio.sleep(0.2)  # the worker's first look is over; the next is in 60 s
            started = time.monotonic()
            await worker.enqueue(to_hook("t_one", hook, "now"))
            await wait_for(receiver.taken, 1, timeout=5)
            assert time.monotonic() - started < 2
            receiver.delay_s = 30.0
            await worker.enqueue(to_hook("t_one", hook, "stuck"))
            await wait_for(receiver.all, 1)  # the first one only; the stuck one is in flight
            async with asyncio.timeout(3):
                while not worker.in_flight:  # noqa: ASYNC110 - the worker's own state
                    await asyncio.sleep(0.02)
    finally:
        started = time.monotonic()
        await worker.stop()
        assert time.monotonic() - started < 6
    stuck = await outbox.get(storage, keys.delivery_id("stuck", keys.webhook_channel(hook)))
    assert stuck is not None and stuck["state"] == "sending"  # its lease lets another send it
