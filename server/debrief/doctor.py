"""`debrief doctor REVIEW`: inspect a review's stored docs and repair the ones that cannot load.

A doc fails to load when its stored log holds something the server now refuses to
decode (written by an older version, or damaged on disk): the room then fails alone
and the rest of the server carries on. This command looks at each stored piece (the
snapshot and every update after it) with the same bounded scanner the server uses,
and with `--repair` writes a new snapshot in which every offending item is replaced
by a tombstone of the same length (so every other item keeps its place) and pieces
that cannot be decoded at all are left out. It prints everything it drops.
Run it against the same data directory or Redis as the server; the server reloads a
failed doc on the next request.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass, field

from pycrdt import Doc

from debrief.auth.roles import DocName, doc_key
from debrief.protocol.errors import ProtocolError
from debrief.protocol.messages import EMPTY_UPDATE
from debrief.protocol.scan import STORED_LIMITS, repair_update, scan_update
from debrief.storage.base import Storage


@dataclass
class DocReport:
    key: str
    pieces: int = 0
    problems: list[str] = field(default_factory=list)
    repaired: bool = False

    @property
    def healthy(self) -> bool:
        return not self.problems


def _rebuild(pieces: list[tuple[str, bytes]], report: DocReport) -> bytes:
    """A snapshot of everything that can be kept, noting in ``report`` what cannot."""
    doc: Doc = Doc()
    for name, piece in pieces:
        try:
            repaired, dropped = repair_update(piece, STORED_LIMITS)
        except ProtocolError as exc:
            report.problems.append(f"{name}: cannot be decoded ({exc}); left out whole")
            continue
        report.problems += [f"{name}: {line}; replaced by a tombstone" for line in dropped]
        try:
            doc.apply_update(repaired)
        except Exception as exc:  # pycrdt raises plain exceptions
            report.problems.append(f"{name}: refused by the CRDT library ({exc}); left out whole")
    return doc.get_update()


def _check(pieces: list[tuple[str, bytes]], report: DocReport) -> None:
    doc: Doc = Doc()
    for name, piece in pieces:
        try:
            scan_update(piece, STORED_LIMITS)
            doc.apply_update(piece)
        except Exception as exc:
            report.problems.append(f"{name}: {exc}")


async def examine(storage: Storage, review_id: str, *, repair: bool) -> list[DocReport]:
    reports = []
    for name in DocName:
        key = doc_key(review_id, name)
        stored = await storage.load_doc(key)
        pieces = [("snapshot", stored.snapshot)] if stored.snapshot else []
        pieces += [(f"update {i + 1}", update) for i, update in enumerate(stored.updates)]
        report = DocReport(key, len(pieces))
        _check(pieces, report)
        if repair and not report.healthy:
            report.problems.clear()
            snapshot = _rebuild(pieces, report)
            # compaction replaces everything up to a position: with nothing logged after
            # a bad snapshot, log a no-op first so that there is a position past it
            position = stored.position
            if not stored.updates:
                position = await storage.append_update(key, EMPTY_UPDATE)
            report.repaired = await storage.compact(key, snapshot, position)
        reports.append(report)
    return reports


def print_reports(reports: list[DocReport], *, repair: bool) -> None:
    for report in reports:
        if report.repaired:
            print(f"{report.key}: repaired ({report.pieces} stored pieces); dropped:")
        elif report.healthy:
            print(f"{report.key}: ok ({report.pieces} stored pieces)")
        else:
            hint = "" if repair else " (run again with --repair to fix)"
            print(f"{report.key}: cannot load{hint}:")
        for line in report.problems:
            print(f"  - {line}")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    doctor = commands.add_parser("doctor", help="inspect and repair a review's stored docs")
    doctor.add_argument("review", help="the review id (r_...)")
    doctor.add_argument("--data", default=None, help="data directory (SQLite file)")
    doctor.add_argument("--redis", default=None, help="redis://host:6379/0 in scale-out mode")
    doctor.add_argument("--repair", action="store_true", help="rewrite docs that cannot load")


def run(args: argparse.Namespace) -> int:
    """Exit status: 0 when every doc loads (after repairing, with --repair), else 1."""
    from pathlib import Path

    from debrief.app import make_storage
    from debrief.settings import Settings

    settings = Settings()
    if args.data is not None:
        settings.data_dir = Path(args.data)
    if args.redis:
        settings.redis_url = args.redis

    async def go() -> list[DocReport]:
        storage = make_storage(settings)
        await storage.open()
        try:
            return await examine(storage, args.review, repair=args.repair)
        finally:
            await storage.close()

    reports = asyncio.run(go())
    print_reports(reports, repair=args.repair)
    return 0 if all(r.healthy or r.repaired for r in reports) else 1
