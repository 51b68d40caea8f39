"""The note tally's clock (meeting/note_tally.py): it orders the hidden counts every client
is shown, so it only ever goes up, and a stored one a client could not read is ignored."""

from __future__ import annotations

import time

from hypothesis import given
from hypothesis import strategies as st

from debrief.meeting.note_tally import MAX_CLOCK, NoteTally

STORED = {"total": 2, "owners": {"p_a": 2}, "hidden": {"worked-well": 2}}


def test_a_tick_is_above_the_last_clock_and_at_least_the_time() -> None:
    tally = NoteTally.counting([])
    before = time.time_ns() // 1000
    first = tally.tick()
    assert first >= before
    assert tally.tick() > first
    ahead = NoteTally(clock=first + 10**9)  # shown by a process whose clock ran ahead
    assert ahead.tick() == first + 10**9 + 1


def test_the_clock_is_kept_with_the_tally_and_an_older_tally_has_none() -> None:
    tally = NoteTally.from_record(STORED)
    assert tally is not None and tally.clock == 0 and "clock" not in tally.to_record()
    tally.tick()
    again = NoteTally.from_record(tally.to_record())
    assert again is not None and again.clock == tally.clock


@given(st.one_of(st.integers(), st.floats(), st.text(), st.booleans(), st.none()))
def test_a_stored_clock_of_any_value_reads_as_one_a_client_can_take(value: object) -> None:
    tally = NoteTally.from_record({**STORED, "clock": value})
    assert tally is not None and tally.total == 2
    assert type(tally.clock) is int and 0 <= tally.clock < MAX_CLOCK
    assert tally.tick() < 2**53  # a JavaScript number holds it exactly
