"""gc_schedule: after a full collection its survivors are frozen, so the next one skips
them (cyclic garbage among them waits), until a thaw lets one full collection see all."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from debrief.gc_schedule import GcSchedule


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cycle collector frees it


@pytest.fixture
def schedule() -> Iterator[GcSchedule]:
    gc.collect()
    plan = GcSchedule(thaw_s=3600.0)
    plan.install()
    try:
        yield plan
    finally:
        plan.uninstall()


def test_survivors_are_frozen_and_thawed_on_schedule(schedule: GcSchedule) -> None:
    node = Node()
    gone = weakref.ref(node)
    gc.collect()  # node survives this full collection, and is frozen after it
    assert schedule.freezes == 1 and gc.get_freeze_count() > 0
    del node
    gc.collect()  # frozen: the cycle is not looked at
    assert gone() is not None
    assert schedule.thaws == 0

    schedule.thaw_s = 0.0  # the thaw is due: the next full collection sees everything
    gc.collect()
    assert gone() is None
    assert schedule.thaws == 1 and schedule.freezes == 3


def test_young_collections_leave_the_frozen_alone(schedule: GcSchedule) -> None:
    gc.collect(1)
    assert schedule.freezes == 0 and schedule.thaws == 0


def test_uninstall_thaws_everything() -> None:
    plan = GcSchedule(thaw_s=3600.0)
    plan.install()
    gc.collect()
    assert gc.get_freeze_count() > 0
    plan.uninstall()
    assert gc.get_freeze_count() == 0
    assert plan._on_collection not in gc.callbacks
