"""Plain data passed from the harness to the generator processes (picklable, no behaviour)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ServerKind = Literal[
    "debrief", "debrief-redis", "y-websocket", "hocuspocus", "pycrdt", "relay-floor"
]
Mode = Literal["updates", "storm", "idle", "awareness"]


@dataclass(frozen=True, slots=True)
class Target:
    """How to reach one running server: one port, or one per process of a scale-out cluster."""

    kind: ServerKind
    host: str
    ports: tuple[int, ...]

    @property
    def port(self) -> int:
        """The first process's port (API calls that may go anywhere use it)."""
        return self.ports[0]

    def for_client(self, i: int) -> Target:
        """The process client ``i`` talks to: clients alternate over the processes."""
        if len(self.ports) == 1:
            return self
        return Target(self.kind, self.host, (self.ports[i % len(self.ports)],))

    @property
    def debrief(self) -> bool:
        """Debrief itself (single process or scale-out): joins via its API, bearer tokens."""
        return self.kind in ("debrief", "debrief-redis")

    @property
    def http_base(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_base(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def hocuspocus(self) -> bool:
        return self.kind == "hocuspocus"


@dataclass(frozen=True, slots=True)
class DocRef:
    """One shared document. For Debrief it is the ``timeline`` doc of a review."""

    name: str
    review_id: str = ""
    invite: str = ""


@dataclass(frozen=True, slots=True)
class ClientPlan:
    """One simulated client: which doc it opens and what it does there."""

    cid: int
    doc: int
    writer: int = -1  # writer id (>= 0) if this client sends document updates
    verify: bool = False  # apply every update to a real pycrdt Doc and check it at the end
    first: bool = False  # connects alone before the others (opens the room)
    slot: int = 0  # index among its doc's clients; picks the server process (Target.for_client)

    @property
    def is_writer(self) -> bool:
        return self.writer >= 0


@dataclass(frozen=True, slots=True)
class Workload:
    """What the timed phase does; identical for every worker of a run."""

    mode: Mode
    duration_s: float = 10.0
    rate_hz: float = 2.0  # per writer (updates) or per client (awareness)
    payload_bytes: int = 100
    drain_s: float = 10.0  # how long after the last send receivers may still catch up
    seed_bytes: int = 0  # storm: size of the doc every client syncs
    connect_concurrency: int = 64  # per generator process, for the set-up connects
    connect_timeout_s: float = 60.0

    @property
    def sends_per_sender(self) -> int:
        return max(1, round(self.duration_s * self.rate_hz))


@dataclass(slots=True)
class WorkerPlan:
    """Everything one generator process needs."""

    index: int
    target: Target
    docs: list[DocRef]
    clients: list[ClientPlan]
    workload: Workload
    # writer ids per doc index, for the docs this worker's clients open
    doc_writers: dict[int, list[int]] = field(default_factory=dict)
    # awareness senders per doc index (client ids)
    doc_senders: dict[int, list[int]] = field(default_factory=dict)
    seeder: bool = False  # storm: this worker seeds the doc first and keeps it open
    nofile: int = 65536


@dataclass(slots=True)
class WorkerResult:
    """What one generator process reports back (latencies in microseconds)."""

    index: int
    latencies_us: bytes = b""  # array('q') bytes
    expected: int = 0
    received: int = 0
    superseded: int = 0  # awareness states replaced by a newer one before delivery
    clients: int = 0
    connected: int = 0
    errors: list[str] = field(default_factory=list)
    verified_ok: int = 0
    verified_failed: int = 0
    cpu_s: float = 0.0
    send_lag_max_ms: float = 0.0
