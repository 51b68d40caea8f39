"""Hostile updates: bounded before decoding, written only under one's own client ids, and
timeline events changed only by their owner (or the moderator and scribe), with an audit log.
Every test runs a real server process; a crash shows as that process dying."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from pycrdt import Doc, Map

from debrief.protocol import update_frame
from debrief.storage.sqlite import SQLiteStorage
from support.api import create_review, join
from support.poison import deep_any_update
from support.server import ROOT, ServerProcess
from support.yclient import YClient, synced_client


async def team(server: ServerProcess) -> tuple[str, dict[str, dict[str, Any]]]:
    review = await create_review(server.url)
    people = {
        "mod": await join(server.url, review["invites"]["moderator"], "Mo"),
        "ana": await join(server.url, review["invites"]["participant"], "Ana"),
        "ben": await join(server.url, review["invites"]["participant"], "Ben"),
        "obs": await join(server.url, review["invites"]["observer"], "Olu"),
    }
    return review["id"], people


def add_event(client: YClient, event_id: str, by: str, text: str) -> None:
    events = client.doc.get("events", type=Map)
    events[event_id] = Map(
        {"id": event_id, "time": "2025-03-01T09:14:00Z", "text": text, "source": "log", "by": by}
    )


def event_ids(client: YClient) -> set[str]:
    return set(client.doc.get("events", type=Map).keys())


async def test_deeply_nested_update_is_refused_before_decoding(server: ServerProcess) -> None:
    review_id, people = await team(server)
    watcher = await synced_client(server.ws_url, review_id, "timeline", people["ana"]["token"])
    poison = update_frame(deep_any_update(100_000))
    assert len(poison) < 250_000
    for who in ("obs", "ben"):  # read-only and writable peers alike
        attacker = await synced_client(server.ws_url, review_id, "timeline", people[who]["token"])
        await attacker.send_raw(poison)
        assert await attacker.wait_closed() == 1002
        assert "nest" in attacker.close_reason
    assert server.proc is not None and server.proc.poll() is None
    add_event(watcher, "ev_1", people["ana"]["participant_id"], "still here")
    other = await synced_client(server.ws_url, review_id, "timeline", people["mod"]["token"])
    await other.wait_for(lambda: "ev_1" in event_ids(other))
    assert "ev_deep" not in event_ids(other)


async def test_poisoned_storage_fails_one_room_and_doctor_repairs_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = ServerProcess(data).start()
    try:
        review_id, people = await team(server)
        healthy_id, _ = await team(server)
        ana = await synced_client(server.ws_url, review_id, "timeline", people["ana"]["token"])
        add_event(ana, "ev_good", people["ana"]["participant_id"], "kept")
        mod = await synced_client(server.ws_url, review_id, "timeline", people["mod"]["token"])
        await mod.wait_for(lambda: "ev_good" in event_ids(mod))
        await ana.close()
        await mod.close()
    finally:
        assert server.stop() == 0
    # What an older version accepted and stored: an event nested 20,000 deep.
    storage = SQLiteStorage(data / "debrief.sqlite3")
    await storage.open()
    await storage.append_update(f"{review_id}/timeline", deep_any_update(20_000))
    await storage.close()

    server = ServerProcess(data, port=server.port).start()
    try:
        headers = {"Authorization": f"Bearer {people['mod']['token']}"}
        async with httpx.AsyncClient(base_url=server.url, headers=headers) as http:
            broken = await http.get(f"/api/reviews/{review_id}/recap")
            assert broken.status_code == 503
            assert broken.json()["error"] == "storage-unavailable"
            client = YClient(server.ws_url, review_id, "timeline", people["mod"]["token"])
            assert await (await client.connect()).wait_closed() == 1011
            assert server.proc is not None and server.proc.poll() is None
            assert (await http.get("/healthz")).status_code == 200
        healthy = await create_review(server.url)  # the rest of the server carries on
        assert healthy["id"] != healthy_id

        check = doctor(data, review_id)
        assert check.returncode == 1 and "cannot load" in check.stdout
        fixed = doctor(data, review_id, "--repair")
        assert fixed.returncode == 0, fixed.stdout + fixed.stderr
        assert "repaired" in fixed.stdout and "nested" in fixed.stdout
        assert doctor(data, review_id).returncode == 0

        mod = await synced_client(server.ws_url, review_id, "timeline", people["mod"]["token"])
        assert event_ids(mod) == {"ev_good"}
        async with httpx.AsyncClient(base_url=server.url, headers=headers) as http:
            assert (await http.get(f"/api/reviews/{review_id}/recap")).status_code == 200
        await mod.close()
    finally:
        server.stop()


def doctor(data: Path, review_id: str, *flags: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "debrief.cli", "doctor", review_id, "--data", str(data)]
    return subprocess.run(
        [*command, *flags], capture_output=True, text=True, cwd=ROOT, timeout=60, check=False
    )


async def test_writing_under_another_clients_id_is_refused(server: ServerProcess) -> None:
    review_id, people = await team(server)
    victim = await synced_client(server.ws_url, review_id, "timeline", people["ana"]["token"])
    attacker = await synced_client(server.ws_url, review_id, "timeline", people["ben"]["token"])
    reader = await synced_client(server.ws_url, review_id, "timeline", people["mod"]["token"])
    add_event(victim, "ev_v1", people["ana"]["participant_id"], "first")
    await attacker.wait_for(lambda: "ev_v1" in event_ids(attacker))

    # The attacker continues the victim's clock under the victim's client id.
    forged = Doc(client_id=victim.doc.client_id)
    forged.apply_update(attacker.doc.get_update())
    before = forged.get_state()
    forged.get("events", type=Map)["ev_forged"] = Map({"id": "ev_forged", "text": "not mine"})
    await attacker.send_raw(update_frame(forged.get_update(before)))
    await attacker.wait_for(lambda: bool(attacker.denied))
    assert "client id" in attacker.denied[-1]

    add_event(victim, "ev_v2", people["ana"]["participant_id"], "second")
    await reader.wait_for(lambda: "ev_v2" in event_ids(reader))
    assert "ev_forged" not in event_ids(reader)
    late = await synced_client(server.ws_url, review_id, "timeline", people["mod"]["token"])
    assert event_ids(late) == {"ev_v1", "ev_v2"}


async def test_participants_change_only_their_own_events_and_the_log_says_who(
    server: ServerProcess,
) -> None:
    review_id, people = await team(server)
    ana = await synced_client(server.ws_url, review_id, "timeline", people["ana"]["token"])
    ben = await synced_client(server.ws_url, review_id, "timeline", people["ben"]["token"])
    mod = await synced_client(server.ws_url, review_id, "timeline", people["mod"]["token"])
    add_event(ana, "ev_a", people["ana"]["participant_id"], "alert fired")
    add_event(ben, "ev_b", people["ben"]["participant_id"], "rolled back")
    await mod.wait_for(lambda: event_ids(mod) == {"ev_a", "ev_b"})
    await ben.wait_for(lambda: event_ids(ben) == {"ev_a", "ev_b"})

    # Ben wipes the whole timeline with a delete-only update: refused.
    ben.doc.get("events", type=Map).clear()
    await ben.wait_for(lambda: bool(ben.denied))
    # ... and may still change his own event.
    own = await synced_client(server.ws_url, review_id, "timeline", people["ben"]["token"])
    own.doc.get("events", type=Map)["ev_b"]["text"] = "rolled back at 09:40"
    await mod.wait_for(lambda: mod.doc.get("events", type=Map)["ev_b"]["text"].endswith("09:40"))
    assert "ev_a" in event_ids(mod)

    # The moderator may delete anyone's event.
    del mod.doc.get("events", type=Map)["ev_a"]
    await ana.wait_for(lambda: "ev_a" not in event_ids(ana))

    moderator = {"Authorization": f"Bearer {people['mod']['token']}"}
    async with httpx.AsyncClient(base_url=server.url) as http:
        log = await http.get(f"/api/reviews/{review_id}/audit", headers=moderator)
        assert log.status_code == 200, log.text
        entries = log.json()["entries"]
        done = {(e["name"], e["op"], e["target"]) for e in entries}
        assert ("Ana", "add", "event ev_a") in done
        assert ("Ben", "add", "event ev_b") in done
        assert ("Ben", "edit", "event ev_b") in done
        assert ("Mo", "delete", "event ev_a") in done
        assert all(e["doc"] == "timeline" and e["at_ms"] > 0 for e in entries)
        for who in ("ana", "obs"):
            token = {"Authorization": f"Bearer {people[who]['token']}"}
            refused = await http.get(f"/api/reviews/{review_id}/audit", headers=token)
            assert refused.status_code == 403
    for client in (ana, ben, mod, own):
        await client.close()


async def test_a_peer_that_keeps_sending_refused_writes_is_closed(server: ServerProcess) -> None:
    review_id, people = await team(server)
    mod = await synced_client(server.ws_url, review_id, "timeline", people["mod"]["token"])
    add_event(mod, "ev_m", people["mod"]["participant_id"], "imported by hand")
    ben = await synced_client(server.ws_url, review_id, "timeline", people["ben"]["token"])
    await ben.wait_for(lambda: "ev_m" in event_ids(ben))
    for attempt in range(5):
        ben.doc.get("events", type=Map)["ev_m"]["text"] = f"rewritten {attempt}"
    assert await ben.wait_closed() == 1008
    assert len(ben.denied) == 5 and "too many refused" in ben.close_reason
    add_event(mod, "ev_after", people["mod"]["participant_id"], "still writable")
    late = await synced_client(server.ws_url, review_id, "timeline", people["obs"]["token"])
    assert event_ids(late) == {"ev_m", "ev_after"}
    assert late.doc.get("events", type=Map)["ev_m"]["text"] == "imported by hand"
