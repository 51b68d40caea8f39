import pytest

from debrief.meeting import timer as tm
from debrief.meeting.errors import Conflict, ValidationError

T0 = 1_700_000_000_000
MIN = 60_000


def test_idle_reports_full_time_box() -> None:
    state = tm.reset(5 * MIN)
    assert tm.status(state, T0) == "idle"
    assert tm.remaining_ms(state, T0) == 5 * MIN
    assert not tm.is_expired(state, T0)


def test_start_counts_down_and_expires() -> None:
    state = tm.start(tm.reset(5 * MIN), T0)
    assert state.status == "running"
    assert state.deadline_ms == T0 + 5 * MIN
    assert state.started_at_ms == T0
    assert tm.remaining_ms(state, T0 + MIN) == 4 * MIN
    assert tm.status(state, T0 + 5 * MIN - 1) == "running"
    assert tm.status(state, T0 + 5 * MIN) == "expired"
    assert tm.is_expired(state, T0 + 5 * MIN)
    assert tm.remaining_ms(state, T0 + 99 * MIN) == 0  # never negative


def test_start_with_explicit_duration_and_restart_after_expiry() -> None:
    state = tm.start(tm.TimerState(), T0, 2 * MIN)
    assert state.duration_ms == 2 * MIN
    again = tm.start(state, T0 + 3 * MIN, MIN)
    assert again.deadline_ms == T0 + 4 * MIN


def test_start_refused_while_running_or_paused() -> None:
    running = tm.start(tm.reset(MIN), T0)
    with pytest.raises(Conflict, match="already running") as info:
        tm.start(running, T0 + 1)
    assert info.value.error == "timer-running"
    with pytest.raises(Conflict, match="paused"):
        tm.start(tm.pause(running, T0 + 1), T0 + 2)


def test_start_validates_duration() -> None:
    with pytest.raises(ValidationError, match="between 1 second and 24 hours"):
        tm.start(tm.TimerState(), T0)  # idle with no time box loaded
    with pytest.raises(ValidationError, match="whole number"):
        tm.start(tm.TimerState(), T0, 1.5)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        tm.reset(25 * 60 * MIN)


def test_pause_and_resume_keep_remaining_time() -> None:
    running = tm.start(tm.reset(10 * MIN), T0)
    paused = tm.pause(running, T0 + 3 * MIN)
    assert paused.status == "paused" and paused.deadline_ms is None
    assert tm.remaining_ms(paused, T0 + 60 * MIN) == 7 * MIN
    resumed = tm.resume(paused, T0 + 60 * MIN)
    assert resumed.deadline_ms == T0 + 67 * MIN
    assert resumed.remaining_ms is None
    assert tm.remaining_ms(resumed, T0 + 62 * MIN) == 5 * MIN
    assert resumed.started_at_ms == T0


def test_bad_transitions_raise_conflict() -> None:
    idle = tm.reset(MIN)
    with pytest.raises(Conflict, match="cannot be paused while idle"):
        tm.pause(idle, T0)
    with pytest.raises(Conflict, match="cannot be resumed while idle"):
        tm.resume(idle, T0)
    running = tm.start(idle, T0)
    with pytest.raises(Conflict, match="cannot be resumed while running"):
        tm.resume(running, T0 + 1)
    with pytest.raises(Conflict, match="cannot be paused while expired"):
        tm.pause(running, T0 + MIN)
    paused = tm.pause(running, T0 + 1)
    with pytest.raises(Conflict, match="paused while paused"):
        tm.pause(paused, T0 + 2)


def test_extend_in_every_state() -> None:
    idle = tm.extend(tm.reset(5 * MIN), T0, minutes=2)
    assert idle.duration_ms == 7 * MIN and idle.extended_ms == 2 * MIN
    running = tm.extend(tm.start(tm.reset(5 * MIN), T0), T0 + MIN, ms=30_000)
    assert running.deadline_ms == T0 + 5 * MIN + 30_000
    assert running.extended_ms == 30_000
    paused = tm.pause(tm.start(tm.reset(5 * MIN), T0), T0 + MIN)
    assert tm.remaining_ms(tm.extend(paused, T0 + 2 * MIN, minutes=1), T0 + 9 * MIN) == 5 * MIN


