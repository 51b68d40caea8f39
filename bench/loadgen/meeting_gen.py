"""One generator process of the `meeting` scenario (issue 15): HTTP commands from the
people of its share of the reviews, over lean keep-alive connections (lean_http.py), while
(in the seen and reveal phases) every person holds the review's three docs (meeting_docs.py).

Talks to the harness (meeting.py) over a pipe: it answers each ``(phase, t0_ns)`` with
``(phase, result)``; phases run in the order the harness names them.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from array import array
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from . import debrief_api, quiet_gc
from .lean_http import HttpError, LeanHttp, build_request
from .meeting_docs import (
    MeetingClient,
    ReviewWatch,
    counts_at_least,
    latencies_us,
    notes_at_least,
    phase_is,
    timer_is,
)
from .plan import Target
from .worker import _LOOP_FACTORY, cpu_seconds, raise_nofile

NOTE_SECTION = "contributing-factor"  # hidden until revealed: others see a count
VOTE_SECTION = "worked-well"  # revealed in set-up, voting open
REVEAL_SECTION = "other"  # filled in set-up, revealed in the reveal phase
NOTE_BODY = {"kind": NOTE_SECTION, "text": "The alert fired but nobody was paged for it."}
# A keep-alive connection idle longer than this is opened again before a request: uvicorn
# closes one after 5 s idle, and a note sent as that close crossed it was lost in one run
# in ~25, its count then off by one for the rest of the phase (1-2 s late "seen", and the
# last note never). Well inside 5 s, so no request races the server's close.
KEEP_ALIVE_S = 3.0
# The seen phase's mix per review, one command after the other (10: 5 notes, 2 votes,
# 2 timer steps, 1 phase change); votes are answered but shown only with others' (held.py).
MIX = ("note", "vote", "note", "timer", "note", "phase", "note", "vote", "note", "timer")
VOTES_PER_PERSON = 3


@dataclass(frozen=True)
class MeetingReview:
    review_id: str
    participant_invite: str
    moderator_invite: str
    index: int  # global, over every generator process
    reveal: bool = False  # filled with notes for the reveal phase


@dataclass(frozen=True)
class GenPlan:
    index: int
    target: Target
    floor: Target
    floor_tokens: list[str]
    throughput_reviews: list[MeetingReview]
    seen_reviews: list[MeetingReview]
    people: int  # per seen review: 1 moderator + people-1 participants
    throughput_people: int
    connections: int  # this process's share of the throughput connections
    warmup_s: float
    throughput_s: float
    seen_s: float
    rate_hz: float  # commands per review per second in the seen phase
    total_seen_reviews: int
    reveal_notes: int
    reveal_gap_s: float
    drain_s: float
    connect_concurrency: int = 64
    redis_floor: Target | None = None  # with a cluster: the floor on its Redis, same tokens


@dataclass
class HammerResult:
    requests: int = 0
    seconds: float = 0.0
    latencies_us: bytes = b""
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    cpu_s: float = 0.0


@dataclass
class SeenResult:
    http_us: dict[str, bytes] = field(default_factory=dict)  # per command kind
    all_us: dict[str, bytes] = field(default_factory=dict)  # per command: slowest client
    each_us: dict[str, bytes] = field(default_factory=dict)  # per (command, client)
    expected: int = 0  # (command, client) pairs
    received: int = 0
    statuses: dict[str, int] = field(default_factory=dict)  # "kind status" -> count
    errors: list[str] = field(default_factory=list)
    cpu_s: float = 0.0
    send_lag_max_ms: float = 0.0
    clients: int = 0


# --- throughput: notes as fast as the connections go ------------------------------------


async def hammer(
    target: Target, requests: list[bytes], connections: int, t0: int, warmup_s: float,
    seconds: float, offset: int = 0,
) -> HammerResult:  # fmt: skip
    """``connections`` keep-alive connections send ``requests`` round-robin from ``t0``;
    what completes in the ``seconds`` after ``warmup_s`` is counted."""
    res = HammerResult(seconds=seconds)
    conns = [
        await LeanHttp.open(target.host, target.for_client(i + offset).port)
        for i in range(connections)
    ]
    lat: array[int] = array("q")
    statuses: Counter[int] = Counter()
    counter = itertools.count(offset)
    begin = t0 + int(warmup_s * 1e9)
    end = begin + int(seconds * 1e9)
    await _sleep_until(t0)
    cpu0 = cpu_seconds()

    async def loop(c: LeanHttp) -> None:
        while True:
            sent = time.monotonic_ns()
            if sent >= end:
                return
            status, _ = await c.request(requests[next(counter) % len(requests)])
            if sent >= begin:
                lat.append((time.monotonic_ns() - sent) // 1000)
                statuses[status] += 1

    outcome = await asyncio.gather(*(loop(c) for c in conns), return_exceptions=True)
    res.cpu_s = cpu_seconds() - cpu0
    res.errors = [f"{type(x).__name__}: {x}"[:200] for x in outcome if isinstance(x, BaseException)]
    for c in conns:
        c.close()
    res.requests = len(lat)
    res.latencies_us = lat.tobytes()
    res.statuses = dict(statuses)
    return res


async def _sleep_until(t_ns: int) -> float:
    """Sleep until ``t_ns``; how late (ms) it already was."""
    wait = (t_ns - time.monotonic_ns()) / 1e9
    if wait > 0:
        await asyncio.sleep(wait)
        return 0.0
    return -wait * 1000


# --- the seen phase: a meeting per review -------------------------------------------------


class Meeting:
    """One review in this process: its people, their docs, their connections, its state."""

    def __init__(self, review: MeetingReview, plan: GenPlan) -> None:
        self.review = review
        self.plan = plan
        self.watch = ReviewWatch(plan.people)
        self.clients = [MeetingClient(i, self.watch) for i in range(plan.people)]
        self.tokens: list[str] = []
        self.http: dict[int, LeanHttp] = {}  # per server port
        self.phases: list[str] = []
        self.vote_target = ""
        self.notes = 0  # hidden notes in NOTE_SECTION so far
        self.timer_status = "idle"
        self.timer_ms = 0
        self.max_timer_min = 0
        self.phase_index = -1
        self.votes = [0] * plan.people
        self.vote_up = [True] * plan.people
        self.seq = itertools.count()

    def target(self, person: int) -> Target:
        return self.plan.target.for_client(person)

    async def connect(self, sem: asyncio.Semaphore, timeout_s: float = 60.0) -> None:
        for person, client in enumerate(self.clients):
            async with sem:
                t = self.target(person)
                await client.open(t.ws_base, self.review.review_id, self.tokens[person], timeout_s)

    async def call(
        self, person: int, method: str, path: str, body: Any = None
    ) -> tuple[int, bytes]:
        t = self.target(person)
        raw = build_request(
            method, f"/api/reviews/{self.review.review_id}{path}",
            f"{t.host}:{t.port}", self.tokens[person], body,
        )  # fmt: skip
        http = self.http.get(t.port)
        if http is None or http.stale(KEEP_ALIVE_S):
            http = await self._reopen(t)
        return await http.request(raw)

    async def _reopen(self, t: Target) -> LeanHttp:
        old = self.http.pop(t.port, None)
        if old is not None:
            old.close()
        http = self.http[t.port] = await LeanHttp.open(t.host, t.port)
        return http

    async def must(self, person: int, method: str, path: str, body: Any = None) -> bytes:
        """A set-up command (not timed): a busy server's 503 is tried again, a few times."""
        for attempt in range(5):
            status, answer = await self.call(person, method, path, body)
            if status != 503:
                break
            await asyncio.sleep(0.5 * (attempt + 1))
        if status >= 300:
            raise RuntimeError(f"{method} {path} -> {status}: {answer[:200]!r}")
        return answer

    async def set_up(self) -> None:
        """A revealed note to vote on, voting open; for reveal reviews the hidden notes."""
        await self.must(1, "POST", "/notes", {"kind": VOTE_SECTION, "text": "Rollback was fast."})
        await self.must(0, "POST", "/reveal", {"section": VOTE_SECTION})
        await self.must(0, "POST", "/voting/open", {"section": VOTE_SECTION})
        if self.review.reveal:
            for i in range(self.plan.reveal_notes):
                person = 1 + i % (self.plan.people - 1)
                body = {"kind": REVEAL_SECTION, "text": f"Hidden note {i} waiting for reveal."}
                await self.must(person, "POST", "/notes", body)

    async def wait_set_up(self, timeout_s: float = 60.0) -> None:
        """Until every client's room doc shows the set-up; then read phases and the target."""
        want = 1 + (self.plan.reveal_notes if self.review.reveal else 0)
        deadline = time.monotonic() + timeout_s
        while True:
            ready = all(
                len(c.view.notes) >= 1
                and (c.view.counts.get(REVEAL_SECTION) or 0) >= want - 1
                and isinstance(c.view.meeting.get("agenda"), list)
                for c in self.clients
            )
            if ready:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"review {self.review.review_id}: set-up not seen by all")
            await asyncio.sleep(0.05)
        view = self.clients[0].view
        self.phases = [str(p["id"]) for p in view.meeting.get("agenda") or []]
        self.vote_target = str(next(iter(view.notes.keys())))

    # one command of the mix: (kind, person, method, path, body, expectation or None)
    def next_command(self, kind: str) -> tuple[int, str, str, Any, Any]:
        others = self.plan.people - 1
        n = next(self.seq)
        if kind == "note":
            self.notes += 1
            pred = counts_at_least(NOTE_SECTION, self.notes)
            return 1 + n % others, "POST", "/notes", NOTE_BODY, (pred, True)
        if kind == "vote":
            person = 1 + n % others
            if self.vote_up[person] and self.votes[person] >= VOTES_PER_PERSON:
                self.vote_up[person] = False
            elif not self.vote_up[person] and self.votes[person] <= 0:
                self.vote_up[person] = True
            up = self.vote_up[person]
            self.votes[person] += 1 if up else -1
            path = "/votes" if up else "/votes/retract"
            return person, "POST", path, {"target": self.vote_target}, None
        if kind == "phase":
            self.phase_index = (self.phase_index + 1) % len(self.phases)
            phase_id = self.phases[self.phase_index]
            self.timer_status = "idle"
            return 0, "POST", "/phase", {"phase_id": phase_id}, (phase_is(phase_id), False)
        # timer: start (a time box longer than any before) -> pause -> resume -> pause ...
        if self.timer_status == "idle":
            self.max_timer_min += 1
            self.timer_ms = self.max_timer_min * 60_000
            self.timer_status = "running"
            path, body = "/timer/start", {"minutes": self.max_timer_min}
        elif self.timer_status == "running":
            self.timer_status = "paused"
            path, body = "/timer/pause", None
        else:
            self.timer_status = "running"
            path, body = "/timer/resume", None
        return 0, "POST", path, body, (timer_is(self.timer_status, self.timer_ms), False)

    async def command(self, kind: str, out: SeenResult, http: dict[str, array[int]]) -> None:
        person, method, path, body, expect = self.next_command(kind)
        exp = self.watch.expect(kind, *expect) if expect is not None else None
        sent = time.monotonic_ns()
        try:
            status, answer = await self.call(person, method, path, body)
        except HttpError as exc:
            status, answer = 0, str(exc).encode()
        http.setdefault(kind, array("q")).append((time.monotonic_ns() - sent) // 1000)
        key = f"{kind} {status}"
        out.statuses[key] = out.statuses.get(key, 0) + 1
        if status >= 300 or status == 0:
            if len(out.errors) < 10:
                out.errors.append(f"{kind} {path} -> {status}: {answer[:160]!r}")
            if exp is not None:
                self.watch.refused(exp)
                now = time.monotonic_ns()
                for c in self.clients:
                    self.watch.check(c.index, c.view, now)

    async def run_mix(
        self, t0: int, count: int, out: SeenResult, http: dict[str, array[int]]
    ) -> float:
        """``count`` commands of the mix at the plan's rate, then one last note in the next
        slot (monotone: it settles anything a merged frame hid); the largest lag behind
        schedule (ms). The last note used to go at once after the last command, so the
        last second carried twice the rate (the timer steps there looked slow)."""
        period = 1e9 / self.plan.rate_hz
        phase = self.review.index / max(1, self.plan.total_seen_reviews)
        lag = 0.0
        for seq in range(count + 1):
            lag = max(lag, await _sleep_until(t0 + int((seq + phase) * period)))
            await self.command(MIX[seq % len(MIX)] if seq < count else "note", out, http)
        return lag

    async def warm(self) -> None:
        """Open (again) a keep-alive connection to each server process the people use."""
        for t in {self.target(p) for p in range(len(self.clients))}:
            http = self.http.get(t.port)
            if http is None or http.stale(KEEP_ALIVE_S):
                await self._reopen(t)

    def close(self) -> None:
        for c in self.clients:
            c.close()
        for h in self.http.values():
            h.close()


def _collect(meetings: list[Meeting], out: SeenResult) -> None:
    every: dict[str, array[int]] = {}
    slowest: dict[str, array[int]] = {}
    for m in meetings:
        for exp in m.watch.expectations:
            if exp.failed:
                continue
            out.expected += exp.clients
            out.received += len(exp.arrivals)
            each = latencies_us(exp)
            every.setdefault(exp.kind, array("q")).extend(each)
            if len(exp.arrivals) == exp.clients:
                slowest.setdefault(exp.kind, array("q")).append(max(each))
        for c in m.clients:
            out.errors.extend(c.errors[:2])
    out.each_us = {k: v.tobytes() for k, v in every.items()}
    out.all_us = {k: v.tobytes() for k, v in slowest.items()}


async def seen_phase(meetings: list[Meeting], plan: GenPlan, t0: int) -> SeenResult:
    out = SeenResult(clients=sum(len(m.clients) for m in meetings))
    for m in meetings:  # only this phase's expectations count
        m.watch.expectations.clear()
        m.watch.cursors = [0] * len(m.clients)
    http: dict[str, array[int]] = {}
    count = max(1, round(plan.seen_s * plan.rate_hz))
    await asyncio.gather(*(m.warm() for m in meetings))
    await _sleep_until(t0)
    cpu0 = cpu_seconds()
    lags = await asyncio.gather(*(m.run_mix(t0, count, out, http) for m in meetings))
    await _settle(meetings, plan.drain_s)
    out.cpu_s = cpu_seconds() - cpu0
    out.send_lag_max_ms = max(lags, default=0.0)
    out.http_us = {k: v.tobytes() for k, v in http.items()}
    _collect(meetings, out)
    return out


async def reveal_phase(meetings: list[Meeting], plan: GenPlan, t0: int) -> SeenResult:
    """The moderator of each reveal review reveals its section of hidden notes, one review
    every ``reveal_gap_s``; every client must then hold all of them."""
    out = SeenResult()
    chosen = [m for m in meetings if m.review.reveal]
    out.clients = sum(len(m.clients) for m in chosen)
    for m in chosen:
        m.watch.expectations.clear()
        m.watch.cursors = [0] * len(m.clients)
    http: dict[str, array[int]] = {}
    await asyncio.gather(*(m.warm() for m in chosen))
    cpu0 = cpu_seconds()

    async def one(m: Meeting, slot: int) -> None:
        await _sleep_until(t0 + int(slot * plan.reveal_gap_s * 1e9))
        exp = m.watch.expect("reveal", notes_at_least(1 + plan.reveal_notes), True)
        sent = time.monotonic_ns()
        status, answer = await m.call(0, "POST", "/reveal", {"section": REVEAL_SECTION})
        http.setdefault("reveal", array("q")).append((time.monotonic_ns() - sent) // 1000)
        out.statuses[f"reveal {status}"] = out.statuses.get(f"reveal {status}", 0) + 1
        if status >= 300:
            out.errors.append(f"reveal -> {status}: {answer[:160]!r}")
            m.watch.refused(exp)

    order = sorted(chosen, key=lambda m: m.review.index)
    await asyncio.gather(*(one(m, m.review.index) for m in order))
    await _settle(chosen, plan.drain_s)
    out.cpu_s = cpu_seconds() - cpu0
    out.http_us = {k: v.tobytes() for k, v in http.items()}
    _collect(chosen, out)
    return out


async def _settle(meetings: list[Meeting], timeout_s: float) -> None:
    try:
        async with asyncio.timeout(timeout_s):
            for m in meetings:
                await m.watch.settled.wait()
    except TimeoutError:
        pass


# --- the process -----------------------------------------------------------------------


async def _join_seen(plan: GenPlan, meetings: list[Meeting]) -> None:
    targets: list[Target] = []
    invites: list[str] = []
    for m in meetings:
        for person in range(plan.people):
            # each person joins through the process after their own (as behind a balancer)
            targets.append(plan.target.for_client(person + 1))
            invites.append(
                m.review.moderator_invite if person == 0 else m.review.participant_invite
            )
    tokens = await debrief_api.join_all(targets, invites, name_prefix=f"m{plan.index}")
    for i, m in enumerate(meetings):
        m.tokens = tokens[i * plan.people : (i + 1) * plan.people]


async def _throughput_requests(plan: GenPlan) -> list[bytes]:
    reviews = plan.throughput_reviews
    invites = [r.participant_invite for r in reviews for _ in range(plan.throughput_people)]
    targets = [plan.target.for_client(i) for i in range(len(invites))]
    tokens = await debrief_api.join_all(targets, invites, name_prefix=f"t{plan.index}")
    host = f"{plan.target.host}:{plan.target.port}"
    requests = [
        build_request("POST", f"/api/reviews/{rid}/notes", host, tok, NOTE_BODY)
        for rid, tok in zip(
            (r.review_id for r in reviews for _ in range(plan.throughput_people)),
            tokens,
            strict=True,
        )
    ]
    # The connections take requests in list order, so a list grouped by review would put
    # every request in flight on the same four or five reviews, queued on their locks: in
    # a real meeting people of many reviews post at once. A fixed seed keeps runs alike.
    random.Random(plan.index).shuffle(requests)
    return requests


async def _main(plan: GenPlan, conn: Connection) -> None:
    loop = asyncio.get_running_loop()
    ours = await _throughput_requests(plan)
    host = f"{plan.floor.host}:{plan.floor.port}"
    floor = [build_request("POST", "/floor/notes", host, t, NOTE_BODY) for t in plan.floor_tokens]
    floors = {"floor": (plan.floor, floor)}
    if plan.redis_floor is not None:
        host = f"{plan.redis_floor.host}:{plan.redis_floor.port}"
        floors["redis-floor"] = (plan.redis_floor, [
            build_request("POST", "/floor/notes", host, t, NOTE_BODY) for t in plan.floor_tokens
        ])  # fmt: skip
    meetings = [Meeting(r, plan) for r in plan.seen_reviews]
    conn.send(("joined", None))
    try:
        while True:
            cmd, t0, *args = await loop.run_in_executor(None, conn.recv)
            if cmd == "exit":
                return
            result: Any
            if cmd == "throughput" or cmd in floors:
                target, reqs = (plan.target, ours) if cmd == "throughput" else floors[cmd]
                warmup_s, seconds = args or (plan.warmup_s, plan.throughput_s)  # one slice's
                result = await hammer(
                    target, reqs, plan.connections, t0, warmup_s, seconds, offset=plan.index
                )
            elif cmd == "connect":
                result = await _connect(plan, meetings)
                quiet_gc.settle()  # before the harness picks the next start instant
            elif cmd == "seen":
                with quiet_gc.collector_paused():
                    result = await seen_phase(meetings, plan, t0)
                quiet_gc.settle()
            elif cmd == "reveal":
                with quiet_gc.collector_paused():
                    result = await reveal_phase(meetings, plan, t0)
            else:
                raise RuntimeError(f"unknown phase {cmd!r}")
            conn.send((cmd, result))
    finally:
        for m in meetings:
            m.close()


async def _connect(plan: GenPlan, meetings: list[Meeting]) -> dict[str, Any]:
    """Join everyone, open every doc, set every review up; the counts and errors."""
    await _join_seen(plan, meetings)
    sem = asyncio.Semaphore(plan.connect_concurrency)
    outcome = await asyncio.gather(*(m.connect(sem) for m in meetings), return_exceptions=True)
    errors = [f"connect: {x!r}"[:200] for x in outcome if isinstance(x, BaseException)]
    if errors:
        return {"connected": 0, "errors": errors[:5]}
    setup_sem = asyncio.Semaphore(16)

    async def set_up(m: Meeting) -> None:
        async with setup_sem:
            await m.set_up()
        await m.wait_set_up()

    outcome = await asyncio.gather(*(set_up(m) for m in meetings), return_exceptions=True)
    errors = [f"set-up: {x!r}"[:200] for x in outcome if isinstance(x, BaseException)]
    connected = sum(
        1 for m in meetings for c in m.clients if all(s.synced.is_set() for s in c.sockets)
    )
    return {"connected": connected, "errors": errors[:5]}


def gen_main(plan: GenPlan, conn: Connection) -> None:
    """Entry point of a generator process."""
    raise_nofile(65536)
    with asyncio.Runner(loop_factory=_LOOP_FACTORY) as runner:
        try:
            runner.run(_main(plan, conn))
        except Exception as exc:
            conn.send(("crashed", f"meeting generator {plan.index}: {exc!r}"[:300]))
    conn.close()
