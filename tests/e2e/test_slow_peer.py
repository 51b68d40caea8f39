"""A peer that stops reading is cut loose (1013) without holding anyone else back."""

from __future__ import annotations

import asyncio
import base64
import secrets
import socket
from pathlib import Path

import httpx
import websockets
from pycrdt import Map

from support.api import participant_review
from support.server import ServerProcess, wait_until
from support.yclient import YClient, synced_client

TCP_ESTABLISHED = 1  # tcpi_state, the first byte of TCP_INFO (linux/tcp_states.h)


def metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} missing")


async def test_stalled_reader_is_closed_and_others_get_everything(tmp_path: Path) -> None:
    server = ServerProcess(
        tmp_path / "d", env={"DEBRIEF_PEER_QUEUE": "16", "DEBRIEF_PEER_BUFFER": "1000000"}
    ).start()
    try:
        review, tok = await participant_review(server.url)
        writer = await synced_client(server.ws_url, review["id"], "timeline", tok)
        reader = await synced_client(server.ws_url, review["id"], "timeline", tok)
        # a raw client that never reads: the kernel buffers fill, then our queue
        stalled = await websockets.connect(
            f"{server.ws_url}/ws/{review['id']}/timeline",
            additional_headers={"Authorization": f"Bearer {tok}"},
            max_queue=1,
        )
        blob = secrets.token_urlsafe(45_000)  # incompressible, ~60 kB
        events = writer.doc.get("m", type=Map)
        seen = reader.doc.get("m", type=Map)
        for i in range(300):  # one frame each: wait for the reader before the next edit
            events[f"k{i}"] = blob
            await reader.wait_for(lambda i=i: f"k{i}" in seen)
        assert len(seen) == 300
        async with httpx.AsyncClient(base_url=server.url) as http:
            text = (await http.get("/metrics")).text
        assert metric(text, "debrief_slow_peers_closed_total") == 1
        await stalled.close()
        await writer.close()
        await reader.close()
    finally:
        server.stop()


async def metrics(server: ServerProcess) -> str:
    async with httpx.AsyncClient(base_url=server.url) as http:
        return (await http.get("/metrics")).text


async def stalled_socket(server: ServerProcess, review_id: str, token: str) -> socket.socket:
    """A websocket client over a plain socket that reads its handshake answer and then
    nothing more, with a small receive buffer so the server's side fills up soon."""
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await loop.sock_connect(sock, ("127.0.0.1", server.port))
    key = base64.b64encode(secrets.token_bytes(16)).decode()
    request = (
        f"GET /ws/{review_id}/timeline HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        f"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n"
    )
    await loop.sock_sendall(sock, request.encode())
    head = b""
    while not head.endswith(b"\r\n\r\n"):  # byte by byte: no frame is read
        byte = await loop.sock_recv(sock, 1)
        assert byte, f"closed during the handshake: {head!r}"
        head += byte
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def connection_open(sock: socket.socket) -> bool:
    """Whether the server has neither closed nor reset this connection (seen from the
    client's kernel, without reading what the server sent)."""
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0] == TCP_ESTABLISHED


