"""Cross-process fan-out and presence over Redis (the Relay of rooms/relay.py).

Updates: tailers read, with blocking XREADs, the log stream of every doc this process
holds from the position each room's load covered (so nothing falls in between), plus
the tailer's own wake-up stream (an attach adds an entry there so the blocked read
starts over with the new room). Log entries this process wrote are recognised by their
node id: they only advance the position.

Presence (and the note counts, the server's entry) goes over pub/sub: a message per
change on the doc's presence channel, tagged with the node, and a hash of the current
states (``{node}:{client id}`` -> JSON) that a process attaching later starts from. It
used to ride a stream per doc, which woke every tailer of that doc (the writer's own
too) into a new XREAD naming all its streams again: a third of two processes' CPU per
note. An attach subscribes first and reads the hash next, holding back what arrives in
between until the hash is applied: the clocks settle whichever came first. Every
process refreshes a heartbeat key with a TTL; the others drop the presence of a node
whose heartbeat expired (its process died without saying goodbye), and delete its
leftovers from the hash.

When a tailer's or the subscriber's Redis connection fails, every room it served fails
(peers closed with 1011, reloaded by the next connection): a room that cannot hear the
others must not go on accepting edits, nor showing stale presence.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import zlib
from typing import Any

from debrief.protocol.awareness import (
    SERVER_CLIENT_ID,
    AwarenessEntry,
    encode_awareness,
    parse_awareness,
)
from debrief.rooms.relay import RelayTarget, RoomLink
from debrief.storage.redis import RedisStorage, pairs, parse_id, text
from debrief.storage.resp import Command, RespClient
from debrief.tasks import cancel_and_wait

log = logging.getLogger(__name__)

PRESENCE_TTL_S = 24 * 3600  # presence keys of docs nobody holds any more go away
# A presence message: the sending node, this byte, the y-protocols awareness payload.
NODE_END = b"\n"


class RedisLink:
    """One room's attachment: its read positions and its outgoing presence."""

    def __init__(self, relay: RedisRelay, room: RelayTarget, position: str) -> None:
        self.relay = relay
        self.room = room
        self._position = position
        self.nodes: set[str] = set()  # remote processes whose presence the room holds
        self.log_key = relay.storage.log_key(room.key)
        self.channel = relay.presence_channel(room.key)
        self.presence_key = f"{relay.storage.log_key(room.key)}:presence"
        self._outbox: list[AwarenessEntry] = []
        # Messages heard between the subscription and the snapshot, applied after it (a
        # window of two round trips, each cut off by the client's command timeout).
        self.held_back: list[tuple[str, bytes]] | None = []
        self.subscribed_in: int | None = None  # the subscriber's generation

    @property
    def position(self) -> str:
        return self._position

    def advance(self, position: str) -> None:
        self._position = position

    def publish_awareness(self, entries: list[AwarenessEntry]) -> None:
        self._outbox.extend(entries)
        self.relay.send_presence(self)

    def presence_commands(self) -> list[Command]:
        """The commands that publish what this room's outbox holds (and empty it)."""
        batch, self._outbox = self._outbox, []
        if not batch:
            return []
        node = self.relay.node
        people = [entry for entry in batch if entry.client_id != SERVER_CLIENT_ID]
        commands: list[Command] = []
        for entry in people:  # the snapshot an attaching process starts from
            field = f"{node}:{entry.client_id}"
            if entry.state is None:
                commands.append(("HDEL", self.presence_key, field))
            else:
                value = json.dumps({"clock": entry.clock, "state": entry.state})
                commands.append(("HSET", self.presence_key, field, value))
        if people:  # (the server's own entry is read from storage where a room loads)
            commands.append(("EXPIRE", self.presence_key, PRESENCE_TTL_S))
        message = node.encode() + NODE_END + encode_awareness(batch)
        commands.append(("PUBLISH", self.channel, message))
        return commands

    def hear(self, node: str, payload: bytes) -> None:
        """A presence message from another process (held back until the snapshot)."""
        if self.held_back is not None:
            self.held_back.append((node, payload))
            return
        try:
            changes = parse_awareness(payload)
        except Exception:
            return  # (another process's bug: its message is lost, not ours)
        self.nodes.add(node)
        self.room.remote_awareness(node, changes)

    def hear_held_back(self) -> None:
        held, self.held_back = self.held_back or [], None
        for node, payload in held:
            self.hear(node, payload)

    async def close(self) -> None:
        self.relay.links.discard(self)
        await self.relay.presence_sent()
        await self.relay.unsubscribe(self)


