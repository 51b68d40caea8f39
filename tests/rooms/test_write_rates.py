"""Write budgets: spent ahead, the wait is the debt over the rate; one per review."""

from __future__ import annotations

import pytest

from debrief.rooms.write_rates import ReviewBudgets, WriteBudget, WriteLimits, write_delay


def test_a_write_within_the_burst_goes_at_once_and_the_next_waits_for_its_debt() -> None:
    budget = WriteBudget(burst_bytes=100, burst_updates=10)
    assert budget.reserve(100, 10.0, 100, 1.0, 10) == 0.0
    # 50 bytes over, refilled at 10 bytes a second: about five seconds
    assert budget.reserve(50, 10.0, 100, 1.0, 10) == pytest.approx(5.0, abs=0.1)


def test_the_update_count_has_its_own_rate() -> None:
    budget = WriteBudget(burst_bytes=1e9, burst_updates=2)
    assert budget.reserve(1, 1e9, 1e9, 1.0, 2) == 0.0
    assert budget.reserve(1, 1e9, 1e9, 1.0, 2) == 0.0
    assert budget.reserve(1, 1e9, 1e9, 1.0, 2) == pytest.approx(1.0, abs=0.05)


def test_a_frame_larger_than_the_burst_still_passes_after_its_wait() -> None:
    budget = WriteBudget(burst_bytes=10, burst_updates=10)
    assert budget.reserve(30, 10.0, 10, 1.0, 10) == pytest.approx(2.0, abs=0.05)


def test_the_longer_of_the_connection_and_review_debts_counts() -> None:
    limits = WriteLimits(
        bytes_per_s=100, burst_bytes=100, review_bytes_per_s=10, review_burst_bytes=100
    )
    connection = WriteBudget(limits.burst_bytes, limits.burst_updates)
    review = WriteBudget(limits.review_burst_bytes, limits.review_burst_updates)
    assert write_delay(connection, review, 100, limits) == 0.0
    # the review refills ten times slower than the connection: its debt decides
    assert write_delay(connection, review, 20, limits) == pytest.approx(2.0, abs=0.05)


def test_rooms_of_one_review_share_a_budget_freed_with_the_last() -> None:
    budgets = ReviewBudgets(WriteLimits())
    timeline = budgets.acquire("r1")
    room = budgets.acquire("r1")
    other = budgets.acquire("r2")
    assert timeline is room and other is not room
    budgets.release("r1")
    assert budgets.acquire("r1") is room
    budgets.release("r1")
    budgets.release("r1")
    budgets.release("r2")
    assert len(budgets) == 0
    budgets.release("r1")  # releasing what is gone is harmless
