"""Meeting timer as a pure state machine in server time.

The server never ticks. It stores either a deadline (running) or the time left
(paused), both in server epoch milliseconds, and every client computes the remaining
time from its own clock plus its estimated offset to the server (`clock_offset`).
All functions take `now_ms` from the caller, so they are deterministic and testable.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from .errors import Conflict, ValidationError
from .values import check_keys

Status = Literal["idle", "running", "paused", "expired"]
_STORED_STATUSES = ("idle", "running", "paused")

MIN_DURATION_MS = 1_000
MAX_DURATION_MS = 24 * 60 * 60 * 1000
# Extensions have no product cap, but values must stay exact in a JSON/JS number.
_MAX_SAFE = 2**53 - 1
_FIELDS = ("status", "duration_ms", "deadline_ms", "remaining_ms", "started_at_ms", "extended_ms")


@dataclass(frozen=True)
class TimerState:
    """Stored timer state. `expired` is never stored: it is running with a past deadline.

    duration_ms is the whole time box including extensions; extended_ms is how much of
    it came from extensions (so the recap can say a phase ran over on purpose).
    """

    status: Literal["idle", "running", "paused"] = "idle"
    duration_ms: int = 0
    deadline_ms: int | None = None  # set while running
    remaining_ms: int | None = None  # set while paused
    started_at_ms: int | None = None  # when the current run was first started
    extended_ms: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain form for the `room` CRDT map."""
        return {name: getattr(self, name) for name in _FIELDS}

    @classmethod
    def from_dict(cls, data: Any) -> TimerState:
        """Read back a stored state, refusing inconsistent combinations."""
        data = check_keys(data, "timer", _FIELDS)
        status = data.get("status", "idle")
        if status not in _STORED_STATUSES:
            raise ValidationError(f"timer.status must be one of {_STORED_STATUSES}")
        values = {name: _opt_int(data.get(name), f"timer.{name}") for name in _FIELDS[1:]}
        state = cls(
            status=status,
            duration_ms=values["duration_ms"] or 0,
            deadline_ms=values["deadline_ms"],
            remaining_ms=values["remaining_ms"],
            started_at_ms=values["started_at_ms"],
            extended_ms=values["extended_ms"] or 0,
        )
        if status == "running" and state.deadline_ms is None:
            raise ValidationError("a running timer needs deadline_ms")
        if status == "paused" and state.remaining_ms is None:
            raise ValidationError("a paused timer needs remaining_ms")
        return state


def idle(duration_ms: int = 0) -> TimerState:
    """A timer that is not counting, loaded with a time box."""
    return TimerState(duration_ms=_check_duration(duration_ms) if duration_ms else 0)


def status(state: TimerState, now_ms: int) -> Status:
    """Current status, with `expired` computed from the deadline."""
    if is_expired(state, now_ms):
        return "expired"
    return state.status


def is_expired(state: TimerState, now_ms: int) -> bool:
    """True once a running timer's deadline has been reached."""
    return (
        state.status == "running" and state.deadline_ms is not None and now_ms >= state.deadline_ms
    )


def remaining_ms(state: TimerState, now_ms: int) -> int:
    """Milliseconds left; never negative. An idle timer reports its full time box."""
    if state.status == "running" and state.deadline_ms is not None:
        return max(0, state.deadline_ms - now_ms)
    if state.status == "paused" and state.remaining_ms is not None:
        return max(0, state.remaining_ms)
    return state.duration_ms


def start(state: TimerState, now_ms: int, duration_ms: int | None = None) -> TimerState:
    """Start counting down `duration_ms` (default: the loaded time box).

    Allowed from idle or expired. A running or paused timer must be reset first, so two
    moderators pressing start at once cannot silently restart each other's countdown.
    """
    current = status(state, now_ms)
    if current == "running":
        raise Conflict(
            "the timer is already running; pause, extend or reset it", error="timer-running"
        )
    if current == "paused":
        raise Conflict("the timer is paused; resume or reset it", error="timer-paused")
    duration = _check_duration(state.duration_ms if duration_ms is None else duration_ms)
    return TimerState(
        status="running",
        duration_ms=duration,
        deadline_ms=_safe(now_ms + duration),
        started_at_ms=now_ms,
    )


