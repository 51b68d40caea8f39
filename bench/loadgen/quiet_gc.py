"""Keep the load generator's own garbage collections out of what it times.

A generator process holds a thousand clients or more. A full collection there walked all
of them (~125 ms on a 2-core box, twice in a 10 s phase), and every frame that arrived
meanwhile was stamped late: the pause showed up as the server's latency, for every
server alike. So before a timed phase everything the process holds is collected once
and frozen, and the collector waits until the phase is over; reference counting still
frees what the phase drops.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


def settle() -> None:
    """Collect once and freeze what survives (before the harness's start instant)."""
    gc.collect()
    gc.freeze()


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No collection inside the block; frozen objects are thawed at its end."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()
