"""Smoke run of the benchmark load generator (bench/loadgen) against a real Debrief server.

No timing assertions: performance figures live in bench/README.md. This only checks that the
generator and the server agree on the protocol and that every update reaches every client.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from loadgen import runner, servers  # noqa: E402
from loadgen.scenarios import (  # noqa: E402
    Scenario,
    awareness_smoke_scenario,
    smoke_scenario,
)

pytestmark = pytest.mark.skipif(
    servers.available("debrief") is not None, reason="the debrief console script is not installed"
)


@pytest.mark.parametrize(
    "scenario",
    [smoke_scenario(clients=6, writers=2, duration_s=2.0), awareness_smoke_scenario()],
    ids=lambda sc: sc.name,
)
def test_every_message_reaches_every_client(scenario: Scenario, tmp_path: Path) -> None:
    result = runner.run("debrief", scenario, tmp_path / "logs")

    assert result.errors == []
    assert result.connected == scenario.clients
    assert result.expected > 0
    assert result.received == result.expected  # delivered fraction exactly 1.0
    assert result.samples > 0
    assert result.verified_failed == 0
    if scenario.mode == "updates":  # clients that decoded every update into a real pycrdt Doc
        assert result.verified_ok == scenario.docs * scenario.verifiers_per_doc


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs 2 CPUs")
def test_pinned_servers_and_generator_keep_to_cores_of_their_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``bench/run --pin``: the server on the first CPU, this process and every
    generator process it starts afterwards on the others."""
    before = os.sched_getaffinity(0)
    first = min(before)
    monkeypatch.setattr(servers, "_SERVER_CPUS", None)
    try:
        servers.pin_cpus()
        servers.pin_cpus()  # a second call (main() calling itself) changes nothing
        assert os.sched_getaffinity(0) == before - {first}
        server = servers.start("debrief", tmp_path / "logs")
        try:
            assert os.sched_getaffinity(server.procs[0].pid) == {first}
        finally:
            server.stop()
        child = subprocess.run(
            [sys.executable, "-c", "import os; print(sorted(os.sched_getaffinity(0)))"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert json.loads(child.stdout) == sorted(before - {first})
    finally:
        os.sched_setaffinity(0, before)


@pytest.mark.skipif(
    servers.available("relay-floor") is not None,
    reason="bench/competitors has no node_modules (bench/run installs them)",
)
def test_the_relay_floor_is_a_yjs_server_the_clients_can_check(tmp_path: Path) -> None:
    """The fan-out floor keeps no doc, only relays: every update must still reach every
    client, and the verifying clients' pycrdt docs must end up holding all of them."""
    scenario = smoke_scenario(clients=6, writers=2, duration_s=2.0)
    result = runner.run("relay-floor", scenario, tmp_path / "logs")

    assert result.errors == []
    assert result.connected == scenario.clients
    assert result.received == result.expected > 0
    assert result.verified_failed == 0
    assert result.verified_ok == scenario.docs * scenario.verifiers_per_doc


@pytest.mark.skipif(
    servers.available("debrief-redis") is not None, reason="redis-server is not installed"
)
def test_scaleout_kind_delivers_everything_across_two_processes(tmp_path: Path) -> None:
    """debrief-redis: two `debrief serve --redis` processes and a throwaway redis-server; the
    clients of the doc alternate between the processes, so half the receivers of every update
    sit on the other process than its writer."""
    scenario = smoke_scenario(clients=6, writers=2, duration_s=2.0)
    result = runner.run("debrief-redis", scenario, tmp_path / "logs")

    assert result.errors == []
    assert result.processes == 2
    assert len(result.process_cpu_s) == 2
    assert result.redis_cpu_s is not None
    assert result.connected == scenario.clients
    assert result.expected > 0
    assert result.received == result.expected  # delivered fraction exactly 1.0
    assert result.verified_failed == 0
    assert result.verified_ok == scenario.verifiers_per_doc
    assert list((tmp_path / "logs").glob("redis-*.log"))  # its own Redis, not the shared one


def test_scaleout_layout_alternates_each_docs_clients_over_the_processes() -> None:
    from loadgen.plan import DocRef, Target
    from loadgen.scenarios import layout

    target = Target("debrief-redis", "127.0.0.1", (9001, 9002))
    scenario = smoke_scenario(clients=6, writers=2)
    plans = layout(scenario, target, [DocRef(name="d", review_id="r", invite="i")], 1024)
    ports = [target.for_client(c.slot).port for p in plans for c in p.clients]
    assert sorted(ports) == [9001] * 3 + [9002] * 3
    writers = [target.for_client(c.slot).port for p in plans for c in p.clients if c.is_writer]
    assert sorted(writers) == [9001, 9002]  # one writer per process: updates cross both ways
    single = Target("debrief", "127.0.0.1", (9000,))
    assert single.for_client(5) is single and single.port == 9000


def test_noisy_neighbour_scenario_floods_one_review_and_times_the_other(tmp_path: Path) -> None:
    from loadgen import noisy

    cfg = noisy.NoisyConfig(
        flooders=2, flood_s=1.0, after_s=1.0, b_clients=4, b_writers=2, b_rate_hz=5.0, drain_s=10
    )
    result = noisy.run(cfg, tmp_path / "logs")

    assert result.errors == []
    assert result.b_expected > 0
    assert result.b_received == result.b_expected  # B hears every write, flood or not
    assert result.b_verified_ok == 1
    assert result.during.samples > 0 and result.after.samples > 0
    assert result.flood["updates_sent"] > 0
    assert result.taken_in_mib_s and result.stored_a_mib  # the server took some of the flood
    assert result.peak_rss_mib > 0


def test_soak_scenario_cycles_and_leaves_no_room_or_connection(tmp_path: Path) -> None:
    from loadgen import soak

    cfg = soak.SoakConfig(cycles=60, reviews=6, sessions=2, concurrency=4, sample_every=20)
    result = soak.run(cfg, tmp_path / "logs")

    assert result.errors == []
    assert (result.cycles_done, result.failed_cycles) == (60, 0)
    assert result.end_rooms == 0
    assert result.end_connections == 0
    assert len(result.samples) >= 3
    assert result.kib_per_1000 is not None
    assert len(result.kib_per_1000_by_third) == 3


def test_soak_through_the_heap_probe_writes_where_the_memory_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loadgen import soak

    out = tmp_path / "heap.jsonl"
    monkeypatch.setenv("DEBRIEF_BENCH_EXE", str(ROOT / "bench" / "heap-probe"))
    monkeypatch.setenv("HEAP_PROBE_OUT", str(out))
    monkeypatch.setenv("HEAP_PROBE_EVERY", "0.2")
    cfg = soak.SoakConfig(cycles=40, reviews=4, sessions=2, concurrency=4, sample_every=20)
    result = soak.run_one(cfg, tmp_path / "logs")

    assert result.errors == [] and result.cycles_done == 40
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines, "the probe wrote nothing"
    last = lines[-1]
    assert last["rss_kib"] > 0 and last["heap_in_use"] > 0 and last["objects"] > 0
    assert last["sqlite"] > 0  # the storage is open: its page caches hold something
    assert "dict" in last["types"]


def test_durability_scenario_loses_nothing_seen_across_kill_9(tmp_path: Path) -> None:
    from loadgen import durability

    cfg = durability.DurabilityConfig(rounds=2, writers=4, rate_hz=20.0, min_seen=40)
    result = durability.run(cfg, tmp_path / "logs")

    assert result.errors == []
    assert result.rounds == 2
    assert result.seen >= 80
    assert (result.lost, result.duplicated) == (0, 0)
    assert result.written > 0 and result.missing_at_end == 0


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_team_scale_seeds_a_team_and_times_every_cross_review_view(
    backend: str, tmp_path: Path
) -> None:
    """bench/team_scale.py at a tiny size: the seeded team is what the team page counts, and
    every view answers 200 to the keep-alive clients."""
    import team_scale

    if backend == "redis" and servers.available("debrief-redis") is not None:
        pytest.skip("redis-server is not installed")
    cfg = team_scale.ScaleConfig(
        reviews=50, actions=500, people=20, duration_s=0.5, warmup_s=0.1, concurrency=2
    )
    run = team_scale.run_backend(backend, cfg, tmp_path / "logs")

    assert run.errors == []
    assert run.count_problems == []  # counts.actions, counts.overdue, counts.reviews.closed
    assert sum(run.by_status.values()) == 500 and run.overdue > 0
    assert [r.call for r in run.results] == [name for name, _ in team_scale.CALLS]
    for r in run.results:
        assert (r.errors, r.first_error) == (0, ""), r.call
        assert r.requests > 0 and r.p99_ms is not None, r.call


@pytest.mark.parametrize("kind", ["debrief", "debrief-redis"])
def test_meeting_scenario_every_command_reaches_every_client(kind: str, tmp_path: Path) -> None:
    """bench `meeting` (issue 15) at a tiny size: notes against the floor, then a meeting
    per review with every person holding the three docs; every command's change reaches
    every client's `room` doc, and every client has all notes of a reveal."""
    from loadgen import meeting

    if servers.available(kind) is not None:
        pytest.skip(f"{kind} cannot run here")
    # enough people that none reaches the 200 notes a person may write, however fast
    # the server (0.7 s at 5,000 notes/s is 88 each)
    cfg = meeting.MeetingConfig(
        throughput_reviews=4, throughput_people=10, connections=4, warmup_s=0.2,
        throughput_s=0.5, seen_reviews=3, people=4, rate_hz=4.0, seen_s=1.5,
        reveal_reviews=2, reveal_notes=12, reveal_gap_s=0.1, drain_s=10.0,
    )  # fmt: skip
    result = meeting.run(kind, cfg, tmp_path / "logs")

    assert result.errors == []
    assert result.ours.per_s > 0 and result.ours.non_2xx == 0 and result.ours.errors == []
    assert result.floor.per_s > 0 and result.floor.non_2xx == 0 and result.floor.errors == []
    if kind == "debrief-redis":  # and the floor of that shape: its processes, its Redis
        rf = result.redis_floor
        assert rf is not None and rf.per_s > 0 and rf.non_2xx == 0 and rf.errors == []
        assert "floor on Redis" in meeting.summary(result)
    else:
        assert result.redis_floor is None
    assert result.connected == cfg.seen_reviews * cfg.people
    seen = result.seen
    assert seen.expected > 0 and seen.received == seen.expected  # every change, every client
    assert set(seen.seen_by_all) == {"note", "timer", "phase"}
    assert set(seen.http) == {"note", "vote", "timer", "phase"}
    assert all(key.split()[1].startswith("2") for key in seen.statuses), seen.statuses
    reveal = result.reveal
    assert reveal.received == reveal.expected == cfg.reveal_reviews * cfg.people
    assert reveal.seen_by_all["reveal"].samples == cfg.reveal_reviews


def test_app_cpu_posts_every_note_through_the_app(tmp_path: Path) -> None:
    """bench/loadgen/app_cpu.py at a tiny size: every note it posts is stored (201)."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "bench.loadgen.app_cpu", "--notes", "40", "--reviews", "2",
         "--people", "3", "--concurrency", "4"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "statuses {201: 40}" in done.stdout, done.stdout


def test_count_step_takes_every_variant_by_turns_and_stores_every_note(tmp_path: Path) -> None:
    """bench/loadgen/count_step.py at a tiny size: each variant measured, no note lost."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "bench.loadgen.count_step", "--turns", "2", "--per", "24",
         "--reviews", "2", "--people", "3", "--concurrency", "4"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    for variant in ("awareness", "none", "doc"):
        assert f"{variant} " in done.stdout and "ms per note" in done.stdout, done.stdout
    # 6 warm-up notes, then 2 turns x 24 notes x 3 variants
    assert "stored 150 of 150 notes" in done.stdout, done.stdout


def test_redis_client_cpu_times_both_clients_and_leaves_no_keys() -> None:
    """bench/loadgen/redis_client_cpu.py at a tiny size, on the Redis the tests use."""
    import subprocess

    import redis

    done = subprocess.run(
        [sys.executable, "-m", "bench.loadgen.redis_client_cpu", "--callers", "4",
         "--pairs", "40", "--turns", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    for client in ("redis-py", "resp.py"):
        assert f"{client} " in done.stdout and "us of CPU per pair" in done.stdout, done.stdout
    with redis.Redis() as r:
        assert not list(r.scan_iter(match="bench-resp:*"))


def test_meeting_floor_and_ours_take_turns_so_drift_weighs_on_both() -> None:
    from loadgen import meeting

    assert meeting.turns(1) == ["floor", "throughput"]
    assert meeting.turns(3) == ["floor", "throughput", "throughput", "floor", "floor", "throughput"]
    two = meeting.turns(2, ["floor", "redis-floor"])
    assert two == ["floor", "redis-floor", "throughput", "throughput", "redis-floor", "floor"]


@pytest.mark.parametrize(
    ("args", "messages"),
    [
        # 3 docs x 2 writers x 5 messages, each to the doc's 3 other clients
        (["--shape", "smoke"], 90),
        # one doc of 80: its writes shared with the relay's helper thread; 2 x 5 x 79
        (["--shape", "smoke-big", "--threads", "2"], 790),
    ],
    ids=["small-docs", "big-doc-two-threads"],
)
def test_socket_floor_relays_every_message_to_every_other_client_of_its_doc(
    args: list[str], messages: int
) -> None:
    """bench/socket_floor.py: no server, only sockets; it exits non-zero unless each
    message reached each other client of its doc exactly once."""
    script = ROOT / "bench" / "socket_floor.py"
    done = subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "| 1 |" in done.stdout and f"| {messages} |" in done.stdout