# Each wake-up of a tailer sends one XREAD naming the log of each room it reads, and
# every name is packed again: 64 keep that to ~10 where 600 docs are open. (With 16, and
# an awareness stream per doc besides, Redis spent a fifth more CPU in the meeting
# bench's seen phase.)
TAILERS = 64


class LinkTable:
    """The attached rooms by doc key, and apart for each tailer: a tailer's loop reads
    only its own rooms' streams, without going over every room of the process (it runs
    once per message that arrives)."""

    def __init__(self) -> None:
        self._all: dict[str, RedisLink] = {}
        self._by_tailer: list[dict[str, RedisLink]] = [{} for _ in range(TAILERS)]

    def get(self, key: str) -> RedisLink | None:
        return self._all.get(key)

    def add(self, link: RedisLink) -> None:
        key = link.room.key
        self.discard_key(key)
        self._all[key] = link
        self._by_tailer[tailer_of(key)][key] = link

    def discard(self, link: RedisLink) -> None:
        """Drop ``link`` if it is still the one attached for its room."""
        if self._all.get(link.room.key) is link:
            self.discard_key(link.room.key)

    def discard_key(self, key: str) -> None:
        if self._all.pop(key, None) is not None:
            self._by_tailer[tailer_of(key)].pop(key, None)

    def of_tailer(self, tailer: int) -> list[RedisLink]:
        return list(self._by_tailer[tailer].values())

    def values(self) -> list[RedisLink]:
        return list(self._all.values())

    def __len__(self) -> int:
        return len(self._all)


def tailer_of(doc_key: str) -> int:
    """Which tailer reads ``doc_key``'s streams (stable for the process's lifetime)."""
    return zlib.crc32(doc_key.encode()) % TAILERS


