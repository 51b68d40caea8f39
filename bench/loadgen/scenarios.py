"""The benchmark scenarios and how their clients are laid out over docs and processes."""

from __future__ import annotations

from dataclasses import dataclass, replace

from .plan import ClientPlan, DocRef, Mode, Target, WorkerPlan, Workload


@dataclass(frozen=True)
class Scenario:
    """One scenario: ``docs`` docs with ``clients_per_doc`` clients each."""

    name: str
    title: str
    docs: int
    clients_per_doc: int
    workload: Workload
    writers_per_doc: int = 0  # updates mode
    verifiers_per_doc: int = 1  # clients that decode into a real Doc and check it
    procs: int = 2  # generator processes
    hold_s: float = 0.0  # idle mode: seconds connected before RSS is read
    note: str = ""
    scaleout: bool = False  # also run on debrief-redis (2 processes + Redis) by default

    @property
    def mode(self) -> Mode:
        return self.workload.mode

    @property
    def clients(self) -> int:
        return self.docs * self.clients_per_doc


def _big(n: int, writers: int, rate: float, duration: float) -> Scenario:
    return Scenario(
        name=f"big-{n}",
        title=f"Big review: 1 doc, {n} clients, {writers} writers x {rate:g}/s",
        docs=1,
        clients_per_doc=n,
        writers_per_doc=writers,
        verifiers_per_doc=2,
        workload=Workload(mode="updates", duration_s=duration, rate_hz=rate),
        scaleout=True,
    )


def default_scenarios(scale: float = 1.0) -> list[Scenario]:
    """The full suite, sized for a 2-core machine; ``scale`` shrinks client counts."""

    def n(x: int) -> int:
        return max(2, round(x * scale))

    return [
        *(_big(n(k), 5, 4.0, 10.0) for k in (200, 500, 1000)),
        Scenario(
            name="many",
            title=f"Many reviews: {n(200)} docs x 10 clients, 2 writers x 1/s each",
            docs=n(200),
            clients_per_doc=10,
            writers_per_doc=2,
            workload=Workload(mode="updates", duration_s=10.0, rate_hz=1.0),
            scaleout=True,
        ),
        Scenario(
            name="storm",
            title=f"Join storm: {n(500)} clients join one 1 MiB doc at once",
            docs=1,
            clients_per_doc=n(500),
            verifiers_per_doc=5,
            workload=Workload(
                mode="storm",
                seed_bytes=1024 * 1024,
                connect_concurrency=1000,
                connect_timeout_s=60.0,
            ),
        ),
        Scenario(
            name="idle",
            title=f"Idle capacity: {n(5000)} clients on {max(1, n(5000) // 50)} docs",
            docs=max(1, n(5000) // 50),
            clients_per_doc=min(50, n(5000)),
            verifiers_per_doc=0,
            workload=Workload(mode="idle", connect_concurrency=100),
            hold_s=5.0,
        ),
        Scenario(
            name="awareness",
            title=f"Awareness: {n(100)} clients, each cursor at 2 Hz",
            docs=1,
            clients_per_doc=n(100),
            verifiers_per_doc=0,
            workload=Workload(mode="awareness", duration_s=10.0, rate_hz=2.0),
        ),
    ]


def smoke_scenario(clients: int = 6, writers: int = 2, duration_s: float = 2.0) -> Scenario:
    """A few clients for a couple of seconds (used by the test suite)."""
    return Scenario(
        name="smoke",
        title=f"Smoke: 1 doc, {clients} clients, {writers} writers",
        docs=1,
        clients_per_doc=clients,
        writers_per_doc=writers,
        verifiers_per_doc=1,
        procs=1,
        workload=Workload(mode="updates", duration_s=duration_s, rate_hz=5.0, drain_s=5.0),
        scaleout=True,
    )


def awareness_smoke_scenario(clients: int = 5, duration_s: float = 2.0) -> Scenario:
    """A few cursors for a couple of seconds (used by the test suite)."""
    return Scenario(
        name="awareness-smoke",
        title=f"Awareness smoke: {clients} clients at 4 Hz",
        docs=1,
        clients_per_doc=clients,
        verifiers_per_doc=0,
        procs=1,
        workload=Workload(mode="awareness", duration_s=duration_s, rate_hz=4.0, drain_s=5.0),
    )


def with_overrides(sc: Scenario, duration_s: float | None, procs: int | None) -> Scenario:
    wl = sc.workload if duration_s is None else replace(sc.workload, duration_s=duration_s)
    return replace(sc, workload=wl, procs=procs or sc.procs)


def layout(sc: Scenario, target: Target, docs: list[DocRef], nofile: int) -> list[WorkerPlan]:
    """Spread the scenario's clients over ``sc.procs`` generator processes.

    Clients of one doc are dealt round-robin across processes, so every process holds a share
    of every doc's writers and listeners; the storm seeder lives in process 0.
    """
    procs = max(1, min(sc.procs, sc.clients))
    plans = [
        WorkerPlan(
            index=i,
            target=target,
            docs=docs,
            clients=[],
            workload=sc.workload,
            seeder=(sc.mode == "storm" and i == 0),
            nofile=nofile,
        )
        for i in range(procs)
    ]
    cid = 0
    writer = 0
    doc_writers: dict[int, list[int]] = {}
    doc_senders: dict[int, list[int]] = {}
    for d in range(sc.docs):
        doc_writers[d] = []
        doc_senders[d] = []
        for k in range(sc.clients_per_doc):
            w = -1
            if k < sc.writers_per_doc:
                w = writer
                writer += 1
                doc_writers[d].append(w)
            verify = sc.writers_per_doc <= k < sc.writers_per_doc + sc.verifiers_per_doc
            if sc.mode == "awareness":
                doc_senders[d].append(cid)
            cp = ClientPlan(cid=cid, doc=d, writer=w, verify=verify, first=k == 0, slot=k)
            plans[cid % procs].clients.append(cp)
            cid += 1
    for p in plans:
        p.doc_writers = doc_writers
        p.doc_senders = doc_senders
    return plans
