"""storage/resp.py on a real Redis: many callers share one connection and each gets its
own replies; error replies and aborted transactions raise; a caller that gives up does
not shift the others' replies; a dead or frozen Redis fails the waiting callers (not
hangs them) and the next call opens a new connection; URLs with a database, a
password or a socket path."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from hypothesis import given, settings
from hypothesis import strategies as st

from debrief.storage.resp import Address, ConnectionLost, ReplyError, RespClient, RespError
from support.scaleout import ThrowawayRedis
from support.server import free_port

URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
async def resp() -> AsyncIterator[RespClient]:
    client = RespClient(URL)
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
def key() -> Iterator[str]:
    prefix = f"resp-test-{secrets.token_hex(4)}:"
    yield prefix
    import redis as sync_redis

    with sync_redis.Redis.from_url(URL) as r:
        names = list(r.scan_iter(match=prefix + "*"))
        if names:
            r.delete(*names)


async def test_concurrent_callers_share_one_connection_and_get_their_own_replies(
    resp: RespClient, key: str
) -> None:
    async def caller(i: int) -> tuple[int, list[object]]:
        await resp.execute(("SET", f"{key}{i}", f"value {i}"))
        if i % 2:
            replies = await resp.transaction(("INCR", f"{key}n{i}"), ("GET", f"{key}{i}"))
        else:
            replies = await resp.execute(("INCR", f"{key}n{i}"), ("GET", f"{key}{i}"))
        connection = await resp.call("CLIENT", "ID")
        return connection, replies

    results = await asyncio.gather(*(caller(i) for i in range(300)))
    assert {connection for connection, _ in results} == {results[0][0]}  # one connection
    for i, (_, replies) in enumerate(results):
        assert replies == [1, f"value {i}".encode()]


async def test_no_commands_make_no_trip(resp: RespClient) -> None:
    assert await resp.execute() == []


async def test_an_error_reply_raises_after_the_others_ran(resp: RespClient, key: str) -> None:
    await resp.call("HSET", f"{key}h", "f", "v")
    with pytest.raises(ReplyError, match="WRONGTYPE"):
        await resp.execute(("SET", f"{key}a", "1"), ("INCR", f"{key}h"), ("SET", f"{key}b", "2"))
    assert await resp.execute(("GET", f"{key}a"), ("GET", f"{key}b")) == [b"1", b"2"]
    assert await resp.call("PING") == b"PONG"  # the connection goes on


async def test_a_transaction_redis_refuses_to_queue_runs_nothing(
    resp: RespClient, key: str
) -> None:
    with pytest.raises(ReplyError):
        await resp.transaction(("SET", f"{key}a", "1"), ("NO-SUCH-COMMAND",))
    assert await resp.call("EXISTS", f"{key}a") == 0
    assert await resp.call("PING") == b"PONG"


async def test_a_command_failing_inside_a_transaction_raises(resp: RespClient, key: str) -> None:
    await resp.call("HSET", f"{key}h", "f", "v")
    with pytest.raises(ReplyError, match="WRONGTYPE"):
        await resp.transaction(("INCR", f"{key}h"), ("SET", f"{key}b", "2"))
    assert await resp.call("GET", f"{key}b") == b"2"  # as Redis does: the rest ran


async def test_a_caller_that_gives_up_does_not_shift_the_replies(
    resp: RespClient, key: str
) -> None:
    await resp.execute(("SET", f"{key}1", "one"), ("SET", f"{key}2", "two"))
    leaving = asyncio.create_task(resp.call("GET", f"{key}1"))
    await asyncio.sleep(0)  # its command is queued for the wire
    leaving.cancel()
    assert await resp.call("GET", f"{key}2") == b"two"
    assert leaving.cancelled()


async def written(resp: RespClient) -> None:
    """Until a batch waits on the connection and everything queued has been written."""
    for _ in range(1000):
        protocol = resp._protocol
        if protocol is not None and protocol.waiting and not protocol.out:
            return
        await asyncio.sleep(0)
    raise AssertionError("the command was never written")


async def test_a_dead_redis_fails_the_waiters_and_the_next_call_reconnects(
    tmp_path: Path,
) -> None:
    server = ThrowawayRedis(tmp_path / "redis").start()
    assert server.proc is not None
    resp = RespClient(server.url, command_timeout=30)
    try:
        await resp.call("SET", "k", "v")
        os.kill(server.proc.pid, signal.SIGSTOP)  # so that the next call waits on it
        waiting = asyncio.create_task(resp.call("GET", "k"))
        await written(resp)
        assert not waiting.done()
        started = time.monotonic()
        server.kill()  # the socket closes: no need to wait for the 30 s limit
        with pytest.raises(ConnectionLost):
            await asyncio.wait_for(waiting, 10)
        assert time.monotonic() - started < 10
        with pytest.raises(ConnectionLost):  # nobody listens
            await resp.call("PING")
        server.start()  # the same port, its data from the append-only file
        assert await resp.call("GET", "k") == b"v"
    finally:
        await resp.close()
        server.kill()


async def test_a_frozen_redis_is_cut_off_after_the_limit(tmp_path: Path) -> None:
    server = ThrowawayRedis(tmp_path / "redis").start()
    assert server.proc is not None
    resp = RespClient(server.url, command_timeout=0.4)
    try:
        await resp.call("SET", "k", "v")
        os.kill(server.proc.pid, signal.SIGSTOP)  # alive, holding its sockets, silent
        try:
            started = time.monotonic()
            with pytest.raises(ConnectionLost, match="no answer"):
                await asyncio.wait_for(resp.call("GET", "k"), 10)
            assert time.monotonic() - started >= 0.4  # and not before its limit
        finally:
            os.kill(server.proc.pid, signal.SIGCONT)
        assert await resp.call("GET", "k") == b"v"  # a new connection
    finally:
        await resp.close()
        server.kill()


async def test_a_blocking_read_on_its_own_client_waits_its_full_time() -> None:
    """The relay's tailers block in XREAD on clients of their own, whose limit is the
    block time and more."""
    resp = RespClient(URL, command_timeout=5)
    try:
        started = time.monotonic()
        reply = await resp.call("XREAD", "BLOCK", 300, "STREAMS", "resp-test:none", "$")
        assert reply is None
        assert time.monotonic() - started >= 0.3
    finally:
        await resp.close()


async def test_the_database_of_the_url_is_used(key: str) -> None:
    resp = RespClient("redis://127.0.0.1:6379/5")
    other = aioredis.Redis.from_url("redis://127.0.0.1:6379/5")
    try:
        await resp.call("SET", f"{key}db", "five")
        assert await other.get(f"{key}db") == b"five"
        await other.delete(f"{key}db")
    finally:
        await resp.close()
        await other.aclose()


@pytest.fixture
def locked_redis(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A redis-server that wants a password, on a TCP port and a unix socket."""
    port, sock = free_port(), tmp_path / "redis.sock"
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--unixsocket", str(sock), "--requirepass", "s3cret/pw"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while not sock.exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        yield port, sock
    finally:
        proc.kill()
        proc.wait(10)