def test_extend_after_expiry_counts_from_now() -> None:
    state = tm.start(tm.reset(5 * MIN), T0)
    late = T0 + 20 * MIN
    extended = tm.extend(state, late, minutes=5)
    assert tm.status(extended, late) == "running"
    assert tm.remaining_ms(extended, late) == 5 * MIN


def test_extend_has_no_upper_cap_but_refuses_nonsense() -> None:
    state = tm.extend(tm.start(tm.reset(MIN), T0), T0, minutes=100_000)
    assert tm.remaining_ms(state, T0) == MIN + 100_000 * MIN
    running = tm.start(tm.reset(MIN), T0)
    for kwargs in ({"minutes": 0}, {"ms": -5}, {}, {"minutes": 1, "ms": 1}, {"minutes": True}):
        with pytest.raises(ValidationError):
            tm.extend(running, T0, **kwargs)
    with pytest.raises(ValidationError, match="finite"):
        tm.extend(running, T0, minutes=float("inf"))
    with pytest.raises(ValidationError, match="cannot be represented"):
        tm.extend(running, T0, ms=2**60)


def test_extensions_accumulate_and_reset_clears_them() -> None:
    state = tm.start(tm.reset(MIN), T0)
    state = tm.extend(tm.extend(state, T0, minutes=1), T0, minutes=2)
    assert state.extended_ms == 3 * MIN and state.duration_ms == 4 * MIN
    fresh = tm.reset(10 * MIN)
    assert fresh == tm.TimerState(status="idle", duration_ms=10 * MIN)


def test_round_trip_through_dict() -> None:
    state = tm.pause(tm.start(tm.reset(MIN), T0), T0 + 1000)
    data = state.to_dict()
    assert data == {
        "status": "paused",
        "duration_ms": MIN,
        "deadline_ms": None,
        "remaining_ms": MIN - 1000,
        "started_at_ms": T0,
        "extended_ms": 0,
    }
    assert tm.TimerState.from_dict(data) == state
    # CRDT maps may hand numbers back as floats.
    as_floats = {k: float(v) if isinstance(v, int) else v for k, v in data.items()}
    assert tm.TimerState.from_dict(as_floats) == state


@pytest.mark.parametrize(
    "data",
    [
        {"status": "expired"},
        {"status": "running", "duration_ms": 5},
        {"status": "paused", "duration_ms": 5},
        {"status": "idle", "duration_ms": 1.5},
        {"status": "idle", "duration_ms": float("nan")},
        {"status": "idle", "colour": "red"},
    ],
)
def test_from_dict_refuses_inconsistent_state(data: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        tm.TimerState.from_dict(data)


def test_view_includes_computed_fields() -> None:
    state = tm.start(tm.reset(MIN), T0)
    view = tm.view(state, T0 + MIN)
    assert view["status"] == "expired"
    assert view["remaining_now_ms"] == 0
    assert view["server_now_ms"] == T0 + MIN
    assert view["deadline_ms"] == T0 + MIN


def test_clock_offset_picks_fastest_sample() -> None:
    # Client clock is 5 s behind the server. The fast sample is symmetric; the slow
    # one has a lopsided 400 ms delay that would mislead a plain average.
    fast = (1000, 6_010, 1020)
    slow = (2000, 7_400, 2500)
    assert tm.clock_offset([slow, fast]) == 5_000
    assert tm.round_trip_ms(fast) == 20


def test_clock_offset_averages_ties_and_skips_bad_samples() -> None:
    samples = [(0, 5_010, 20), (100, 5_120, 120), (500, 0, 400)]
    assert tm.clock_offset(samples) == 5_005
    with pytest.raises(ValidationError, match="no usable clock samples"):
        tm.clock_offset([(10, 0, 5)])
    with pytest.raises(ValidationError):
        tm.clock_offset([])


def test_skewed_clients_agree_on_remaining_time() -> None:
    server_now = T0 + 30_000
    state = tm.start(tm.reset(5 * MIN), T0)
    remaining = []
    for skew in (-5_000, 5_000):
        client_now = server_now - skew
        offset = tm.clock_offset([(client_now - 15, server_now, client_now + 15)])
        remaining.append(tm.remaining_ms(state, int(client_now + offset)))
    assert abs(remaining[0] - remaining[1]) <= 250
