"""No statement the SQLite backend runs walks a whole table.

One table holds every review's rows (records, votes, doc updates, indexes), so a
statement that scans it costs more with every review ever held, on the one writer
thread every write waits for. The storage contract suite runs in a child pytest with
every statement traced; each is then explained against a real store's schema.
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from debrief.storage.sqlite import SQLiteStorage

HERE = Path(__file__).parent
ROOT = HERE.parent.parent

# Scans that stay small however many reviews there are, each with why.
SMALL = {
    "SELECT ? FROM health LIMIT ?": "the health table holds one row",
    "SELECT ? FROM index_sizes LIMIT ?": "stops at the first row; once, when the store opens",
    "INSERT INTO index_sizes (idx, n) SELECT idx, COUNT(*) FROM index_entries GROUP BY idx": (
        "once, when a data directory of an older release gains the table"
    ),
}


def shape(statement: str) -> str:
    """The statement with its values (strings, blobs, numbers) replaced by ``?``: the
    trace fills values in, and an infinite float comes out as ``Inf``."""
    statement = re.sub(r"[xX]'[0-9A-Fa-f]*'", "?", statement)
    statement = re.sub(r"'(?:[^']|'')*'", "?", statement)
    statement = re.sub(r"\b(?:\d+(?:\.\d+)?(?:e[+-]?\d+)?|Inf|NaN)\b", "?", statement)
    return statement


def scans(db: sqlite3.Connection, form: str) -> list[str]:
    """The steps of the plan of ``form`` (a statement's shape) that read a whole table or
    index. SQLite plans a statement before it sees its values, so NULLs stand in."""
    plan = db.execute("EXPLAIN QUERY PLAN " + form, [None] * form.count("?")).fetchall()
    return [
        step[3]
        for step in plan
        if step[3].startswith("SCAN ") and not step[3].endswith("CONSTANT ROWS")
    ]


def traced_contract_statements(tmp_path: Path) -> list[str]:
    out = tmp_path / "statements.txt"
    env = {
        **os.environ,
        "DEBRIEF_SQL_TRACE": str(out),
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
    }
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "sql_trace", "-p", "no:cacheprovider",
         "-k", "sqlite", str(HERE / "test_contract.py")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return out.read_text().splitlines()


async def created(path: Path) -> None:
    """A store's file, with every table and index the store makes on opening."""
    store = SQLiteStorage(path)
    await store.open()
    await store.close()


def test_no_statement_scans_a_whole_table(tmp_path: Path) -> None:
    statements = traced_contract_statements(tmp_path)
    forms = {shape(s) for s in statements}
    # the contract's statements of every part of the store were seen
    for part in ("doc_updates", "records", "votes", "index_entries"):
        assert any(part in form for form in forms), part

    path = tmp_path / "schema.sqlite3"
    asyncio.run(created(path))
    db = sqlite3.connect(path)
    walking = {}
    for form in sorted(forms):
        if form in SMALL or not re.match(r"\s*(SELECT|INSERT|UPDATE|DELETE|WITH)", form, re.I):
            continue
        found = scans(db, form)
        if found:
            walking[form] = found
    db.close()
    assert not walking, walking
