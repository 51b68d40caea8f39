"""The fan-out scenarios with no server at all: only the sockets' share of a p99.

A relay process takes each message a writer sends and writes it to the other clients of
its doc, one ``os.write`` per client on non-blocking loopback TCP sockets, straight from
an epoll loop: no websocket framing, no Yjs, no storage, no checks. Messages that are
readable at once go out together, one write per client. The clients live in
two generator processes as in ``bench/run``; readers stamp each message as it comes off
the socket (``time.monotonic_ns``, the writer's stamp is inside the message) and do
nothing else until the phase is over. No server that relays over TCP to these clients
can do less per message, so its p99 is what any server's p99 in the same shape is made
of before the server does anything of its own. Compare it with y-websocket's in
``bench/run`` on the same box:

    .venv/bin/python bench/socket_floor.py [--pin] [--shape big-200|big-500|many] [--runs 3]
        [--threads 2]

With ``--threads 2`` the relay shares a big doc's writes with a helper thread, as
Debrief's fan-out does (rooms/fanout.py): two cores' worth of sends.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import select
import socket
import struct
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection

MESSAGE = struct.Struct("!IIQ")  # writer, seq, send time (ns); padded to SIZE
SIZE = 128  # about a bench update's frame
SPLIT_ABOVE = 64
GENERATORS = 2


@dataclass(frozen=True)
class Shape:
    docs: int
    clients_per_doc: int
    writers_per_doc: int
    rate: float  # messages per writer per second
    seconds: float = 10.0


SHAPES = {
    "big-200": Shape(docs=1, clients_per_doc=200, writers_per_doc=5, rate=4),
    "big-500": Shape(docs=1, clients_per_doc=500, writers_per_doc=5, rate=4),
    "many": Shape(docs=200, clients_per_doc=10, writers_per_doc=2, rate=1),
    # for tests: small docs, and one doc big enough to split its writes
    "smoke": Shape(docs=3, clients_per_doc=4, writers_per_doc=2, rate=5, seconds=1),
    "smoke-big": Shape(docs=1, clients_per_doc=80, writers_per_doc=2, rate=5, seconds=1),
}


# --- the relay ---------------------------------------------------------------------------


def relay(listener: socket.socket, total: int, ready: Connection, threads: int) -> None:
    """Accept ``total`` clients (each first sends its doc as 4 bytes), then relay; with
    2 ``threads``, a big doc's writes are shared with a helper thread."""
    helper = ThreadPoolExecutor(1) if threads > 1 else None
    docs: dict[int, list[int]] = {}
    doc_of: dict[int, int] = {}
    socks = []
    for _ in range(total):
        sock, _ = listener.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        doc = int.from_bytes(_read_exactly(sock, 4), "big")
        sock.setblocking(False)
        socks.append(sock)
        docs.setdefault(doc, []).append(sock.fileno())
        doc_of[sock.fileno()] = doc
    poll = select.epoll()
    for sock in socks:
        poll.register(sock.fileno(), select.EPOLLIN)
    ready.send(os.getpid())
    partial: dict[int, bytes] = {}
    read = os.read
    while True:
        # Everything readable now is read first, and each client then gets what came for
        # it in one write: when writers collide, the fewest writes any server could make.
        came: dict[int, list[tuple[int, bytes]]] = {}
        for fd, _ in poll.poll():
            data = partial.pop(fd, b"") + read(fd, 65536)
            if not data:
                return  # the generators closed: done
            whole = len(data) - len(data) % SIZE
            if whole < len(data):
                partial[fd] = data[whole:]
            if whole:
                came.setdefault(doc_of[fd], []).append((fd, data[:whole]))
        for doc, chunks in came.items():
            targets = docs[doc]
            if helper is not None and len(targets) > SPLIT_ABOVE:  # as rooms/fanout.py
                half = len(targets) // 2
                far = helper.submit(_send, targets[half:], chunks)
                _send(targets[:half], chunks)
                far.result()
            else:
                _send(targets, chunks)


def _send(targets: list[int], chunks: list[tuple[int, bytes]]) -> None:
    """Each target gets what came from the others, in one write."""
    everything = b"".join(chunk for _, chunk in chunks)
    senders = {fd for fd, _ in chunks}
    write = os.write
    for other in targets:
        out = everything
        if other in senders:
            out = b"".join(chunk for fd, chunk in chunks if fd != other)
            if not out:
                continue
        if write(other, out) != len(out):
            raise SystemExit("a client's socket buffer filled: the floor is void")


def _read_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        more = sock.recv(n - len(data))
        if not more:
            raise ConnectionError("closed early")
        data += more
    return data


# --- a generator process -----------------------------------------------------------------


