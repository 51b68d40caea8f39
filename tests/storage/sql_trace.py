"""A pytest plugin for a child pytest: every SQL statement the SQLite backend runs.

Each connection the store opens traces its statements (values filled in); at exit they
are written, one per line, to the file named by ``DEBRIEF_SQL_TRACE``.
"""

from __future__ import annotations

import atexit
import os
import sqlite3
from pathlib import Path

import debrief.storage.sqlite as sqlite_backend

_statements: set[str] = set()
_connect = sqlite_backend._connect


def _traced_connect(path: Path) -> sqlite3.Connection:
    db = _connect(path)
    db.set_trace_callback(_statements.add)
    return db


sqlite_backend._connect = _traced_connect  # the store opens every connection through it


@atexit.register
def _write() -> None:
    out = Path(os.environ["DEBRIEF_SQL_TRACE"])
    out.write_text("\n".join(s.replace("\n", " ") for s in sorted(_statements)))
