"""The version of the stored data's shape, kept as one record so migrations run once.

A data directory written before versions were kept has no such record: that is
version 1 (the release before teams). Migrations (teams/migrate.py) read it at startup,
bring the data forward one step at a time and record the version they reached.
"""

from __future__ import annotations

from debrief.storage.base import Storage
from debrief.teams.keys import META

SCHEMA_RECORD = "schema"
FIRST_VERSION = 1  # what data without a version record is


async def schema_version(storage: Storage) -> int:
    """The schema version the stored data is at (1 when never recorded)."""
    record = await storage.get_record(META, SCHEMA_RECORD)
    version = record.get("version") if record else None
    return version if isinstance(version, int) and version >= FIRST_VERSION else FIRST_VERSION


async def set_schema_version(storage: Storage, version: int) -> None:
    """Record that the stored data is now at ``version``."""
    if version < FIRST_VERSION:
        raise ValueError(f"schema versions start at {FIRST_VERSION}, not {version}")
    await storage.put_record(META, SCHEMA_RECORD, {"version": version})
