"""rooms/fanout.py over real TCP sockets: the direct write, a full socket, a closing peer,
in a small room and in one big enough for the loop and a helper thread to share the writes."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator

import pytest

from debrief.rooms import fanout
from debrief.rooms.fanout import SPLIT_ABOVE, broadcast
from debrief.rooms.peer import binary_frame_wire
from support.socket_peers import Pair, socket_pairs

BIG = SPLIT_ABOVE + 16


@pytest.fixture(params=[3, BIG], ids=["small-room", "big-room"])
async def pairs(request: pytest.FixtureRequest) -> AsyncIterator[list[Pair]]:
    async with socket_pairs(request.param) as made:
        yield made


@pytest.fixture
def several_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on any machine with 2 cores or more, whatever this test runs on."""
    monkeypatch.setattr(fanout, "_SEVERAL_CPUS", True)


def spy_on_writers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the threads that write to sockets, one per batch of writes."""
    names: list[str] = []
    write_each = fanout._write_each

    def spied(fds: list[int], wire: bytes) -> list[int]:
        names.append(threading.current_thread().name)
        return write_each(fds, wire)

    monkeypatch.setattr(fanout, "_write_each", spied)
    return names


async def each_reads(pairs: list[Pair], expected: bytes) -> None:
    async with asyncio.timeout(30):  # a write that never came fails here, not at pytest's bound
        for pair in pairs:
            assert await pair.read_exactly(len(expected)) == expected


@pytest.mark.usefixtures("several_cpus")
async def test_every_peer_gets_the_wire_bytes_straight_from_the_socket(pairs: list[Pair]) -> None:
    frame = b"\x00\x02" + bytes(range(200))
    wire = binary_frame_wire(frame)
    broadcast([p.peer for p in pairs], frame)
    for pair in pairs:
        assert await pair.read_exactly(len(wire)) == wire
        assert pair.writer.through_transport == 0  # the direct path took it


@pytest.mark.usefixtures("several_cpus")
async def test_a_full_socket_gets_the_rest_through_its_transport_in_order(
    pairs: list[Pair],
) -> None:
    slow = pairs[0]
    slow.writer.transport.get_extra_info("socket").setsockopt(
        socket.SOL_SOCKET, socket.SO_SNDBUF, 4096
    )
    frames = [bytes([i]) * 50_000 for i in range(6)]  # far more than the socket holds
    for frame in frames:
        broadcast([p.peer for p in pairs], frame)
    assert slow.writer.through_transport > 0  # partial write, then buffered
    expected = b"".join(binary_frame_wire(f) for f in frames)
    for pair in pairs:
        assert await pair.read_exactly(len(expected)) == expected
    assert not any(p.peer.closed for p in pairs)


@pytest.mark.usefixtures("several_cpus")
async def test_closing_and_closed_peers_are_skipped(pairs: list[Pair]) -> None:
    gone, closing, open_ = pairs[:3]
    gone.peer.closed = True
    closing.writer.transport.close()
    frame = b"\x00\x02hello"
    broadcast([p.peer for p in pairs], frame)
    await each_reads([open_, *pairs[3:]], binary_frame_wire(frame))
    assert closing.peer.closed  # write_wire refused: the peer knows it is done
    assert gone.writer.through_transport == 0


@pytest.mark.usefixtures("several_cpus")
async def test_a_big_room_shares_its_writes_with_the_helper_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    writers = spy_on_writers(monkeypatch)
    async with socket_pairs(BIG) as pairs:
        broadcast([p.peer for p in pairs[:SPLIT_ABOVE]], b"\x00\x02small")
        assert writers == []  # at the bound: the loop writes alone, with no hand-off
        frame = b"\x00\x02big"
        broadcast([p.peer for p in pairs], frame)
        # one half by the loop's own thread, the other by the helper
        assert len(writers) == 2
        assert threading.current_thread().name in writers
        assert any(name.startswith("debrief-fanout") for name in writers)
        wire = binary_frame_wire(frame)
        small = binary_frame_wire(b"\x00\x02small")
        for i, pair in enumerate(pairs):
            expected = (small if i < SPLIT_ABOVE else b"") + wire
            assert await pair.read_exactly(len(expected)) == expected


async def test_a_process_on_one_cpu_never_hands_writes_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fanout, "_SEVERAL_CPUS", False)
    writers = spy_on_writers(monkeypatch)
    async with socket_pairs(BIG) as pairs:
        frame = b"\x00\x02one cpu"
        broadcast([p.peer for p in pairs], frame)
        await each_reads(pairs, binary_frame_wire(frame))
    assert writers == []  # the plain loop: no batches handed anywhere


@pytest.mark.usefixtures("several_cpus")
async def test_a_big_room_with_few_sockets_ready_keeps_its_writes_on_the_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    writers = spy_on_writers(monkeypatch)
    async with socket_pairs(BIG) as pairs:
        for pair in pairs[: BIG // 2]:
            pair.peer.closed = True  # not written to at all
        frame = b"\x00\x02few ready"
        broadcast([p.peer for p in pairs], frame)
        await each_reads(pairs[BIG // 2 :], binary_frame_wire(frame))
    assert writers == [threading.current_thread().name]  # one batch, on the loop's thread
