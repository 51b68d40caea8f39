"""Storage errors: the backend failed, or refuses writes for now (health.py)."""

from __future__ import annotations


class StorageError(RuntimeError):
    """The backend failed or is unreachable; callers refuse writes and report 503/1011."""


class StorageUnavailable(StorageError):
    """Storage takes no writes right now (stalled or full disk): this write was not made.

    Refused at once, without waiting on the disk; health.py says when it is back."""

    def __init__(self, reason: str, state: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.state = state


class StorageStalled(StorageUnavailable):
    """This write lagged past the bound: it may still complete later (or not)."""
