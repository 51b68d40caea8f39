"""Exactly once across processes: two `debrief serve --redis` processes send reminders to a
real SMTP server; the one sending the first message is killed (SIGKILL) while the SMTP
server holds that message unanswered. Every reminder still arrives exactly once, and the
held one is sent by the survivor once the dead process's lease has run out."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from debrief.delivery import keys, outbox
from debrief.storage.redis import RedisStorage
from support.delivery_receivers import HoldingSmtp
from support.scaleout import Cluster
from support.server import ServerProcess, wait_until
from support.teams import new_team

LEASE_S = 4.0
REMINDERS = 8


def reminder(team_id: str, n: int) -> dict:
    return {
        "team_id": team_id,
        "event": "action-due-soon",
        "key": f"action-due-soon:r1.a{n}:2026-12-0{n % 9 + 1}",
        "channel": keys.EMAIL,
        "to": [f"owner{n}@example.org"],
        "subject": f"Due in 3 days: action {n}",
        "text": f"Action {n} is due soon.",
    }


def process_of(cluster: Cluster, node: str) -> ServerProcess:
    """The server process a lease names (nodes are "<host>:<pid>")."""
    pid = int(node.rsplit(":", 1)[1])
    return next(s for s in cluster.servers if s.proc is not None and s.proc.pid == pid)


async def test_each_reminder_once_when_its_sender_is_killed_mid_send(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with HoldingSmtp(hold_first=True) as smtp:
        settings = {
            **smtp.env(),
            "DEBRIEF_DELIVERY_POLL_S": "0.2",
            "DEBRIEF_DELIVERY_LEASE_S": str(LEASE_S),
            # One send at a time per process: the held one is all the victim has in hand.
            "DEBRIEF_DELIVERY_CONCURRENCY": "1",
            "DEBRIEF_DELIVERY_RETRY_S": "0.5",
        }
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        cluster = Cluster(tmp_path, 2).start()
        storage = RedisStorage(cluster.redis_url, prefix=cluster.prefix)
        await storage.open()
        try:
            async with httpx.AsyncClient(base_url=cluster[0].url, timeout=10) as http:
                team = await new_team(http)
                await team.ok("admin", "PUT", "/channels", {"email": {"enabled": True}})

            ids = []
            for n in range(REMINDERS):
                assert await outbox.enqueue(storage, reminder(team.id, n))
                # The scheduler of the other process finds the same reminder: no second one.
                assert not await outbox.enqueue(storage, reminder(team.id, n))
                ids.append(keys.delivery_id(reminder(team.id, n)["key"], keys.EMAIL,
                                            reminder(team.id, n)["to"]))  # fmt: skip

            assert await asyncio.to_thread(smtp.held.wait, 30), "no message reached SMTP"
            assert smtp.holding is not None
            held_id = smtp.holding.message_id.strip("<>").split("@")[0]
            held = await outbox.get(storage, held_id)
            assert held is not None and held["state"] == keys.SENDING
            victim = process_of(cluster, held["lease"]["node"])
            survivor = next(s for s in cluster.servers if s is not victim)
            await asyncio.to_thread(victim.kill)  # SIGKILL, mid-DATA
            smtp.release.set()

            async def all_sent() -> bool:
                records = [await outbox.get(storage, i) for i in ids]
                return all(r is not None and r["state"] == keys.SENT for r in records)

            await wait_until(all_sent, timeout=LEASE_S * 6)
            # Nothing is left to claim, so nothing more can be sent: count now.
            assert await storage.index_count(keys.DUE_INDEX) == 0
            accepted = smtp.got()
            by_id = Counter(a.message_id for a in accepted)
            assert by_id == Counter(f"<{i}@debrief>" for i in ids)
            by_content = Counter((a.message["Subject"], tuple(a.rcpt)) for a in accepted)
            assert sorted(by_content.values()) == [1] * REMINDERS
            assert len(by_content) == REMINDERS

            # The held message was never accepted from the victim; the survivor sent it,
            # after the victim's lease had run out.
            assert [d.message_id for d in smtp.dropped] == [f"<{held_id}@debrief>"]
            final = await outbox.get(storage, held_id)
            assert final is not None
            assert final["taken_over_from"] == held["lease"]["node"]
            assert [a["ok"] for a in final["attempts"]] == [True]
            assert process_of(cluster, final["attempts"][0]["node"]) is survivor
            [resent] = [a for a in accepted if a.message_id == f"<{held_id}@debrief>"]
            assert resent.at * 1000 >= held["lease"]["until_ms"]

            # The survivor keeps sending: a reminder queued now goes out once, promptly.
            started = time.monotonic()
            late = reminder(team.id, 99)
            assert await outbox.enqueue(storage, late)

            async def late_arrived() -> bool:
                return any(a.rcpt == late["to"] for a in smtp.got())

            await wait_until(late_arrived, timeout=10)
            assert time.monotonic() - started < 5
        finally:
            await storage.close()
            cluster.stop()


async def test_two_processes_racing_for_the_same_reminders_send_each_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with HoldingSmtp() as smtp:
        smtp.delay_s = 0.05  # sends overlap, so both processes go for the same ones
        for name, value in {**smtp.env(), "DEBRIEF_DELIVERY_POLL_S": "0.05",
                            "DEBRIEF_DELIVERY_CONCURRENCY": "4"}.items():  # fmt: skip
            monkeypatch.setenv(name, value)
        cluster = Cluster(tmp_path, 2).start()
        storage = RedisStorage(cluster.redis_url, prefix=cluster.prefix)
        await storage.open()
        try:
            async with httpx.AsyncClient(base_url=cluster[1].url, timeout=10) as http:
                team = await new_team(http)
                await team.ok("admin", "PUT", "/channels", {"email": {"enabled": True}})
            count = 40
            await asyncio.gather(
                *(outbox.enqueue(storage, reminder(team.id, n)) for n in range(count))
            )

            async def drained() -> bool:
                return len(smtp.got()) >= count and await storage.index_count(keys.DUE_INDEX) == 0

            await wait_until(drained, timeout=60)
            accepted = smtp.got()
            assert len(accepted) == count
            assert len({a.message_id for a in accepted}) == count
            senders = set()
            for n in range(count):
                item = reminder(team.id, n)
                record = await outbox.get(storage, keys.delivery_id(item["key"], keys.EMAIL,
                                                                    item["to"]))  # fmt: skip
                assert record is not None and record["state"] == keys.SENT
                senders.add(record["attempts"][-1]["node"])
            assert len(senders) == 2  # both took part
        finally:
            await storage.close()
            cluster.stop()
