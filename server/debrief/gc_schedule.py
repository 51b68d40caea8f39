"""Full garbage collections that do not stop a meeting.

With thousands of websockets open, the process tracks hundreds of thousands of container
objects (~350,000 at 6,000 sockets), and a full (generation 2) collection walks every one:
100-420 ms on our 2-core bench box, while no command answers and no update is relayed.
Almost all of them live as long as their connection or room. So after each full
collection, what survived it is frozen (``gc.freeze``): the next full collection walks
only what was created since, and its pause shrinks with it.

Frozen objects are still freed by reference counting; what freezing puts off is finding
*cycles* among them. So every ``thaw_s`` seconds, at the start of the next full
collection, everything is thawed first, and that one collection walks all of it.
"""

from __future__ import annotations

import gc
import time
from typing import Any


class GcSchedule:
    """Freeze after each full collection; thaw before one every ``thaw_s`` seconds."""

    def __init__(self, thaw_s: float) -> None:
        self.thaw_s = thaw_s
        self.freezes = 0
        self.thaws = 0
        self._thawed_at = time.monotonic()

    def install(self) -> None:
        gc.callbacks.append(self._on_collection)

    def uninstall(self) -> None:
        if self._on_collection in gc.callbacks:
            gc.callbacks.remove(self._on_collection)
        gc.unfreeze()

    def _on_collection(self, phase: str, info: dict[str, Any]) -> None:
        # Runs in whichever thread allocated its way into the collection, with the GIL
        # held; freezing and thawing only move the collector's own lists.
        if info.get("generation") != 2:
            return
        if phase == "start":
            now = time.monotonic()
            if now - self._thawed_at >= self.thaw_s:
                gc.unfreeze()  # this collection walks everything once more
                self._thawed_at = now
                self.thaws += 1
        elif phase == "stop":
            gc.freeze()
            self.freezes += 1
