"""Whole-server backup and restore (`debrief backup` / `debrief restore`).

SQLite: SQLite's online backup API copies the live database in one step, inside one
read transaction, so the copy is the database as of one instant even while the server
writes (WAL: the server's writers are not held up by the reader). The copy is a plain
SQLite file (rollback journal, no -wal beside it) with one extra table,
``debrief_backup``, naming the format and carrying the data directory's signing key, so
sessions survive a restore.

Redis: every key under the prefix is DUMPed by one Lua script: Redis runs a script
atomically, so the set of keys and their values are one consistent snapshot (a
MULTI/EXEC of DUMPs after a SCAN could miss keys created between the two). The file is
JSON lines: a header, then one line per key with its name (relative to the prefix, so
a restore may use another prefix), its remaining time to live and its DUMP payload in
base64. The script blocks Redis while it runs; for large data Redis's own persistence
(BGSAVE and a copy of the RDB file) is the better tool, see deploy/README.md.

Restore refuses to write under a running server and, without ``force``, over data.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from debrief.storage.sqlite import hold_lock

FORMAT = 1
DB_NAME = "debrief.sqlite3"  # as app.make_storage names it
SECRET_NAME = "secret.key"  # as Settings.resolve_secret names it
INFO_TABLE = "debrief_backup"
# Process state, not data: a lock or a heartbeat restored would describe a process
# that is not running.
REDIS_SKIPPED = ("lock:", "node:")
RESTORE_BATCH = 200  # keys per pipelined round trip

# Runs atomically: SCAN inside the script sees the keyspace of one instant. SCAN may
# repeat a key; ``seen`` keeps each once.
DUMP_ALL = """
local out = {}
local seen = {}
local cursor = '0'
local skipped = {}
for i = 2, #ARGV do skipped[#skipped + 1] = ARGV[i] end
repeat
  local page = redis.call('SCAN', cursor, 'MATCH', ARGV[1], 'COUNT', 1000)
  cursor = page[1]
  for _, key in ipairs(page[2]) do
    local keep = not seen[key]
    for _, prefix in ipairs(skipped) do
      if string.sub(key, 1, #prefix) == prefix then keep = false end
    end
    if keep then
      seen[key] = true
      out[#out + 1] = key
      out[#out + 1] = redis.call('PTTL', key)
      out[#out + 1] = redis.call('DUMP', key)
    end
  end
until cursor == '0'
return out
"""


class BackupError(Exception):
    """Something the operator must know or fix; the message says what."""


@dataclass
class Summary:
    """What a backup or restore handled, for the command's last line."""

    what: str  # "record" / "key"
    count: int
    reviews: int
    size: int

    def __str__(self) -> str:
        reviews, items = _count(self.reviews, "review"), _count(self.count, self.what)
        return f"{reviews}, {items}, {self.size:,} bytes"


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" if n == 1 else f"{n} {thing}s"


# --- SQLite ------------------------------------------------------------------------------


def backup_sqlite(data_dir: Path, out: Path) -> Summary:
    """Copy the database of ``data_dir`` to ``out`` (replaced atomically if it exists)."""
    db_path = data_dir / DB_NAME
    if not db_path.is_file():
        raise BackupError(f"there is no Debrief database at {db_path}")
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(db_path, timeout=30)
    try:
        target = sqlite3.connect(partial, isolation_level=None)
        try:
            # One step (pages=-1): one read transaction, one instant of the database.
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")  # one file, nothing beside it
            info = {"format": str(FORMAT), "created_ms": str(int(time.time() * 1000))}
            secret = data_dir / SECRET_NAME
            if secret.is_file():
                info["secret"] = secret.read_text().strip()
            target.execute(f"CREATE TABLE {INFO_TABLE} (key TEXT PRIMARY KEY, value TEXT)")
            target.executemany(f"INSERT INTO {INFO_TABLE} VALUES (?, ?)", info.items())
            _check_integrity(target, out)
            summary = _sqlite_summary(target, partial)
        finally:
            target.close()
    finally:
        source.close()
    partial.chmod(0o600)  # it holds every review and the signing key
    _fsync(partial)
    os.replace(partial, out)
    _fsync(out.parent)
    summary.size = out.stat().st_size
    return summary


def restore_sqlite(source_path: Path, data_dir: Path, *, force: bool) -> Summary:
    """Write the backup ``source_path`` into ``data_dir`` (the server must be stopped)."""
    source = _open_sqlite_backup(source_path)
    try:
        info = dict(source.execute(f"SELECT key, value FROM {INFO_TABLE}").fetchall())
        data_dir.mkdir(parents=True, exist_ok=True)
        db_path = data_dir / DB_NAME
        held = hold_lock(db_path, exclusive=True)
        if held is None:
            raise BackupError(f"a Debrief server is using {data_dir}: stop it, then restore")
        try:
            present = [p.name for p in (db_path, data_dir / SECRET_NAME) if p.exists()]
            if present and not force:
                raise BackupError(
                    f"{data_dir} already holds data ({', '.join(present)}); "
                    "add --force to replace it"
                )
            target = sqlite3.connect(db_path, isolation_level=None)
            try:
                # Through SQLite (not a file copy): a WAL left by the old database
                # cannot be replayed over the new one.
                source.backup(target)
                target.execute(f"DROP TABLE {INFO_TABLE}")
                target.execute("PRAGMA journal_mode=WAL")
                _check_integrity(target, db_path)
                summary = _sqlite_summary(target, source_path)
                target.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            finally:
                target.close()
            if "secret" in info:
                _write_secret(data_dir / SECRET_NAME, info["secret"])
        finally:
            os.close(held)
    finally:
        source.close()
    return summary


def _open_sqlite_backup(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise BackupError(f"there is no file {path}")
    with path.open("rb") as file:
        head = file.read(16)
    if head.startswith(b"{"):
        raise BackupError(f"{path} is a Redis backup: restore it with --redis")
    if head != b"SQLite format 3\x00":
        raise BackupError(f"{path} is not a Debrief backup")
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = source.execute(f"SELECT key, value FROM {INFO_TABLE}").fetchall()
    except sqlite3.Error:
        source.close()
        raise BackupError(f"{path} is an SQLite file but not a Debrief backup") from None
    found = dict(rows).get("format")
    if found != str(FORMAT):
        source.close()
        raise BackupError(f"{path} has backup format {found}; this version reads {FORMAT}")
    return source


def _check_integrity(db: sqlite3.Connection, name: Path) -> None:
    (verdict,) = db.execute("PRAGMA quick_check").fetchone()
    if verdict != "ok":
        raise BackupError(f"{name} failed SQLite's integrity check: {verdict}")


def _sqlite_summary(db: sqlite3.Connection, path: Path) -> Summary:
    (records,) = db.execute("SELECT COUNT(*) FROM records").fetchone()
    (reviews,) = db.execute("SELECT COUNT(*) FROM records WHERE kind = 'review'").fetchone()
    return Summary("record", int(records), int(reviews), path.stat().st_size)


def _write_secret(path: Path, secret: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(secret)
    partial.chmod(0o600)
    os.replace(partial, path)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- Redis -------------------------------------------------------------------------------


def _redis(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=300)


def _glob(value: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in value)


def _name(raw: bytes) -> str:
    """A key name as JSON text (names are UTF-8 in practice; other bytes survive too)."""
    return raw.decode("utf-8", "surrogateescape")


def backup_redis(url: str, prefix: str, out: Path) -> Summary:
    """Write every key under ``prefix`` (but locks and heartbeats) to ``out``."""
    client = _redis(url)
    try:
        version = str(client.info("server").get("redis_version", ""))
        skipped = [prefix + family for family in REDIS_SKIPPED]
        flat = client.eval(DUMP_ALL, 0, _glob(prefix) + "*", *skipped)
    except Exception as exc:  # redis-py errors and OSError alike: say what and where
        raise BackupError(f"cannot read Redis at {url}: {exc}") from exc
    finally:
        client.close()
    count = len(flat) // 3
    partial = out.with_name(out.name + ".partial")
    reviews = 0
    with _private_file(partial) as file:
        header = {
            "debrief_backup": FORMAT,
            "backend": "redis",
            "prefix": prefix,
            "keys": count,
            "redis_version": version,
            "created_ms": int(time.time() * 1000),
        }
        file.write(json.dumps(header) + "\n")
        for i in range(0, len(flat), 3):
            name = _name(flat[i])[len(prefix) :]
            reviews += name.startswith("rec:review:")
            line = {"k": name, "ttl": int(flat[i + 1]), "v": base64.b64encode(flat[i + 2]).decode()}
            file.write(json.dumps(line) + "\n")
        file.flush()
        os.fsync(file.fileno())
    os.replace(partial, out)
    _fsync(out.parent)
    return Summary("key", count, reviews, out.stat().st_size)


def restore_redis(source_path: Path, url: str, prefix: str, *, force: bool) -> Summary:
    """Write every key of the backup under ``prefix`` (no server may be running on it)."""
    header, lines = _read_redis_backup(source_path)
    client = _redis(url)
    try:
        alive = next(iter(client.scan_iter(match=_glob(prefix + "node:") + "*:alive")), None)
        if alive is not None:
            raise BackupError(
                f"a Debrief server is running on Redis prefix {prefix!r} ({_name(alive)}): "
                "stop every server on it, then restore"
            )
        existing = client.scan_iter(match=_glob(prefix) + "*", count=1000)
        if next(iter(existing), None) is not None:
            if not force:
                raise BackupError(
                    f"Redis already holds keys under {prefix!r}; add --force to replace them"
                )
            _drop_prefix(client, prefix)
        count = reviews = 0
        pipe = client.pipeline(transaction=False)
        for line in lines:
            entry = json.loads(line)
            ttl = int(entry["ttl"])
            if ttl == -2:  # gone as it was read
                continue
            name = entry["k"]
            reviews += name.startswith("rec:review:")
            key = (prefix + name).encode("utf-8", "surrogateescape")
            pipe.restore(key, max(ttl, 0), base64.b64decode(entry["v"]))
            count += 1
            if len(pipe) >= RESTORE_BATCH:
                pipe.execute()
        pipe.execute()
    except BackupError:
        raise
    except Exception as exc:
        raise BackupError(f"cannot restore into Redis at {url}: {exc}") from exc
    finally:
        client.close()
    if count != header["keys"]:
        raise BackupError(f"{source_path} is cut short: {count} of {header['keys']} keys")
    return Summary("key", count, reviews, source_path.stat().st_size)


def _read_redis_backup(path: Path) -> tuple[dict[str, Any], Iterator[str]]:
    if not path.is_file():
        raise BackupError(f"there is no file {path}")
    with path.open("rb") as file:
        if file.read(16) == b"SQLite format 3\x00":
            raise BackupError(f"{path} is an SQLite backup: restore it with --data")
    file_text = path.open(encoding="utf-8")
    try:
        header = json.loads(file_text.readline())
    except ValueError:
        file_text.close()
        raise BackupError(f"{path} is not a Debrief backup") from None
    if not isinstance(header, dict) or header.get("backend") != "redis":
        file_text.close()
        raise BackupError(f"{path} is not a Debrief Redis backup")
    if header.get("debrief_backup") != FORMAT:
        file_text.close()
        found = header.get("debrief_backup")
        raise BackupError(f"{path} has backup format {found}; this version reads {FORMAT}")

    def lines() -> Iterator[str]:
        with file_text:
            yield from (line for line in file_text if line.strip())

    return header, lines()


def _drop_prefix(client: Any, prefix: str) -> None:
    batch: list[bytes] = []
    for name in client.scan_iter(match=_glob(prefix) + "*", count=1000):
        batch.append(name)
        if len(batch) >= 500:
            client.unlink(*batch)
            batch = []
    if batch:
        client.unlink(*batch)


@contextlib.contextmanager
def _private_file(path: Path) -> Iterator[TextIO]:
    """``path`` opened for writing, readable by its owner only (it holds every review)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        yield file
