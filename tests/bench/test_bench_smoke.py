"""Smoke run of the benchmark load generator (bench/loadgen) against a real Debrief server.

No timing assertions: performance figures live in bench/README.md. This only checks that the
generator and the server agree on the protocol and that every update reaches every client.
"""

from __future__ import annotations

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