def pause(state: TimerState, now_ms: int) -> TimerState:
    """Freeze the countdown; only a running (not expired) timer can be paused."""
    if status(state, now_ms) != "running":
        raise Conflict(
            f"the timer cannot be paused while {status(state, now_ms)}", error="timer-not-running"
        )
    return replace(
        state, status="paused", deadline_ms=None, remaining_ms=remaining_ms(state, now_ms)
    )


def resume(state: TimerState, now_ms: int) -> TimerState:
    """Continue a paused countdown from where it stopped."""
    if state.status != "paused" or state.remaining_ms is None:
        raise Conflict(
            f"the timer cannot be resumed while {status(state, now_ms)}", error="timer-not-paused"
        )
    return replace(
        state, status="running", deadline_ms=_safe(now_ms + state.remaining_ms), remaining_ms=None
    )


def extend(
    state: TimerState, now_ms: int, *, minutes: float | None = None, ms: int | None = None
) -> TimerState:
    """Add time in any state; pass exactly one of `minutes` or `ms` (positive, no cap).

    An expired timer gets the extra time from now, not from its old deadline, so
    "five more minutes" after the bell really means five minutes.
    """
    extra = _extension_ms(minutes, ms)
    grown = replace(
        state,
        duration_ms=_safe(state.duration_ms + extra),
        extended_ms=_safe(state.extended_ms + extra),
    )
    if state.status == "running" and state.deadline_ms is not None:
        base = max(state.deadline_ms, now_ms)
        return replace(grown, deadline_ms=_safe(base + extra))
    if state.status == "paused" and state.remaining_ms is not None:
        return replace(grown, remaining_ms=_safe(state.remaining_ms + extra))
    return grown


def reset(duration_ms: int) -> TimerState:
    """Stop and load a fresh time box (e.g. the phase's minutes), discarding extensions."""
    return TimerState(duration_ms=_check_duration(duration_ms))


def view(state: TimerState, now_ms: int) -> dict[str, Any]:
    """Stored state plus what it means right now, for API responses."""
    return {
        **state.to_dict(),
        "status": status(state, now_ms),
        "remaining_now_ms": remaining_ms(state, now_ms),
        "server_now_ms": now_ms,
    }


def round_trip_ms(sample: Sequence[float]) -> float:
    """Round trip of one (t0 client send, server time, t1 client receive) sample."""
    t0, _server, t1 = sample
    return t1 - t0


def clock_offset(samples: Iterable[Sequence[float]]) -> float:
    """Estimate server_time - client_time in ms from NTP-style samples.

    Each sample is (t0, server_ms, t1). The server's reading is assumed to sit halfway
    through the round trip, so the fastest samples carry the least error: we keep the
    ones with the lowest round trip and average their offsets. Samples whose receive
    time is before their send time (the client clock jumped) are ignored.
    """
    usable = [s for s in samples if len(s) == 3 and s[2] >= s[0]]
    if not usable:
        raise ValidationError("no usable clock samples (need t0 <= t1)", field="samples")
    best = min(round_trip_ms(s) for s in usable)
    chosen = [s for s in usable if round_trip_ms(s) == best]
    offsets = [server - (t0 + t1) / 2 for t0, server, t1 in chosen]
    return sum(offsets) / len(offsets)


def _extension_ms(minutes: float | None, ms: int | None) -> int:
    if (minutes is None) == (ms is None):
        raise ValidationError("give exactly one of minutes or ms to extend the timer")
    value = ms if ms is not None else minutes
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError("the extension must be a number", field="minutes")
    if not math.isfinite(value):
        raise ValidationError("the extension must be a finite number", field="minutes")
    extra = round(value * 60_000) if minutes is not None else int(value)
    if extra <= 0:
        raise ValidationError("the extension must be more than zero", field="minutes")
    return _safe(extra)


def _check_duration(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("duration_ms must be a whole number of milliseconds")
    if not MIN_DURATION_MS <= value <= MAX_DURATION_MS:
        raise ValidationError("the timer duration must be between 1 second and 24 hours")
    return value


def _safe(value: int) -> int:
    if value > _MAX_SAFE:
        raise ValidationError("that much time cannot be represented; use a smaller extension")
    return value


def _opt_int(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value != int(value)
    ):
        raise ValidationError(f"{field} must be a whole number", field=field)
    return int(value)
