"""Anonymity on the wire: a fourth attendee records every byte it receives (websocket
frames of all three docs and every HTTP response) through a whole meeting, and nothing
in them links a note or a vote to its author."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pycrdt import Doc, Map, get_state

from debrief.protocol import SyncStep2, SyncUpdate, parse_frame
from support.meeting import Person, Review, open_review
from support.server import ServerProcess
from support.yclient import YClient

AUTHORS = ("Alice Author", "Bob Author", "Carol Author")


class Recorder:
    """The watcher: keeps every HTTP response body next to its websocket frames."""

    def __init__(self, review: Review, person: Person) -> None:
        self.review = review
        self.person = person
        self.http_bodies: list[bytes] = []
        self.clients: list[YClient] = []

    async def connect(self) -> None:
        for doc in ("room", "timeline", "recap"):
            self.clients.append(await self.review.client(self.person, doc))

    async def get(self, path: str) -> Any:
        response = await self.review.call(self.person, "GET", path, expect=200)
        self.http_bodies.append(response.content)
        return response.json()

    @property
    def room(self) -> YClient:
        return self.clients[0]

    def frames(self) -> list[bytes]:
        return [f for c in self.clients for f in c.received_frames]

    def everything(self) -> list[bytes]:
        return self.frames() + self.http_bodies


@pytest.fixture
async def review(server: ServerProcess) -> AsyncIterator[Review]:
    async with httpx.AsyncClient(base_url=server.url) as http:
        yield await open_review(server, http, "Anonymity review")


def notes_of(client: YClient) -> dict[str, Any]:
    return client.doc.get("notes", type=Map).to_py() or {}


async def test_nothing_links_a_note_or_vote_to_its_author(review: Review) -> None:
    mod = "moderator"
    authors = [await review.join("participant", name) for name in AUTHORS]
    watcher = Recorder(review, await review.join("participant", "Watcher"))
    await watcher.connect()
    # authors are online too, with presence, as in a real meeting
    presence = [await review.client(a, "room") for a in authors]
    for number, client in enumerate(presence):
        await client.set_awareness({"cursor": number}, 1)

    await review.ok(mod, "POST", "/status", {"status": "live"})
    await watcher.get("")
    submitted: list[tuple[str, Person]] = []  # (text, author) in submission order
    for round_ in range(3):
        for author in authors:
            text = f"note-{round_}-{author.name.split()[0].lower()}-{len(submitted)}"
            created = await review.ok(author, "POST", "/notes", {"text": text})
            assert created["yours"] is True
            submitted.append((text, author))
    await watcher.room.wait_for(
        lambda: watcher.room.note_counts().get("contributing-factor") == 9
    )
    assert await watcher.get("/notes/mine") == {"notes": []}
    before_reveal = b"".join(watcher.everything())
    assert not any(text.encode() in before_reveal for text, _ in submitted)

    await review.ok(mod, "POST", "/reveal", {"section": "contributing-factor"})
    await watcher.room.wait_for(lambda: len(notes_of(watcher.room)) == 9)
    # After the reveal, one person's change is held: it would name them by its timing.
    late_text = "note-late-alice"
    await review.ok(authors[0], "POST", "/notes", {"text": late_text})
    assert late_text not in str(await watcher.get("/recap"))  # the room doc lacks it
    # A second person's change releases both, in one update.
    bob_late = "note-late-bob"
    await review.ok(authors[1], "POST", "/notes", {"text": bob_late})
    await watcher.room.wait_for(lambda: len(notes_of(watcher.room)) == 11)
    _reveal_frame(watcher.room, [late_text, bob_late])  # one frame carried both

    await review.ok(mod, "POST", "/voting/open", {"section": "contributing-factor"})
    by_text = {n["text"]: note_id for note_id, n in notes_of(watcher.room).items()}
    for index, author in enumerate(authors):  # each votes for their own first note
        await review.ok(author, "POST", "/votes", {"target": by_text[submitted[index][0]]})
    await watcher.get("/recap")
    assert watcher.room.doc.get("votes", type=Map).to_py() in ({}, None)  # hidden while open
    await review.ok(mod, "POST", "/voting/close", {"section": "contributing-factor"})
    await watcher.room.wait_for(lambda: len(watcher.room.doc.get("votes", type=Map)) == 11)
    await watcher.get("/recap")
    await watcher.get("/export?format=json")
    await watcher.get("/votes/mine")

    # --- what the watcher saw
    secrets_ = []
    for author in authors:
        secrets_ += [author.participant_id, author.token, author.name]
        secrets_ += [author.session.get("token", "")]
    everything = watcher.everything()
    doc_frames = [f for f in watcher.frames() if isinstance(parse_frame(f), SyncStep2 | SyncUpdate)]
    for blob in doc_frames + watcher.http_bodies:
        for secret in secrets_:
            assert secret.encode() not in blob, f"{secret!r} reached the watcher with a note"
    presence_frames = [f for f in watcher.frames() if f not in doc_frames]
    for blob in presence_frames:  # presence shows who is here, never what they wrote
        assert not any(text.encode() in blob for text, _ in submitted)
    for blob in everything:  # session tokens never travel to anyone else at all
        for author in authors:
            assert author.token.encode() not in blob

    # every note insert carries the server's own client id: the reveal and the late note
    # come from one and the same writer, which is none of the attendees' clients
    reveal_update = _update_of(_reveal_frame(watcher.room, [t for t, _ in submitted]))
    late_update = _update_of(_reveal_frame(watcher.room, [late_text]))
    server_id = _single_writer(reveal_update)
    assert _single_writer(late_update) == server_id
    attendee_ids = {c.doc.client_id for c in [*presence, *watcher.clients]}
    assert server_id not in attendee_ids
    assert not _client_ids(get_state(watcher.room.doc.get_update())) & attendee_ids

    # revealed notes carry no author, no time, no participant id
    for note in notes_of(watcher.room).values():
        assert set(note) == {"id", "text", "kind", "theme_id", "prompt"}
    # the reveal order is not the submission order (it came from a shuffle)
    reveal = _reveal_frame(watcher.room, [t for t, _ in submitted])
    order = sorted(submitted, key=lambda pair: reveal.index(pair[0].encode()))
    assert [t for t, _ in order] != [t for t, _ in submitted]
    # ids are random, so sorting them recovers nothing either
    ids_sorted = sorted((by_text[t], t) for t, _ in submitted)
    assert [t for _, t in ids_sorted] != [t for t, _ in submitted]

    counts = watcher.room.doc.get("votes", type=Map).to_py()
    assert sorted(counts.values()) == [0] * 8 + [1] * 3
    for client in [*watcher.clients, *presence]:
        await client.close()


async def test_live_vote_counts_change_only_with_two_voters_at_once(review: Review) -> None:
    mod = "moderator"
    alice, bob = [await review.join("participant", name) for name in AUTHORS[:2]]
    watcher = Recorder(review, await review.join("participant", "Watcher"))
    await watcher.connect()
    await review.ok(mod, "PATCH", "", {"settings": {"hide_counts_until_closed": False}})
    await review.ok(mod, "POST", "/status", {"status": "live"})
    for author in (alice, bob):
        await review.ok(author, "POST", "/notes", {"text": f"a note by {author.name}"})
    await review.ok(mod, "POST", "/reveal", {"section": "contributing-factor"})
    await review.ok(mod, "POST", "/voting/open", {"section": "contributing-factor"})
    await watcher.room.wait_for(lambda: len(notes_of(watcher.room)) == 2)
    target = next(iter(notes_of(watcher.room)))
    votes = watcher.room.doc.get("votes", type=Map)
    await watcher.room.wait_for(lambda: votes.to_py() == {k: 0 for k in notes_of(watcher.room)})

    await review.ok(alice, "POST", "/votes", {"target": target})
    # her vote is hers to see at once; the shared count waits for someone else's
    assert (await review.ok(alice, "GET", "/votes/mine"))["sections"]
    recap = await watcher.get("/recap")
    assert all(t.get("votes") in (0, None) for t in recap["contributing_factors"][0]["themes"])
    assert votes.to_py()[target] == 0
    await review.ok(bob, "POST", "/votes", {"target": target})
    await watcher.room.wait_for(lambda: votes.to_py().get(target) == 2)
    # Replayed frame by frame, the count went from 0 to 2: no frame ever showed 1.
    replay: Doc = Doc()
    shown = []
    for frame in watcher.room.received_frames:
        parsed = parse_frame(frame)
        if isinstance(parsed, SyncStep2 | SyncUpdate):
            replay.apply_update(parsed.update)
            shown.append(replay.get("votes", type=Map).to_py().get(target))
    assert 1 not in shown and shown[-1] == 2
    for client in watcher.clients:
        await client.close()


async def test_a_lone_change_goes_out_after_a_random_wait(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "d", env={"DEBRIEF_HOLD_MIN": "0.2", "DEBRIEF_HOLD_MAX": "1"})
    server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url) as http:
            review = await open_review(server, http, "Lone change")
            watcher = await review.client("observer", "room")
            await review.ok("moderator", "POST", "/status", {"status": "live"})
            await review.ok("participant", "POST", "/notes", {"text": "first"})
            await review.ok("moderator", "POST", "/reveal", {"section": "contributing-factor"})
            await watcher.wait_for(lambda: len(notes_of(watcher)) == 1)
            note_id = next(iter(notes_of(watcher)))
            await review.ok("participant", "PATCH", f"/notes/{note_id}", {"text": "second"})
            await watcher.wait_for(lambda: notes_of(watcher)[note_id]["text"] == "second")
            await review.ok("participant", "DELETE", f"/notes/{note_id}")
            await watcher.wait_for(lambda: notes_of(watcher) == {})
            await watcher.close()
    finally:
        server.stop()


def _client_ids(state_vector: bytes) -> set[int]:
    # A state vector is varuint count, then (client, clock) pairs.
    ids, pos = [], 0
    count, pos = _varuint(state_vector, pos)
    for _ in range(count):
        client, pos = _varuint(state_vector, pos)
        _, pos = _varuint(state_vector, pos)
        ids.append(client)
    return set(ids)


def _single_writer(update: bytes) -> int:
    """The one client id whose structs an update carries (v1: groups of client structs)."""
    groups, pos = _varuint(update, 0)
    assert groups == 1, "the update mixes several writers"
    _structs, pos = _varuint(update, pos)
    client, _ = _varuint(update, pos)
    return client


def _varuint(data: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def _update_of(frame: bytes) -> bytes:
    parsed = parse_frame(frame)
    assert isinstance(parsed, SyncStep2 | SyncUpdate)
    return parsed.update


def _reveal_frame(client: YClient, texts: list[str]) -> bytes:
    """The single update that carried all the notes at once (one server transaction)."""
    for frame in client.received_frames:
        if all(t.encode() in frame for t in texts):
            return frame
    raise AssertionError("the notes did not arrive in one update")