class RedisRelay:
    def __init__(
        self, storage: RedisStorage, *, node_ttl_s: float = 15.0, block_ms: int = 5000
    ) -> None:
        self.storage = storage
        self.node = storage.node_id
        self.node_ttl_s = node_ttl_s
        self.block_ms = block_ms
        self.links = LinkTable()
        prefix = storage.prefix
        self._alive_prefix = f"{prefix}node:"
        # Several tailers, each blocking on the streams of its share of the docs: an
        # XREAD names every stream it waits on and is re-sent after each reply, so one
        # tailer for 200 docs re-encoded 400 stream names per update.
        self._wake_keys = [f"{prefix}node:{self.node}:wake:{i}" for i in range(TAILERS)]
        self._wake_positions = ["0-0"] * TAILERS
        self._tasks: list[asyncio.Task[None]] = []
        # Rooms with presence to publish: one round trip for all that a loop turn has (a
        # note shows its counts in its room's presence: one trip per note cost 13 %).
        self._presence_due: dict[RedisLink, None] = {}
        self._presence_sender: asyncio.Task[None] | None = None
        # Presence arrives on one subscribed connection; what it is subscribed to goes
        # with it, so a lost one fails every room and starts a new generation.
        self._channel_prefix = f"{prefix}aw:"
        self._subscriber = RespClient(
            storage.url, on_push=self._heard, on_lost=self._subscriber_lost
        )
        self._subscriptions: dict[str, int] = {}  # channel -> rooms attached to it
        self._generation = 0
        self._stopping = False

    def presence_channel(self, doc_key: str) -> str:
        return f"{self._channel_prefix}{doc_key}"

    def send_presence(self, link: RedisLink) -> None:
        self._presence_due[link] = None
        if self._presence_sender is None or self._presence_sender.done():
            self._presence_sender = asyncio.get_running_loop().create_task(self._send_presence())

    async def _send_presence(self) -> None:
        while self._presence_due:
            links, self._presence_due = list(self._presence_due), {}
            try:
                commands = [command for link in links for command in link.presence_commands()]
                if commands:
                    await self.storage.resp.transaction(*commands)
            except Exception as exc:  # presence is best effort; the log path reports loss
                log.warning("presence of %d docs not published: %s", len(links), exc)

    async def presence_sent(self) -> None:
        """Wait until the presence queued so far is published (or given up on)."""
        sender = self._presence_sender
        if sender is not None and not sender.done():
            with contextlib.suppress(Exception):
                await asyncio.shield(sender)

    def alive_key(self, node: str) -> str:
        return f"{self._alive_prefix}{node}:alive"

    async def start(self) -> None:
        with contextlib.suppress(Exception):
            await self._beat()
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._tail_loop(i)) for i in range(TAILERS)]
        self._tasks.append(loop.create_task(self._beat_loop()))

    async def stop(self) -> None:
        self._stopping = True
        await cancel_and_wait(*self._tasks)
        await self._subscriber.close()
        with contextlib.suppress(Exception):  # others drop our presence right away
            await self.storage.resp.call("DEL", self.alive_key(self.node), *self._wake_keys)

    # --- attaching rooms -----------------------------------------------------------

    async def attach(self, room: RelayTarget, position: str) -> RoomLink:
        link = RedisLink(self, room, position)
        # registered first: the woken tailer and the subscriber must find it
        self.links.add(link)
        try:
            await self._subscribe(link)
            # Subscribed before the snapshot is read: a change made in between is held
            # back by the link and applied after the snapshot, so none is missed.
            flat = await self.storage.call(
                self.storage.resp.call("HGETALL", link.presence_key), f"attach {room.key}"
            )
            await self._start_from(link, flat)
            link.hear_held_back()
            wake_key = self._wake_keys[tailer_of(room.key)]
            wake = self.storage.resp.transaction(
                ("XADD", wake_key, "MAXLEN", 16, "*", "w", "1"),
                ("EXPIRE", wake_key, PRESENCE_TTL_S),
            )
            await self.storage.call(wake, f"attach {room.key}")
        except BaseException:
            await link.close()
            raise
        return link

    async def _start_from(self, link: RedisLink, flat: Any) -> None:
        """Show the room the presence other live processes hold for it (the hash)."""
        by_node: dict[str, list[AwarenessEntry]] = {}
        for field, raw in pairs(flat).items():
            node, _, cid = text(field).rpartition(":")
            if node == self.node or not cid.isdigit():
                continue
            try:  # a bad entry (another release's, a hand edit) is skipped, not fatal
                value = json.loads(raw)
                found = AwarenessEntry(int(cid), int(value["clock"]), value["state"])
            except (ValueError, TypeError, KeyError):
                continue
            if found.state is not None and not isinstance(found.state, dict):
                continue
            by_node.setdefault(node, []).append(found)
        alive = await self._alive(list(by_node))
        for node, entries in by_node.items():
            if node in alive:
                link.nodes.add(node)
                link.room.remote_awareness(node, entries)

    # --- presence over pub/sub -------------------------------------------------------

    async def _subscribe(self, link: RedisLink) -> None:
        channel = link.channel
        link.subscribed_in = self._generation
        self._subscriptions[channel] = self._subscriptions.get(channel, 0) + 1
        # Sent even when another room of this key is subscribed: its answer says the
        # subscription is in place (an earlier SUBSCRIBE may still be on its way).
        await self.storage.call(self._subscriber.call("SUBSCRIBE", channel), "subscribe")

    async def unsubscribe(self, link: RedisLink) -> None:
        """``link`` no longer needs its channel: unsubscribed when no room of it does."""
        generation, link.subscribed_in = link.subscribed_in, None
        if generation != self._generation:
            return  # never subscribed, or on a connection that is gone
        channel = link.channel
        left = self._subscriptions.get(channel, 0) - 1
        if left > 0:
            self._subscriptions[channel] = left
            return
        self._subscriptions.pop(channel, None)
        with contextlib.suppress(Exception):
            await self._subscriber.call("UNSUBSCRIBE", channel)

    def _heard(self, channel: bytes, message: bytes) -> None:
        """A message on a presence channel (called by the subscriber's protocol)."""
        try:
            link = self.links.get(channel.decode()[len(self._channel_prefix) :])
            node, found, payload = message.partition(NODE_END)
            if link is None or not found:
                return
            sender = node.decode()
            if sender != self.node:  # (our own come back to us too)
                link.hear(sender, payload)
        except Exception:
            log.exception("presence message on %r not applied", channel)

    def _subscriber_lost(self, exc: Exception) -> None:
        if self._stopping:
            return
        self._generation += 1
        self._subscriptions.clear()
        self._lost(self.links.values(), exc)

    # --- the tailer ----------------------------------------------------------------

    async def _tail_loop(self, tailer: int) -> None:
        # A connection of its own: the read blocks it for up to block_ms.
        client = RespClient(self.storage.url, command_timeout=self.block_ms / 1000 + 10)
        backoff = 0.05
        try:
            while True:
                reading = self.links.of_tailer(tailer)
                wake_key = self._wake_keys[tailer]
                names = [wake_key]
                positions = [self._wake_positions[tailer]]
                targets: dict[str, RedisLink] = {}
                for link in reading:
                    names.append(link.log_key)
                    positions.append(link.position)
                    targets[link.log_key] = link
                read = ("XREAD", "COUNT", 1000, "BLOCK", self.block_ms, "STREAMS")
                try:
                    replies: Any = await client.call(*read, *names, *positions)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    self._lost(reading, exc)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 2.0)
                    continue
                backoff = 0.05
                for stream, entries in replies or []:
                    name = text(stream)
                    if name == wake_key:
                        self._wake_positions[tailer] = text(entries[-1][0])
                        continue
                    link = targets[name]
                    if self.links.get(link.room.key) is not link:
                        continue  # detached while the read was in flight
                    self._dispatch(link, entries)
        finally:
            with contextlib.suppress(Exception):
                await client.close()

    def _lost(self, reading: list[RedisLink], exc: Exception) -> None:
        if reading:
            log.error("lost redis while reading %d docs: %s", len(reading), exc)
        for link in reading:
            if self.links.get(link.room.key) is link:
                self.links.discard(link)
                link.room.fail(f"lost redis: {exc}")

    def _dispatch(self, link: RedisLink, entries: list[Any]) -> None:
        floor = parse_id(link.position)
        for raw_id, flat in entries:
            entry_id = text(raw_id)
            if parse_id(entry_id) <= floor:
                continue
            link.advance(entry_id)
            fields = pairs(flat)
            if text(fields[b"n"]) != self.node:
                link.room.apply_remote(bytes(fields[b"u"]))

    # --- heartbeats ----------------------------------------------------------------

    async def _beat(self) -> None:
        ttl_ms = int(self.node_ttl_s * 1000)
        await self.storage.resp.call("SET", self.alive_key(self.node), "1", "PX", ttl_ms)

    async def _alive(self, nodes: list[str]) -> set[str]:
        if not nodes:
            return set()
        found = await self.storage.call(
            self.storage.resp.call("MGET", *(self.alive_key(n) for n in nodes)), "heartbeats"
        )
        return {node for node, value in zip(nodes, found, strict=True) if value is not None}

    async def _beat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.node_ttl_s / 3)
            try:
                await self._beat()
                await self._sweep()
            except Exception as exc:
                log.warning("heartbeat failed: %s", exc)

    async def _sweep(self) -> None:
        """Drop the presence of processes whose heartbeat expired."""
        nodes = sorted({node for link in self.links.values() for node in link.nodes})
        alive = await self._alive(nodes)
        dead = set(nodes) - alive
        if not dead:
            return
        for link in list(self.links.values()):
            gone = link.nodes & dead
            if not gone:
                continue
            for node in gone:
                link.room.drop_remote_node(node)
            link.nodes -= gone
            fields = [
                field
                for field in await self.storage.resp.call("HKEYS", link.presence_key)
                if text(field).rpartition(":")[0] in gone
            ]
            if fields:
                await self.storage.resp.call("HDEL", link.presence_key, *fields)