async def test_a_password_in_the_url_and_a_unix_socket(locked_redis: tuple[int, Path]) -> None:
    port, sock = locked_redis
    for url in (f"redis://:s3cret%2Fpw@127.0.0.1:{port}/0", f"unix://:s3cret%2Fpw@{sock}?db=2"):
        resp = RespClient(url)
        try:
            assert await resp.call("PING") == b"PONG"
        finally:
            await resp.close()
    wrong = RespClient(f"redis://:nope@127.0.0.1:{port}/0")
    try:
        with pytest.raises(ReplyError, match="WRONGPASS"):
            await wrong.call("PING")
    finally:
        await wrong.close()
    anonymous = RespClient(f"redis://127.0.0.1:{port}/0")
    try:
        with pytest.raises(ReplyError, match="NOAUTH"):
            await anonymous.call("PING")
    finally:
        await anonymous.close()


def test_urls() -> None:
    assert Address.parse("redis://h:7000/3") == Address(host="h", port=7000, db=3)
    assert Address.parse("rediss://u:p@h/0") == Address(
        host="h", tls=True, username="u", password="p"
    )
    assert Address.parse("unix:///run/redis.sock?db=4") == Address(
        socket_path="/run/redis.sock", db=4
    )
    for bad in ("ftp://h/0", "redis://h/zz", "unix://"):
        with pytest.raises(ValueError, match="not a Redis URL"):
            Address.parse(bad)


async def test_a_closed_client_refuses_commands() -> None:
    resp = RespClient(URL)
    await resp.call("PING")
    await resp.close()
    with pytest.raises(RespError):
        await resp.call("PING")


