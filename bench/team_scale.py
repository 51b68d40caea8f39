"""Follow-through at scale (issue 12): the cross-review views of one big team.

A team with 10,000 closed reviews and 100,000 actions (300 people) is written straight into a
fresh store, the way the server keeps it (teams/keys.py names, PLAN12 data model: records and
sorted indexes through the Storage API), then a real `debrief serve` opens that store and
eight keep-alive clients ask each cross-review view for 10 s. Goal: p99 <= 100 ms per call,
on SQLite and on Redis.

    .venv/bin/python bench/team_scale.py                          # both backends, full size
    .venv/bin/python bench/team_scale.py --backends sqlite --reviews 1000 --actions 10000
    .venv/bin/python bench/team_scale.py --profile                # py-spy per call
    .venv/bin/python bench/team_scale.py --readme                 # write the table into README

SQLite: the store is seeded from this process through SQLiteStorage, then the server opens
the same data dir. Redis: a throwaway `redis-server` (no persistence, never the machine's
Redis on 6379), seeded through RedisStorage under a fresh key prefix, then one
`debrief serve --redis` with that prefix. The client is a minimal HTTP/1.1 keep-alive client
on asyncio streams (uvloop when installed), so that it costs little of the 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import random
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from debrief.followup import action_status as st  # noqa: E402
from debrief.meeting.service import full_review  # noqa: E402
from debrief.storage import Storage  # noqa: E402
from debrief.storage.schema import set_schema_version  # noqa: E402
from debrief.teams import keys  # noqa: E402
from debrief.teams.actions import ActionTracker  # noqa: E402
from debrief.teams.archive import Archive  # noqa: E402
from debrief.teams.migrate import CURRENT_VERSION as SCHEMA_VERSION  # noqa: E402
from debrief.teams.service import TeamService  # noqa: E402
from loadgen import procstat, servers  # noqa: E402
from loadgen.profiling import Profiler, py_spy, summarise  # noqa: E402

try:
    import uvloop

    LOOP_FACTORY: Any = uvloop.new_event_loop
except ImportError:  # pragma: no cover
    LOOP_FACTORY = None

RESULTS = BENCH / "results"
README = BENCH / "README.md"
MARK_START, MARK_END = "<!-- team-scale:start -->", "<!-- team-scale:end -->"
GOAL_P99_MS = 100.0

DAY_MS = 86_400_000

# --- what the team looks like ---------------------------------------------------------------

# One word per service: a search for it finds about 1 review in 20.
SERVICES = (
    "checkout", "payments", "search", "login", "billing", "inventory", "notifications",
    "gateway", "mobile", "pipeline", "email", "cdn", "dns", "database", "cache", "queue",
    "reporting", "onboarding", "exports", "sso",
)  # fmt: skip
EVENTS = (
    "outage", "latency spike", "partial outage", "failed deploy", "certificate expiry",
    "capacity shortfall", "launch", "migration", "cost overrun", "security alert", "rollback",
)  # fmt: skip
KINDS = (("incident", 0.7), ("project-phase", 0.15), ("launch", 0.15))
ACTION_KINDS = (
    "immediate-remediation", "preventive-control", "monitoring", "documentation-ownership", "",
)  # fmt: skip
ACTION_TEXTS = (
    "Add an alert on {svc} error rate above 2% for 5 minutes",
    "Write the {svc} runbook section for a {event}",
    "Load test {svc} at twice last year's peak before the next launch",
    "Move the {svc} deploy behind a feature flag with a kill switch",
    "Give {svc} a named owner in the service catalogue",
    "Cap retries in the {svc} client and add jitter",
    "Add a dashboard panel for {svc} queue depth",
    "Rotate the {svc} certificates from the secrets manager, not by hand",
)
FIRST = (
    "Ada", "Ben", "Chloe", "Dev", "Elif", "Femi", "Grace", "Hiro", "Ines", "Jonas", "Kemal",
    "Lena", "Mateo", "Nia", "Oskar", "Priya", "Quinn", "Rosa", "Sami", "Tariq",
)  # fmt: skip
LAST = (
    "Nakamura", "Okafor", "Lindqvist", "Moreau", "Costa", "Novak", "Haddad", "Kowalski",
    "Schmidt", "Fernandez", "Ivanova", "Osei", "Brennan", "Takahashi", "Rossi",
)  # fmt: skip
# status -> share of the actions (the realistic mix)
STATUS_MIX = (
    ("verified", 0.6),
    ("wont-do", 0.1),
    ("done", 0.1),
    ("in-progress", 0.1),
    ("open", 0.1),
)
PAST_DUE_SHARE = 0.25  # of the open and in-progress ones: ~5 % of all actions overdue


@dataclass(frozen=True)
class ScaleConfig:
    reviews: int = 10_000
    actions: int = 100_000
    people: int = 300
    duration_s: float = 10.0
    warmup_s: float = 1.0
    concurrency: int = 8
    seed: int = 12
    # how many storage writes are in flight while seeding (group commit / Redis pipelining)
    write_window: int = 512
    only: tuple[str, ...] = ()  # the calls to measure (names in CALLS); empty: all
    span_days: int = 365  # the reviews spread over this many days up to now

    @property
    def title(self) -> str:
        return (
            f"one team, {self.reviews:,} closed reviews, {self.actions:,} actions, "
            f"{self.people} people; {self.concurrency} keep-alive clients, "
            f"{self.duration_s:g} s per call"
        )


@dataclass
class Seeded:
    """What the measuring needs to know about the seeded team, and what it should count."""

    team_id: str
    admin_link: str
    people: list[dict[str, Any]]  # {id, name, link, actions}
    words: list[str]
    reviews: int
    by_status: dict[str, int]
    overdue: int
    writes: int = 0
    seconds: float = 0.0


def _token(rng: random.Random, n: int = 12) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return "".join(rng.choice(alphabet) for _ in range(n))


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([w for w, _ in weighted], [p for _, p in weighted])[0]


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).date().isoformat()


class TeamData:
    """A team's reviews and actions with realistic content, written through the real
    services where they exist (TeamService for the team and its links, Directory for
    people, Archive for the reviews index) and, for the actions, the pure status rules
    (followup/action_status.py: new_state, then one `apply` per step) with the writes
    ActionTracker makes (state record, status index, person index)."""

    def __init__(self, cfg: ScaleConfig, now_ms: int | None = None) -> None:
        self.cfg = cfg
        self.rng = random.Random(cfg.seed)
        self.now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
        self.today = datetime.fromtimestamp(self.now_ms / 1000, UTC).date()
        self.team_id = ""
        self.admin_link = ""
        self.people: list[dict[str, Any]] = []
        # A few people own many actions, most a few hundred (over a year of reviews).
        self.owner_weights = [1.0 / (i + 60) for i in range(cfg.people)]
        self.by_status: Counter[str] = Counter()
        self.overdue = 0
        self.owned: Counter[str] = Counter()

    async def create_team(self, storage: Storage) -> None:
        """The team, its two links and its people (the services' own calls)."""
        await set_schema_version(storage, SCHEMA_VERSION)
        teams = TeamService(storage, secrets.token_urlsafe(32), 3600)
        team, links = await teams.create_team("Platform reliability")
        self.team_id, self.admin_link = team["id"], links["admin"]["code"]
        for i in range(self.cfg.people):
            first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
            extra = i // (len(FIRST) * len(LAST))
            name = f"{first} {last}" + (f" {extra + 1}" if extra else "")
            handle = f"{first}.{last}{i}".lower()
            person, _ = await teams.people.add(self.team_id, name, f"{handle}@example.com", handle)
            self.people.append(person)

    def calls(self, storage: Storage) -> Iterator[Awaitable[object]]:
        """The writes of every review and action (call ``create_team`` first)."""
        cfg, rng = self.cfg, self.rng
        archive = Archive(storage)
        # Every review gets its share of the actions: a random split, ~10 each on average.
        per_review = Counter(rng.randrange(cfg.reviews) for _ in range(cfg.actions))
        for i in range(cfg.reviews):
            yield from self._review(storage, archive, i, per_review[i])

    def _review(
        self, storage: Storage, archive: Archive, i: int, n_actions: int
    ) -> Iterator[Awaitable[object]]:
        rng = self.rng
        # Spread over the past span_days, oldest first; closed one to three days after creation.
        span = self.cfg.span_days * DAY_MS
        created = self.now_ms - span + (i * span) // max(1, self.cfg.reviews)
        closed = created + rng.randint(1, 3) * DAY_MS - rng.randint(0, 3_600_000)
        closed = min(closed, self.now_ms - 60_000)
        svc, event = rng.choice(SERVICES), rng.choice(EVENTS)
        title = f"{svc.capitalize()} {event} {_iso(created)}"
        scope = {
            "event": f"The {svc} {event} of {_iso(created)}",
            "question": f"Why did {svc} fail its users, and what stops it next time?",
            "window_start": "",
            "window_end": "",
            "expected_output": "Actions with owners and due dates",
        }
        review = full_review(
            {
                "id": "r_" + _token(rng, 12),
                "title": title,
                "status": "closed",
                "created_ms": created,
                "closed_ms": closed,
                "team_id": self.team_id,
                "scope": scope,
                "version": 1,
            }
        )
        yield self._put_review(storage, archive, review, _pick(rng, KINDS), n_actions)
        for position in range(n_actions):
            yield self._put_action(storage, self._action(review, svc, event, position))

    @staticmethod
    async def _put_review(
        storage: Storage, archive: Archive, review: dict[str, Any], kind: str, n: int
    ) -> None:
        await storage.put_record("review", review["id"], review, review["id"])
        await archive.review_changed(review, kind, n)

    @staticmethod
    async def _put_action(storage: Storage, state: dict[str, Any]) -> None:
        await ActionTracker(storage).store(state)  # the record and its index rows

    def _action(
        self, review: dict[str, Any], svc: str, event: str, position: int
    ) -> dict[str, Any]:
        rng = self.rng
        closed = int(review["closed_ms"])
        owner = rng.choices(self.people, self.owner_weights)[0]
        status = _pick(rng, STATUS_MIX)
        closed_day = datetime.fromtimestamp(closed / 1000, UTC).date()
        if rng.random() < 0.02:
            due = ""  # a few actions never got a date
        elif status in keys.UNDONE_STATUSES and rng.random() >= PAST_DUE_SHARE:
            due = (self.today + timedelta(days=rng.randint(0, 60))).isoformat()
        elif status in keys.UNDONE_STATUSES:
            yesterday = self.today - timedelta(days=1)
            latest = max(0, (yesterday - closed_day).days)
            due = min(closed_day + timedelta(days=rng.randint(0, latest)), yesterday).isoformat()
        else:
            due = (closed_day + timedelta(days=rng.randint(7, 60))).isoformat()
        action = {
            "id": "a_" + _token(rng, 12),
            "what": rng.choice(ACTION_TEXTS).format(svc=svc, event=event),
            "owner": owner["name"],
            "due": due,
            "verify": f"{svc.capitalize()} drill in staging shows it works",
            "kind": rng.choice(ACTION_KINDS),
        }
        state = st.new_state(
            review=review,
            team_id=self.team_id,
            gid=keys.action_gid(review["id"], action["id"]),
            action=action,
            owner_id=owner["id"],
            now_ms=closed,
        ) | {"position": position}
        state = self._walk(state, status, owner["name"], closed)
        self.by_status[status] += 1
        self.owned[owner["id"]] += 1
        if st.is_overdue(state, self.today):
            self.overdue += 1
        return state

    def _walk(self, state: dict[str, Any], status: str, owner: str, at: int) -> dict[str, Any]:
        """Take an open action to ``status`` the way people do, one rule-checked step at
        a time: the owner starts and finishes it (with evidence), a team admin verifies
        it or drops it with a reason."""
        me = st.Actor(owner, st.OWNER)
        admin = st.Actor("Team lead", st.TEAM_ADMIN)
        ticket = f"https://tickets.example.com/OPS-{self.rng.randint(1000, 99999)}"
        steps = {
            "open": [],
            "in-progress": [(me, st.Change("in-progress"))],
            "done": [(me, st.Change("in-progress")),
                     (me, st.Change("done", evidence_url=ticket, evidence_text="Deployed"))],
            "verified": [(me, st.Change("in-progress")),
                         (me, st.Change("done", evidence_url=ticket, evidence_text="Deployed")),
                         (admin, st.Change("verified", note="Checked in staging"))],
            "wont-do": [(admin, st.Change("wont-do",
                                          reason="Superseded by the platform migration"))],
        }[status]  # fmt: skip
        for actor, change in steps:
            at = min(self.now_ms - 1000, at + self.rng.randint(1, 20) * DAY_MS // 2)
            state = st.apply(state, actor, change, at)
        return state

    def seeded(self) -> Seeded:
        people = [
            {"id": p["id"], "name": p["name"], "link": p["link"], "actions": self.owned[p["id"]]}
            for p in self.people
        ]
        # Person calls go round the people in this order: shuffled, so that any stretch of
        # it mixes busy and quiet owners (the directory is ordered busiest first).
        random.Random(self.cfg.seed + 1).shuffle(people)
        return Seeded(
            team_id=self.team_id,
            admin_link=self.admin_link,
            people=people,
            words=["checkout", "dns", "latency"],
            reviews=self.cfg.reviews,
            by_status={s: self.by_status[s] for s in keys.ACTION_STATUSES},
            overdue=self.overdue,
        )


def count_calls(storage: Storage) -> Counter[str]:
    """Count the storage calls made on ``storage`` from now on (the seed's cost figure)."""
    counts: Counter[str] = Counter()
    for name in ("put_record", "get_record", "index_put", "index_get", "index_remove"):
        inner = getattr(storage, name)

        def counted(*args: Any, _inner: Any = inner, _name: str = name, **kw: Any) -> Any:
            counts[_name] += 1
            return _inner(*args, **kw)

        setattr(storage, name, counted)
    return counts


async def seed(storage: Storage, cfg: ScaleConfig) -> Seeded:
    """Write the whole team through ``storage`` (opened by the caller): the team and its
    people one call at a time, then reviews and actions ``write_window`` at a time in
    flight, so SQLite's group commit and Redis's pipelining batch them."""
    counts = count_calls(storage)
    data = TeamData(cfg)
    started = time.perf_counter()
    await data.create_team(storage)
    window: list[Awaitable[object]] = []
    for call in data.calls(storage):
        window.append(call)
        if len(window) >= cfg.write_window:
            await asyncio.gather(*window)
            window = []
    await asyncio.gather(*window)
    result = data.seeded()
    result.writes, result.seconds = sum(counts.values()), time.perf_counter() - started
    return result


# --- backends ---------------------------------------------------------------------------------


@dataclass
class Backend:
    """A seeded store and the server process on it."""

    name: str  # "sqlite" | "redis"
    data_dir: Path
    log_dir: Path
    redis_url: str | None = None
    prefix: str = ""
    redis: subprocess.Popen[bytes] | None = None
    server: subprocess.Popen[bytes] | None = None
    port: int = 0
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    @property
    def base(self) -> str:
        return f"http://{servers.HOST}:{self.port}"

    def storage(self) -> Storage:
        if self.redis_url:
            from debrief.storage.redis import RedisStorage

            return RedisStorage(self.redis_url, prefix=self.prefix)
        from debrief.storage.sqlite import SQLiteStorage

        return SQLiteStorage(self.data_dir / "debrief.sqlite3")

    def stop(self) -> None:
        for proc in (self.server, self.redis):  # the server first: it may still talk to Redis
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
        shutil.rmtree(self.data_dir, ignore_errors=True)


def _spawn(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            cmd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )


def prepare(name: str, log_dir: Path) -> Backend:
    """A fresh data dir (and for Redis a throwaway redis-server with a fresh prefix)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix=f"debrief-team-scale-{name}-"))
    backend = Backend(name, data_dir, log_dir)
    if name == "redis":
        port = servers.free_port()
        cmd = [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            servers.HOST,
            "--dir",
            str(data_dir),
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        backend.redis = _spawn(cmd, servers._server_env(port), log_dir / f"redis-{port}.log")
        servers._redis_ready(port, backend.redis, 30)
        backend.redis_url = f"redis://{servers.HOST}:{port}/0"
        backend.prefix = f"debrief-team-scale-{secrets.token_hex(4)}:"
    return backend


def start_server(backend: Backend, timeout_s: float = 120.0) -> None:
    backend.port = servers.free_port()
    cmd = [
        str(servers.debrief_executable()),
        "serve",
        "--host",
        servers.HOST,
        "--port",
        str(backend.port),
        "--data",
        str(backend.data_dir),
        "--log-level",
        "warning",
    ]
    # One team session stands for the whole team here: lift its per-session rate too.
    extra = {"DEBRIEF_SECRET_KEY": backend.secret, "DEBRIEF_RATE_SESSION": "1000000/second"}
    if backend.redis_url:
        cmd += ["--redis", backend.redis_url]
        extra["DEBRIEF_REDIS_PREFIX"] = backend.prefix
    log = backend.log_dir / f"debrief-{backend.name}-{backend.port}.log"
    backend.server = _spawn(cmd, servers._server_env(backend.port, extra), log)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if backend.server.poll() is not None:
            raise RuntimeError(f"debrief exited at start-up; see {log}")
        try:
            with urllib.request.urlopen(f"{backend.base}/healthz", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"debrief not ready after {timeout_s}s; see {log}")


def join_team(backend: Backend, seeded: Seeded) -> str:
    """A team admin session through the team's admin link (POST /api/teams/join)."""
    body = json.dumps({"link": seeded.admin_link, "name": "Bench admin"}).encode()
    req = urllib.request.Request(
        f"{backend.base}/api/teams/join", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return str(json.loads(resp.read())["token"])


# --- a lean keep-alive HTTP/1.1 client -----------------------------------------------------


class HttpError(Exception):
    pass


class KeepAlive:
    """One persistent connection; GET requests one at a time, answers read whole."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{self.extra}\r\n"
        self.writer.write(head.encode())
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        if "content-length" in fields:
            body = await self.reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            body = await self._chunked()
        else:
            raise HttpError(f"{path}: answer without a length")
        if fields.get("connection", "").lower() == "close":
            await self.close()
        return status, body

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        parts: list[bytes] = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


# --- measuring ------------------------------------------------------------------------------


@dataclass
class CallResult:
    backend: str
    call: str  # the row's name
    path: str  # an example path
    requests: int = 0
    errors: int = 0
    first_error: str = ""
    p50_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    rps: float = 0.0
    server_cpu_ms_per_req: float | None = None
    body_kib: float = 0.0  # median answer size
    others_cpu_s: float = 0.0  # CPU s used by everything but the server, Redis and the bench
    profile: str = ""


def _pct(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * q + 0.5) - 1))]


async def _hammer(
    backend: Backend, token: str, paths: Callable[[int], str], cfg: ScaleConfig
) -> tuple[list[float], list[int], int, str]:
    """``concurrency`` clients in a closed loop; latencies after the warm-up."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    samples: list[float] = []
    sizes: list[int] = []
    errors = 0
    first_error = ""
    counter = 0
    start = time.perf_counter()
    timed_from, end = start + cfg.warmup_s, start + cfg.warmup_s + cfg.duration_s

    async def client() -> None:
        nonlocal counter, errors, first_error
        conn = KeepAlive(servers.HOST, backend.port, headers)
        try:
            while (now := time.perf_counter()) < end:
                path = paths(counter)
                counter += 1
                status, body = await conn.get(path)
                took = time.perf_counter() - now
                if status != 200:
                    errors += 1
                    first_error = first_error or f"{status} {path}: {body[:200]!r}"
                elif now >= timed_from:
                    samples.append(took)
                    sizes.append(len(body))
        finally:
            await conn.close()

    await asyncio.gather(*(client() for _ in range(cfg.concurrency)))
    return samples, sizes, errors, first_error


def _person(s: Seeded, i: int) -> dict[str, Any]:
    return s.people[i % len(s.people)]


# The measured calls (row name, path of request i). Person calls go round every person of
# the team, searches round three words: no one answer is asked for over and over.
CALLS: tuple[tuple[str, Callable[[Seeded, int], str]], ...] = (
    ("team", lambda s, i: f"/api/teams/{s.team_id}"),
    ("reviews", lambda s, i: f"/api/teams/{s.team_id}/reviews?limit=50"),
    (
        "search",
        lambda s, i: f"/api/teams/{s.team_id}/reviews?q={s.words[i % len(s.words)]}",
    ),
    ("overdue", lambda s, i: f"/api/teams/{s.team_id}/actions?view=overdue&limit=50"),
    ("pending", lambda s, i: f"/api/teams/{s.team_id}/actions?view=pending&limit=50"),
    (
        "my-actions",
        lambda s, i: f"/api/teams/{s.team_id}/actions?person={_person(s, i)['id']}",
    ),
    ("person-page", lambda s, i: f"/api/p/{_person(s, i)['link']}"),
)


def calls(seeded: Seeded) -> list[tuple[str, Callable[[int], str]]]:
    return [(name, functools.partial(path, seeded)) for name, path in CALLS]


def check_counts(backend: Backend, token: str, seeded: Seeded) -> list[str]:
    """Whether the team page counts what was seeded (index upkeep and counting agree)."""
    req = urllib.request.Request(
        f"{backend.base}/api/teams/{seeded.team_id}", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        page = json.loads(resp.read())
    counts = page.get("counts", {})
    problems = []
    if counts.get("actions") != seeded.by_status:
        problems.append(f"action counts {counts.get('actions')} != seeded {seeded.by_status}")
    if counts.get("overdue") != seeded.overdue:
        problems.append(f"overdue {counts.get('overdue')} != seeded {seeded.overdue}")
    closed = (counts.get("reviews") or {}).get("closed")
    if closed != seeded.reviews:
        problems.append(f"closed reviews {closed} != seeded {seeded.reviews}")
    return problems


def _own_cpu() -> float:
    return procstat.sample(os.getpid()).cpu_s


def server_cpu(backend: Backend) -> float:
    """CPU s of the server process and of its Redis (the work a request makes)."""
    pids = [p.pid for p in (backend.server, backend.redis) if p is not None]
    return procstat.sample_all(pids).cpu_s


def measure(
    backend: Backend, token: str, seeded: Seeded, cfg: ScaleConfig, profile_dir: Path | None
) -> list[CallResult]:
    results = []
    server = backend.server
    assert server is not None
    for name, paths in calls(seeded):
        if cfg.only and name not in cfg.only:
            continue
        res = CallResult(backend.name, name, paths(0))
        profiler = None
        if profile_dir is not None:
            slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
            profiler = Profiler(server.pid, profile_dir / f"{backend.name}-{slug}.txt", rate=500)
        cpu0, busy0, own0 = server_cpu(backend), procstat.system_busy_s(), _own_cpu()
        with asyncio.Runner(loop_factory=LOOP_FACTORY) as runner:
            samples, sizes, errors, first = runner.run(_hammer(backend, token, paths, cfg))
        cpu = server_cpu(backend) - cpu0
        # What the rest of the machine used meanwhile (other people's work on a shared box).
        busy = procstat.system_busy_s() - busy0
        res.others_cpu_s = round(max(0.0, busy - cpu - (_own_cpu() - own0)), 1)
        if profiler is not None:
            profiler.stop()
            res.profile = summarise(profiler.out, top=15)
            profiler.out.with_suffix(".summary.txt").write_text(res.profile + "\n")
        res.errors, res.first_error = errors, first
        res.requests = len(samples)
        if samples:
            ordered = sorted(samples)
            res.p50_ms = round(statistics.median(ordered) * 1000, 2)
            res.p99_ms = round(_pct(ordered, 0.99) * 1000, 2)
            res.max_ms = round(ordered[-1] * 1000, 2)
            res.rps = round(len(samples) / cfg.duration_s, 1)
            total = len(samples) + errors  # the warm-up's requests also cost CPU
            res.server_cpu_ms_per_req = round(
                cpu / max(1, total) * 1000 * (cfg.duration_s / (cfg.duration_s + cfg.warmup_s)), 2
            )
            res.body_kib = round(statistics.median(sizes) / 1024, 1)
        print(f"   {backend.name:6} {name:22} {_row_tail(res)}", flush=True)
        results.append(res)
    return results


def _num(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"


def _row_tail(r: CallResult) -> str:
    ok = "" if r.p99_ms is None or r.p99_ms <= GOAL_P99_MS else "  OVER GOAL"
    err = f", {r.errors} errors: {r.first_error}" if r.errors else ""
    return (
        f"p50 {_num(r.p50_ms)} ms, p99 {_num(r.p99_ms)} ms, max {_num(r.max_ms)} ms, "
        f"{r.rps:.0f} req/s, server CPU {_num(r.server_cpu_ms_per_req)} ms/req, "
        f"{r.body_kib} KiB, others' CPU {r.others_cpu_s} s{err}{ok}"
    )


# --- one backend, start to end ----------------------------------------------------------------


@dataclass
class BackendRun:
    backend: str
    seed_s: float = 0.0
    writes: int = 0
    start_s: float = 0.0  # server spawn -> /healthz 200 on the seeded store
    store_mib: float | None = None
    by_status: dict[str, int] = field(default_factory=dict)
    overdue: int = 0
    owned_median: float = 0.0
    owned_max: int = 0
    count_problems: list[str] = field(default_factory=list)
    results: list[CallResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _store_mib(backend: Backend) -> float | None:
    if backend.redis_url is None:
        files = list(backend.data_dir.glob("debrief.sqlite3*"))
        return round(sum(f.stat().st_size for f in files) / 2**20, 1)
    try:
        import redis

        info = redis.Redis.from_url(backend.redis_url).info("memory")
        return round(int(info["used_memory"]) / 2**20, 1)
    except Exception:
        return None


async def _seed_backend(backend: Backend, cfg: ScaleConfig) -> Seeded:
    storage = backend.storage()
    await storage.open()
    try:
        return await seed(storage, cfg)
    finally:
        await storage.close()


def run_backend(
    name: str, cfg: ScaleConfig, log_dir: Path, profile_dir: Path | None = None
) -> BackendRun:
    out = BackendRun(name)
    backend = prepare(name, log_dir)
    try:
        print(f"== {name}: seeding {cfg.title.split(';')[0]}", flush=True)
        seeded = asyncio.run(_seed_backend(backend, cfg))
        out.seed_s, out.writes = round(seeded.seconds, 1), seeded.writes
        out.by_status, out.overdue = seeded.by_status, seeded.overdue
        owned = [p["actions"] for p in seeded.people]
        out.owned_median, out.owned_max = statistics.median(owned), max(owned)
        out.store_mib = _store_mib(backend)
        print(
            f"   {seeded.writes:,} storage calls in {seeded.seconds:.1f} s "
            f"({seeded.writes / max(seeded.seconds, 1e-9):,.0f}/s); store {out.store_mib} MiB; "
            f"overdue {seeded.overdue:,}; actions per person median {out.owned_median:g}, "
            f"max {out.owned_max}",
            flush=True,
        )
        started = time.monotonic()
        start_server(backend)
        out.start_s = round(time.monotonic() - started, 2)
        token = join_team(backend, seeded)
        out.count_problems = check_counts(backend, token, seeded)
        for problem in out.count_problems:
            print(f"   ! team page: {problem}", flush=True)
        out.results = measure(backend, token, seeded, cfg, profile_dir)
        if backend.server is not None and backend.server.poll() is not None:
            out.errors.append(f"server exited (code {backend.server.returncode})")
    except Exception as exc:
        out.errors.append(f"run failed: {type(exc).__name__}: {exc}"[:400])
        print(f"   ! {out.errors[-1]}", flush=True)
    finally:
        backend.stop()
    return out


# --- report -----------------------------------------------------------------------------------


def table(runs: list[BackendRun]) -> str:
    rows = [
        "| call | backend | p50 ms | p99 ms | max ms | req/s | server CPU ms/req | answer KiB "
        "| others' CPU s | p99 <= 100 ms |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    calls_in_order = [r.call for run in runs[:1] for r in run.results]
    for call in calls_in_order:
        for run in runs:
            for r in run.results:
                if r.call != call:
                    continue
                ok = "-" if r.p99_ms is None else ("yes" if r.p99_ms <= GOAL_P99_MS else "**no**")
                if r.errors:
                    ok += f" ({r.errors} errors)"
                rows.append(
                    f"| {call} | {run.backend} | {_num(r.p50_ms)} | {_num(r.p99_ms)} | "
                    f"{_num(r.max_ms)} | {r.rps:.0f} | {_num(r.server_cpu_ms_per_req)} | "
                    f"{r.body_kib} | {r.others_cpu_s} | {ok} |"
                )
    return "\n".join(rows)


def block(runs: list[BackendRun], cfg: ScaleConfig, command: str) -> str:
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [
        f"Measured {when} on {_machine()}.",
        "",
        f"Reproduce: `{command}`",
        "",
        f"Scenario: {cfg.title}.",
        "",
        table(runs),
        "",
    ]
    for run in runs:
        lines.append(
            f"- {run.backend}: seeded with {run.writes:,} storage calls in {run.seed_s:.0f} s; "
            f"store {run.store_mib} MiB; server ready {run.start_s} s after spawn; "
            f"overdue {run.overdue:,}; actions per person median {run.owned_median:g}, "
            f"max {run.owned_max}"
            + ("; team page counts match the seed" if not run.count_problems else "")
        )
        lines += [f"  - team page: {p}" for p in run.count_problems]
        lines += [f"  - {e}" for e in run.errors]
    return "\n".join(lines)


def _machine() -> str:
    import platform

    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}), Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def write_readme(text: str, path: Path = README) -> bool:
    readme = path.read_text()
    if MARK_START not in readme or MARK_END not in readme:
        print(f"{path} has no {MARK_START} ... {MARK_END} markers", file=sys.stderr)
        return False
    head, _, rest = readme.partition(MARK_START)
    _, _, tail = rest.partition(MARK_END)
    path.write_text(f"{head}{MARK_START}\n{text}\n{MARK_END}{tail}")
    return True


def _args(argv: list[str] | None) -> argparse.Namespace:
    d = ScaleConfig()
    ap = argparse.ArgumentParser(
        prog="bench/team_scale.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--backends", default="sqlite,redis", help="sqlite,redis (comma-separated)")
    ap.add_argument("--reviews", type=int, default=d.reviews)
    ap.add_argument("--actions", type=int, default=d.actions)
    ap.add_argument("--people", type=int, default=d.people)
    ap.add_argument("--duration", type=float, default=d.duration_s, help="timed s per call")
    ap.add_argument("--warmup", type=float, default=d.warmup_s, help="untimed s per call")
    ap.add_argument("--concurrency", type=int, default=d.concurrency, help="keep-alive clients")
    ap.add_argument("--seed", type=int, default=d.seed, help="random seed of the team's data")
    ap.add_argument("--calls", default="", help="only these calls (comma-separated names)")
    ap.add_argument("--profile", action="store_true", help="py-spy the server during each call")
    ap.add_argument("--readme", action="store_true", help="write the table into bench/README.md")
    ap.add_argument("--out", type=Path, default=None, help="JSON results file")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    cfg = ScaleConfig(
        reviews=args.reviews,
        actions=args.actions,
        people=args.people,
        duration_s=args.duration,
        warmup_s=args.warmup,
        concurrency=args.concurrency,
        seed=args.seed,
        only=tuple(c.strip() for c in args.calls.split(",") if c.strip()),
    )
    known = [name for name, _ in CALLS]
    if unknown_calls := [c for c in cfg.only if c not in known]:
        raise SystemExit(f"unknown call(s) {unknown_calls}; known: {', '.join(known)}")
    names = [n.strip() for n in args.backends.split(",") if n.strip()]
    if unknown := [n for n in names if n not in ("sqlite", "redis")]:
        raise SystemExit(f"unknown backend(s) {unknown}; known: sqlite, redis")
    if "redis" in names and shutil.which("redis-server") is None:
        raise SystemExit("redis-server not on PATH")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    log_dir = RESULTS / "logs" / f"team-scale-{stamp}"
    profile_dir = None
    if args.profile:
        if py_spy() is None:
            raise SystemExit("py-spy not installed (pip install -r bench/requirements.txt)")
        profile_dir = RESULTS / "profiles" / f"team-scale-{stamp}"
    print(f"Follow-through at scale: {cfg.title}", flush=True)
    runs = [run_backend(n, cfg, log_dir, profile_dir) for n in names]
    command = ".venv/bin/python bench/team_scale.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    text = block(runs, cfg, command.strip())
    print()
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = args.out or RESULTS / f"team-scale-{stamp}.json"
    record = {"config": asdict(cfg), "command": command, "runs": [asdict(r) for r in runs]}
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"results: {out}")
    if args.readme:
        write_readme(text)
    failed = any(r.errors or any(c.errors for c in r.results) for r in runs)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