def generator(
    index: int, shape: Shape, port: int, cpus: set[int] | None, conn: Connection
) -> None:
    if cpus is not None:
        os.sched_setaffinity(0, cpus)
    socks: dict[int, socket.socket] = {}
    writers: list[tuple[int, int]] = []  # (fd, writer id)
    doc_of: dict[int, int] = {}
    per_writer = int(shape.rate * shape.seconds)
    expected = 0  # messages this process's clients must each get once
    for doc in range(shape.docs):
        for k in range(shape.clients_per_doc):
            if k % GENERATORS != index:
                continue
            sock = socket.create_connection(("127.0.0.1", port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.sendall(doc.to_bytes(4, "big"))
            sock.setblocking(False)
            socks[sock.fileno()] = sock
            doc_of[sock.fileno()] = doc
            others = shape.writers_per_doc - (1 if k < shape.writers_per_doc else 0)
            expected += others * per_writer
            if k < shape.writers_per_doc:
                writers.append((sock.fileno(), doc * shape.clients_per_doc + k))
    conn.send("connected")
    start_ns = conn.recv()
    period_ns = int(1e9 / shape.rate)
    rng = random.Random(index)
    # every writer's sends, each at its own phase within the period, in time order
    plan = sorted(
        (start_ns + rng.randrange(period_ns) + i * period_ns, fd, wid, i)
        for fd, wid in writers
        for i in range(per_writer)
    )
    poll = select.epoll()
    for fd in socks:
        poll.register(fd, select.EPOLLIN)
    arrivals: list[tuple[int, int, bytes]] = []
    pad = bytes(SIZE - MESSAGE.size)
    end_ns = start_ns + int(shape.seconds * 1e9) + 2_000_000_000
    next_send = 0
    read, now_ns = os.read, time.monotonic_ns
    while True:
        now = now_ns()
        while next_send < len(plan) and plan[next_send][0] <= now:
            _, fd, wid, seq = plan[next_send]
            os.write(fd, MESSAGE.pack(wid, seq, now_ns()) + pad)
            next_send += 1
        if now >= end_ns:
            break
        wait = (plan[next_send][0] if next_send < len(plan) else end_ns) - now
        for fd, _ in poll.poll(max(wait, 0) / 1e9):
            arrivals.append((fd, now_ns(), read(fd, 65536)))
    latencies = []
    seen: set[tuple[int, int, int]] = set()
    held = dict.fromkeys(socks, b"")  # a message split over two reads arrives with the second
    for fd, at, data in arrivals:  # the work a reader does, after the phase
        data = held[fd] + data
        whole = len(data) - len(data) % SIZE
        held[fd] = data[whole:]
        for off in range(0, whole, SIZE):
            wid, seq, sent = MESSAGE.unpack_from(data, off)
            if wid // shape.clients_per_doc == doc_of[fd]:  # else misrouted: not counted
                seen.add((fd, wid, seq))
            latencies.append((at - sent) / 1e6)
    conn.send((latencies, len(seen) == expected == len(latencies)))
    for sock in socks.values():
        sock.close()


# --- one run -----------------------------------------------------------------------------


def run(shape: Shape, pin: bool, threads: int = 1) -> tuple[float, float, int]:
    cpus = sorted(os.sched_getaffinity(0))
    server_cpus = {cpus[0]} if pin else set(cpus)
    client_cpus = set(cpus[1:]) if pin else None
    listener = socket.create_server(("127.0.0.1", 0), backlog=4096)
    port = listener.getsockname()[1]
    total = shape.docs * shape.clients_per_doc
    ctx = multiprocessing.get_context("fork")
    ready_r, ready_w = ctx.Pipe(duplex=False)
    server = ctx.Process(
        target=_pinned_relay, args=(listener, total, ready_w, server_cpus, threads)
    )
    server.start()
    pipes, gens = [], []
    for i in range(GENERATORS):
        parent, child = ctx.Pipe()
        gen = ctx.Process(target=generator, args=(i, shape, port, client_cpus, child))
        gen.start()
        pipes.append(parent)
        gens.append(gen)
    ready_r.recv()
    for pipe in pipes:
        assert pipe.recv() == "connected"
    start = time.monotonic_ns() + 500_000_000
    for pipe in pipes:
        pipe.send(start)
    reports = [pipe.recv() for pipe in pipes]
    latencies = sorted(x for got, _ in reports for x in got)
    for gen in gens:
        gen.join()
    server.join(timeout=10)
    listener.close()
    writers = shape.docs * shape.writers_per_doc
    expected = writers * int(shape.rate * shape.seconds) * (shape.clients_per_doc - 1)
    if len(latencies) != expected or not all(each_once for _, each_once in reports):
        raise SystemExit(f"{len(latencies)} messages arrived, {expected} expected, each once")
    if not latencies:
        raise SystemExit("no message arrived")
    p50 = latencies[len(latencies) // 2]
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return p50, p99, len(latencies)


def _pinned_relay(
    listener: socket.socket, total: int, ready: Connection, cpus: set[int], threads: int
) -> None:
    os.sched_setaffinity(0, cpus)
    relay(listener, total, ready, threads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", choices=sorted(SHAPES), action="append")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument(
        "--pin", action="store_true", help="the relay on the first CPU, the clients on the rest"
    )
    parser.add_argument(
        "--threads", type=int, choices=[1, 2], default=1,
        help="2: past 64 clients of a doc, a helper thread writes half of them",
    )  # fmt: skip
    args = parser.parse_args()
    print("| shape | run | p50 ms | p99 ms | messages |")
    print("|---|---|---|---|---|")
    for name in args.shape or ["big-200", "big-500", "many"]:
        for i in range(args.runs):
            p50, p99, n = run(SHAPES[name], args.pin, args.threads)
            print(f"| {name} | {i + 1} | {p50:.2f} | {p99:.2f} | {n} |", flush=True)


if __name__ == "__main__":
    main()