async def test_a_stalled_readers_connection_is_dropped(tmp_path: Path) -> None:
    """Its 1013 close cannot go out behind the bytes it does not read: the connection is
    aborted after the close timeout, and it is no longer counted."""
    server = ServerProcess(
        tmp_path / "d",
        env={"DEBRIEF_PEER_BUFFER": "1000000", "DEBRIEF_PEER_CLOSE_TIMEOUT": "1"},
    ).start()
    try:
        review, tok = await participant_review(server.url)
        writer = await synced_client(server.ws_url, review["id"], "timeline", tok)
        reader = await synced_client(server.ws_url, review["id"], "timeline", tok)
        stalled = await stalled_socket(server, review["id"], tok)
        await wait_until(lambda: has_metric(server, "debrief_connections", 3))
        blob = secrets.token_urlsafe(45_000)  # incompressible, ~60 kB
        events, seen = writer.doc.get("m", type=Map), reader.doc.get("m", type=Map)
        for i in range(300):  # one frame each: wait for the reader before the next edit
            events[f"k{i}"] = blob
            await reader.wait_for(lambda i=i: f"k{i}" in seen)
            if i % 10 == 9 and await has_metric(server, "debrief_slow_peers_closed_total", 1):
                break
        assert await has_metric(server, "debrief_slow_peers_closed_total", 1)
        # bound: the close timeout (1 s) and slack for a loaded machine
        await wait_until(lambda: closed_by_server(stalled), timeout=15)
        await wait_until(lambda: has_metric(server, "debrief_connections", 2), timeout=15)
        assert not writer.closed.is_set() and not reader.closed.is_set()
        stalled.close()
        await writer.close()
        await reader.close()
    finally:
        server.stop()


async def has_metric(server: ServerProcess, name: str, value: float) -> bool:
    return metric(await metrics(server), name) == value


async def closed_by_server(sock: socket.socket) -> bool:
    return not connection_open(sock)


async def test_joining_a_doc_bigger_than_the_peer_buffer(tmp_path: Path) -> None:
    """The first sync of a doc larger than the slow-client bound is sent whole and does
    not count against the bound: the joiner stays connected and gets what follows."""
    server = ServerProcess(tmp_path / "d", env={"DEBRIEF_PEER_BUFFER": "1000000"}).start()
    try:
        review, tok = await participant_review(server.url)
        writer = await synced_client(server.ws_url, review["id"], "timeline", tok)
        blobs = writer.doc.get("blobs", type=Map)
        # ~7 MB, in 60 kB strings and 720 kB updates (under the 1 MiB frame limit): more
        # than the kernel takes at once (its send buffer grows to 4 MB) and the 1 MB bound
        for i in range(10):
            with writer.doc.transaction():
                for j in range(12):
                    blobs[f"b{i}-{j}"] = secrets.token_urlsafe(45_000)
        await wait_until(lambda: has_written(server, 10))
        joiner = await YClient(server.ws_url, review["id"], "timeline", tok).connect()
        await joiner.wait_synced()
        assert joiner.doc.get("blobs", type=Map).to_py() == blobs.to_py()
        assert max(map(len, joiner.received_frames)) > 7_000_000  # the sync, one frame
        writer.doc.get("m", type=Map)["after"] = 1  # and it keeps getting updates
        await joiner.wait_for(lambda: "after" in joiner.doc.get("m", type=Map))
        assert not joiner.closed.is_set()
        assert await has_metric(server, "debrief_slow_peers_closed_total", 0)
        await joiner.close()
        await writer.close()
    finally:
        server.stop()


async def has_written(server: ServerProcess, updates: int) -> bool:
    return metric(await metrics(server), "debrief_updates_broadcast_total") >= updates


async def test_fan_out_uses_the_direct_socket_path(tmp_path: Path) -> None:
    """With a one-frame queue, only the write-straight-to-socket path can serve a sync.

    Queued peers would be closed at once (the greeting and the sync answer are two
    frames); the fast path bounds by buffered bytes instead. Guards against the fast
    path silently falling back (e.g. a framework wrapping ``send``).
    """
    server = ServerProcess(tmp_path / "d", env={"DEBRIEF_PEER_QUEUE": "1"}).start()
    try:
        review, tok = await participant_review(server.url)
        a = await synced_client(server.ws_url, review["id"], "timeline", tok)
        b = await synced_client(server.ws_url, review["id"], "timeline", tok)
        for i in range(20):
            a.doc.get("m", type=Map)[f"k{i}"] = i
        await b.wait_for(lambda: len(b.doc.get("m", type=Map)) == 20)
        assert not a.closed.is_set() and not b.closed.is_set()
        await a.close()
        await b.close()
    finally:
        server.stop()
