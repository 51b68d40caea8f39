"""How many websockets each session has open on this process (a cap per session).

One entry per session with a socket open, dropped with its last socket: nothing is
kept for idle sessions. Per process: behind several processes (scale-out) a session
may hold the cap on each, which still bounds it.
"""

from __future__ import annotations


class SessionSockets:
    def __init__(self) -> None:
        self._open: dict[str, int] = {}

    def reserve(self, session_id: str, limit: int) -> bool:
        """Count one more socket for ``session_id``; False (nothing counted) at ``limit``."""
        count = self._open.get(session_id, 0)
        if count >= limit:
            return False
        self._open[session_id] = count + 1
        return True

    def release(self, session_id: str) -> None:
        count = self._open.get(session_id, 0) - 1
        if count > 0:
            self._open[session_id] = count
        else:
            self._open.pop(session_id, None)

    def open_for(self, session_id: str) -> int:
        return self._open.get(session_id, 0)
