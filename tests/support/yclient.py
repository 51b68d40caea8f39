"""A real Yjs client in Python: pycrdt doc + y-websocket protocol over `websockets`."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

import websockets
from pycrdt import Doc, TransactionEvent, create_sync_message, write_var_uint
from websockets.asyncio.client import ClientConnection

from debrief.protocol import (
    AwarenessFrame,
    PermissionDenied,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    awareness_frame,
    parse_frame,
    sync_step2_frame,
    update_frame,
)
from debrief.protocol.awareness import (
    SERVER_CLIENT_ID,
    AwarenessEntry,
    encode_awareness,
    parse_awareness,
)


class YClient:
    def __init__(
        self,
        ws_url: str,
        review_id: str,
        doc: str,
        token: str | None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.url = f"{ws_url}/ws/{review_id}/{doc}"
        self.headers = dict(headers or {})
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.doc: Doc = Doc()
        self.ws: ClientConnection | None = None
        self.synced = asyncio.Event()
        self.closed = asyncio.Event()
        self.close_code: int | None = None
        self.close_reason = ""
        self.denied: list[str] = []
        self.awareness: dict[int, dict[str, Any] | None] = {}
        self.received_frames: list[bytes] = []
        self._changed = asyncio.Condition()
        self._remote = False
        self._task: asyncio.Task[None] | None = None
        self.doc.observe(self._on_local_change)

    async def connect(self) -> YClient:
        self.ws = await websockets.connect(
            self.url, additional_headers=self.headers, max_size=None, open_timeout=20
        )
        self._task = asyncio.create_task(self._read())
        await self._send_quietly(create_sync_message(self.doc))
        return self

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for data in self.ws:
                assert isinstance(data, bytes)
                self.received_frames.append(data)
                frame = parse_frame(data)
                if isinstance(frame, SyncStep1):
                    await self.ws.send(sync_step2_frame(self.doc.get_update(frame.state_vector)))
                elif isinstance(frame, SyncStep2 | SyncUpdate):
                    self._remote = True
                    try:
                        self.doc.apply_update(frame.update)
                    finally:
                        self._remote = False
                    if isinstance(frame, SyncStep2):
                        self.synced.set()
                elif isinstance(frame, AwarenessFrame):
                    for entry in parse_awareness(frame.payload):
                        self.awareness[entry.client_id] = entry.state
                elif isinstance(frame, PermissionDenied):
                    self.denied.append(frame.reason)
                await self._notify()
        except websockets.ConnectionClosed:
            pass
        finally:
            if self.ws.close_code is not None:
                self.close_code = self.ws.close_code
                self.close_reason = self.ws.close_reason or ""
            self.closed.set()
            await self._notify()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _on_local_change(self, event: TransactionEvent) -> None:
        if self._remote or self.ws is None:
            return
        asyncio.get_running_loop().create_task(self._send_quietly(update_frame(event.update)))

    async def _send_quietly(self, frame: bytes) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            assert self.ws is not None
            await self.ws.send(frame)

    async def send_raw(self, data: bytes | str) -> None:
        assert self.ws is not None
        await self.ws.send(data)

    def note_counts(self) -> dict[str, int]:
        """The hidden notes per section, as the server shows them in its awareness entry
        of the `room` doc ({} before it shows any)."""
        state = self.awareness.get(SERVER_CLIENT_ID) or {}
        counts = state.get("note_counts")
        return dict(counts) if isinstance(counts, dict) else {}

    async def set_awareness(
        self, state: dict[str, Any] | None, clock: int, client_id: int | None = None
    ) -> None:
        cid = self.doc.client_id if client_id is None else client_id
        await self.send_raw(awareness_frame(encode_awareness([AwarenessEntry(cid, clock, state)])))

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 20) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(predicate)

    async def wait_synced(self, timeout: float = 20) -> YClient:
        async with asyncio.timeout(timeout):
            await self.synced.wait()
        return self

    async def wait_closed(self, timeout: float = 20) -> int | None:
        async with asyncio.timeout(timeout):
            await self.closed.wait()
        return self.close_code

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task


def raw_awareness(entries: list[tuple[int, int, Any]]) -> bytes:
    parts = [write_var_uint(len(entries))]
    for cid, clock, state in entries:
        raw = json.dumps(state).encode()
        parts += [write_var_uint(cid), write_var_uint(clock), write_var_uint(len(raw)), raw]
    return b"".join(parts)


async def synced_client(ws_url: str, review_id: str, doc: str, token: str | None) -> YClient:
    """Connect a client and wait for its first full sync."""
    return await (await YClient(ws_url, review_id, doc, token).connect()).wait_synced()