# Callers on one connection: plain batches and transactions, with and without a failing
# command, some given up before or after their commands went out. Each caller writes
# keys of its own, so whatever ran, its replies are knowable: they must be its own.
callers = st.lists(
    st.tuples(
        st.sampled_from(["execute", "transaction"]),
        st.integers(min_value=1, max_value=4),  # SET+GET pairs
        st.booleans(),  # a command in the batch fails (WRONGTYPE)
        st.one_of(st.none(), st.integers(min_value=0, max_value=3)),  # cancel after turns
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=40, deadline=None)
@given(callers)
def test_replies_never_reach_the_wrong_caller(
    plan: list[tuple[str, int, bool, int | None]],
) -> None:
    prefix = f"resp-fuzz-{secrets.token_hex(4)}:"

    async def run() -> None:
        resp = RespClient(URL)
        try:
            await resp.call("HSET", f"{prefix}hash", "f", "v")

            async def caller(i: int, mode: str, pairs: int, fails: bool) -> list[object]:
                commands: list[tuple[str, ...]] = []
                for j in range(pairs):
                    commands += [
                        ("SET", f"{prefix}{i}:{j}", f"v{i}.{j}"),
                        ("GET", f"{prefix}{i}:{j}"),
                    ]
                if fails:
                    commands.insert(1, ("INCR", f"{prefix}hash"))
                send = resp.transaction if mode == "transaction" else resp.execute
                return await send(*commands)

            tasks = [
                asyncio.create_task(caller(i, mode, pairs, fails))
                for i, (mode, pairs, fails, _) in enumerate(plan)
            ]
            for turn in range(4):
                for task, (*_, cancel_at) in zip(tasks, plan, strict=True):
                    if cancel_at == turn:
                        task.cancel()
                await asyncio.sleep(0)
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
            for i, ((_, pairs, fails, cancel_at), outcome) in enumerate(
                zip(plan, outcomes, strict=True)
            ):
                if isinstance(outcome, asyncio.CancelledError):
                    assert cancel_at is not None
                elif fails:
                    assert isinstance(outcome, ReplyError) and "WRONGTYPE" in str(outcome)
                else:
                    assert outcome == [
                        reply for j in range(pairs) for reply in (b"OK", f"v{i}.{j}".encode())
                    ]
            assert await resp.call("PING") == b"PONG"  # and the connection goes on
        finally:
            names = await resp.call("KEYS", f"{prefix}*")
            if names:
                await resp.call("DEL", *names)
            await resp.close()

    asyncio.run(run())


@pytest.fixture
def tls_redis(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A redis-server on TLS only, its certificate signed by a throwaway CA."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=tmp_path, check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
            "-out", "ca.crt", "-days", "2", "-subj", "/CN=debrief test CA")  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr",
            "-subj", "/CN=localhost")  # fmt: skip
    (tmp_path / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "srv.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "srv.crt", "-days", "2", "-extfile", "ext.cnf")  # fmt: skip
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
         "--tls-cert-file", "srv.crt", "--tls-key-file", "srv.key",
         "--tls-ca-cert-file", "ca.crt", "--tls-auth-clients", "no", "--save", ""],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # its log says when it listens
            if "Ready to accept connections" in line:
                break
        else:
            raise AssertionError("redis-server with TLS did not start")
        yield port, tmp_path / "ca.crt"
    finally:
        proc.kill()
        proc.wait(10)


async def test_rediss_checks_the_certificate(
    tls_redis: tuple[int, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, ca = tls_redis
    unknown = RespClient(f"rediss://127.0.0.1:{port}/0")
    try:
        with pytest.raises(ConnectionLost, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify"):
            await unknown.call("PING")  # signed by a CA this machine does not trust
    finally:
        await unknown.close()
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # OpenSSL's default trust, for this test
    trusted = RespClient(f"rediss://127.0.0.1:{port}/0")
    try:
        assert await trusted.call("PING") == b"PONG"
    finally:
        await trusted.close()


async def test_a_client_closed_while_it_connects_keeps_no_connection() -> None:
    resp = RespClient(URL)
    first = asyncio.create_task(resp.call("CLIENT", "ID"))
    await asyncio.sleep(0)  # connecting
    await resp.close()
    with pytest.raises(RespError):
        await first
    assert resp._protocol is None  # nothing left open behind the close


async def test_a_subscriber_hears_messages_between_replies_and_its_loss(key: str) -> None:
    """With ``on_push`` a client takes published messages apart from its replies; a
    connection that Redis closes is reported to ``on_lost``."""
    heard: list[tuple[bytes, bytes]] = []
    lost: list[RespError] = []
    got, gone = asyncio.Event(), asyncio.Event()

    def on_push(channel: bytes, data: bytes) -> None:
        heard.append((channel, data))
        got.set()

    def on_lost(exc: RespError) -> None:
        lost.append(exc)
        gone.set()

    subscriber = RespClient(URL, on_push=on_push, on_lost=on_lost)
    publisher = RespClient(URL)
    try:
        assert await subscriber.call("SUBSCRIBE", key) == [b"subscribe", key.encode(), 1]
        assert await publisher.call("PUBLISH", key, b"one\x00two") == 1
        async with asyncio.timeout(5):
            await got.wait()
        # a reply after a message still reaches its own caller
        assert await subscriber.call("UNSUBSCRIBE", key) == [b"unsubscribe", key.encode(), 0]
        assert heard == [(key.encode(), b"one\x00two")]
        assert await subscriber.call("SUBSCRIBE", key) == [b"subscribe", key.encode(), 1]
        protocol = subscriber._protocol
        assert protocol is not None and protocol.transport is not None
        host, port = protocol.transport.get_extra_info("sockname")[:2]
        assert await publisher.call("CLIENT", "KILL", "ADDR", f"{host}:{port}") == 1
        async with asyncio.timeout(5):
            await gone.wait()
        assert isinstance(lost[0], ConnectionLost)
    finally:
        await subscriber.close()
        await publisher.close()
