"""Storage: one interface (base.Storage), an embedded SQLite backend and a Redis one."""

from debrief.storage.base import (
    Storage,
    StorageError,
    StorageStalled,
    StorageUnavailable,
    StoredDoc,
    VoteOutcome,
)

__all__ = [
    "Storage",
    "StorageError",
    "StorageStalled",
    "StorageUnavailable",
    "StoredDoc",
    "VoteOutcome",
]
