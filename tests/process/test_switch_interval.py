"""The GIL switch interval `debrief serve` sets for its threads (cli.set_switch_interval):
taken from DEBRIEF_SWITCH_INTERVAL_MS, and a value Python cannot use stops the start with
a message rather than a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from debrief.cli import set_switch_interval
from debrief.settings import Settings


@pytest.fixture
def restored() -> Iterator[None]:
    before = sys.getswitchinterval()
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def test_default_is_half_a_millisecond(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEBRIEF_SWITCH_INTERVAL_MS", raising=False)
    assert Settings().switch_interval_ms == 0.1
    monkeypatch.setenv("DEBRIEF_SWITCH_INTERVAL_MS", "2")
    assert Settings().switch_interval_ms == 2.0


def test_applied_in_seconds(restored: None) -> None:
    set_switch_interval(0.25)
    assert sys.getswitchinterval() == pytest.approx(0.00025)


@pytest.mark.parametrize("ms", [0.0, -1.0, float("nan"), 1000.0])
def test_unusable_values_refused(restored: None, ms: float) -> None:
    before = sys.getswitchinterval()
    with pytest.raises(SystemExit, match="DEBRIEF_SWITCH_INTERVAL_MS"):
        set_switch_interval(ms)
    assert sys.getswitchinterval() == before


def test_serve_refuses_to_start_with_an_unusable_value(tmp_path: Path) -> None:
    env = {**os.environ, "DEBRIEF_SWITCH_INTERVAL_MS": "0"}
    done = subprocess.run(
        [sys.executable, "-m", "debrief.cli", "serve", "--port", "0", "--data", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "DEBRIEF_SWITCH_INTERVAL_MS must be above 0" in done.stderr
    assert not list(tmp_path.iterdir())  # refused before storage was opened
