"""Bound a Yjs v1 update before any library decodes it.

Yrs decodes `Any` values and several counts recursively or trustingly: one update
holding an array nested 100,000 deep overflows its stack and ends the process. This
scanner walks the lib0 encoding once, in a flat loop with an explicit stack, checks
every count, length, string and nesting depth against `UpdateLimits`, and only then
lets the bytes go on. It also reports what the update touches (client clock ranges,
delete set, root names) so the room can bind client ids and decide on schema checks.

Where Yjs and Yrs read the same bytes differently, a scanner following one of them
could be walked around (bytes it takes for a string, Yrs takes for structs), so those
constructs are refused: legacy JSON content (ref 2) and XmlHook types. So are subdocs
(ref 9, unused here), clocks past Yrs' u32 range and invalid UTF-8 (Yrs does not check).

The value readers (numbers, strings, Any, JSON) are in scan_values.py.

Format reference: yjs src/utils/encoding.js (readClientsStructRefs), src/structs/Item.js
(readItemContent), lib0 decoding.js (readVarUint, readVarInt, readAny).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from pycrdt import write_var_uint

from debrief.protocol.scan_values import (
    UNBOUNDED,
    UpdateRejected,
    problem,
    read_text,
    skip_any,
    skip_blob,
    skip_json,
    skip_text,
    uint_rest,
    varuint,
)

__all__ = [
    "DEFAULT_LIMITS",
    "STORED_LIMITS",
    "UpdateLimits",
    "UpdateRejected",
    "UpdateSummary",
    "repair_update",
    "scan_update",
]

_MAX_CLOCK = 1 << 32  # Yrs keeps clocks and lengths in u32
# An ID (client, clock) is two varuints of at most 10 bytes; only its extent matters here.
_ID = re.compile(rb"[\x80-\xff]{0,9}[\x00-\x7f][\x80-\xff]{0,9}[\x00-\x7f]").match


@dataclass(frozen=True, slots=True)
class UpdateLimits:
    """Counting bounds (bytes, structs, clients, delete ranges) and content bounds (the rest).

    Depth counts nested Any arrays/objects (and brackets of embed/format JSON); string
    bounds are UTF-8 bytes; `max_any_items` bounds entries inside one Any value and the
    number of values one item carries.
    """

    max_bytes: int = 1024 * 1024
    max_depth: int = 32
    max_structs: int = 20_000
    max_clients: int = 1_000
    max_delete_ranges: int = 100_000
    max_string_bytes: int = 64 * 1024
    max_key_bytes: int = 256
    max_any_items: int = 10_000


DEFAULT_LIMITS = UpdateLimits()
# A stored doc (snapshot after compaction) holds every client's history: the counts grow,
# and so do strings, since Yrs squashes one client's consecutive typing into one item
# (a scribe's 70 KB of notes is a single 70 KB string). Depth and key bounds stay.
STORED_LIMITS = UpdateLimits(
    max_bytes=1 << 31,
    max_structs=10**8,
    max_clients=10**6,
    max_delete_ranges=10**8,
    max_string_bytes=1 << 26,
)


@dataclass(slots=True)
class UpdateSummary:
    """What an accepted update touches.

    structs: client -> (first clock, end clock exclusive) over its GC, skip and item
    structs (clients with an empty section are left out); deletes: its delete set as
    written (client -> [(start, end exclusive)], not merged); roots: root names items
    give as their parent; unrooted: some item's parent is a nested type or inferred
    from its origins; type_items: items creating a shared type.
    """

    structs: dict[int, tuple[int, int]]
    deletes: dict[int, list[tuple[int, int]]]
    roots: set[str]
    unrooted: bool
    struct_count: int
    type_items: int


def scan_update(update: bytes, limits: UpdateLimits = DEFAULT_LIMITS) -> UpdateSummary:
    """Check every bound of ``update``; raise UpdateRejected on the first one broken."""
    return _scan(bytes(update), limits, None)


def repair_update(update: bytes, limits: UpdateLimits) -> tuple[bytes, list[str]]:
    """Replace each item whose content breaks a content limit by a GC struct.

    The GC keeps the item's client and clock range, so everything else in the update
    (and every later update referring to those clocks) still fits. Counting limits
    do not apply: a big stored doc is not damaged, only an item with bad content is.
    """
    data = bytes(update)
    relaxed = dataclasses.replace(
        limits,
        max_bytes=UNBOUNDED,
        max_structs=UNBOUNDED,
        max_clients=UNBOUNDED,
        max_delete_ranges=UNBOUNDED,
    )
    bad: list[tuple[int, int, int, int, int, str]] = []
    _scan(data, relaxed, bad)
    parts: list[bytes] = []
    lines: list[str] = []
    last = 0
    for start, end, client, clock, length, reason in bad:
        parts.append(data[last:start])
        parts.append(b"\x00" + write_var_uint(length))
        lines.append(f"client {client} clock {clock}..{clock + length}: {reason}")
        last = end
    parts.append(data[last:])
    return b"".join(parts), lines


def _scan(
    data: bytes,
    limits: UpdateLimits,
    bad: list[tuple[int, int, int, int, int, str]] | None,
) -> UpdateSummary:
    """Walk the whole update; with ``bad`` given, record bad items instead of raising."""
    end = len(data)
    if end > limits.max_bytes:
        raise UpdateRejected(f"update larger than {limits.max_bytes} bytes")
    max_string = limits.max_string_bytes
    max_key = limits.max_key_bytes
    max_items = limits.max_any_items
    structs: dict[int, tuple[int, int]] = {}
    deletes: dict[int, list[tuple[int, int]]] = {}
    roots: set[str] = set()
    unrooted = False
    struct_count = 0
    type_items = 0
    problems: list[str] | None = None if bad is None else []
    match_id = _ID
    try:
        clients, pos = varuint(data, 0)
        _bound(clients, clients, limits.max_clients, "too many clients in update", end - pos)
        for _ in range(clients):
            count, pos = varuint(data, pos)
            client, pos = varuint(data, pos)
            clock, pos = varuint(data, pos)
            struct_count += count
            _bound(count, struct_count, limits.max_structs, "too many structs in update", end - pos)
            first = clock
            for _ in range(count):
                start = pos
                info = data[pos]
                pos += 1
                ref = info & 0x1F
                if ref == 0 or ref == 10:  # GC or Skip: just a length
                    length = data[pos]  # varuints inline where they are most frequent
                    pos += 1
                    if length > 0x7F:
                        length, pos = uint_rest(data, pos, length)
                else:
                    if info & 0x80:  # origin ID
                        found = match_id(data, pos)
                        if found is None:
                            raise UpdateRejected("malformed origin")
                        pos = found.end()
                    if info & 0x40:  # right origin ID
                        found = match_id(data, pos)
                        if found is None:
                            raise UpdateRejected("malformed origin")
                        pos = found.end()
                    if info & 0xC0 == 0:  # no origin: the parent is written out
                        flag = data[pos]
                        pos += 1
                        if flag == 1:
                            pos, name = read_text(data, pos, max_key, "root name", problems)
                            roots.add(name)
                        elif flag == 0:
                            found = match_id(data, pos)
                            if found is None:
                                raise UpdateRejected("malformed parent")
                            pos = found.end()
                            unrooted = True
                        else:
                            raise UpdateRejected("bad parent info")
                        if info & 0x20:  # map key
                            pos = skip_text(data, pos, max_key, "map key", problems)
                    else:
                        unrooted = True
                    if ref == 8:  # Any
                        if data[pos] == 1 and data[pos + 1] == 119 and max_items:
                            # one string, the usual map value: no Any walk
                            pos = skip_text(data, pos + 2, max_string, "Any string", problems)
                            length = 1
                        else:
                            length, pos = _values(data, pos, max_items, "Any", problems)
                            pos = skip_any(data, pos, length, limits, problems)
                    elif ref == 4:  # String: its clock length counts UTF-16 code units
                        pos, text = read_text(data, pos, max_string, "string", problems)
                        if problems and problems[-1] == "string is not UTF-8":
                            raise UpdateRejected("string is not UTF-8")  # its length is unknown
                        length = len(text)
                        if not text.isascii():
                            length = len(text.encode("utf-16-le")) >> 1
                    elif ref == 1:  # Deleted
                        length = data[pos]
                        pos += 1
                        if length > 0x7F:
                            length, pos = uint_rest(data, pos, length)
                    elif ref == 7:  # Type
                        type_ref = data[pos]
                        pos += 1
                        if type_ref > 6:
                            raise UpdateRejected(f"unknown shared type {type_ref}")
                        if type_ref == 5:
                            # Yjs writes a name after an XmlHook, Yrs reads none: the two
                            # would parse everything after it differently.
                            raise UpdateRejected("XML hooks are not supported")
                        if type_ref == 3:  # XmlElement: its tag name
                            pos = read_text(data, pos, max_key, "XML name", problems)[0]
                        length = 1
                        type_items += 1
                    elif ref == 2:  # JSON: n strings
                        # Legacy content no Yjs 13 client writes; Yrs reads n + 1 strings
                        # where Yjs reads n, so the two would disagree on what follows.
                        problem(problems, "legacy JSON content is not supported")
                        length, pos = _values(data, pos, max_items, "JSON", problems)
                        for _ in range(length):
                            pos = skip_json(data, pos, limits, problems)
                    elif ref == 3:  # Binary
                        pos = skip_blob(data, pos, max_string, problems)
                        length = 1
                    elif ref == 5:  # Embed
                        pos = skip_json(data, pos, limits, problems)
                        length = 1
                    elif ref == 6:  # Format
                        pos = read_text(data, pos, max_key, "format key", problems)[0]
                        pos = skip_json(data, pos, limits, problems)
                        length = 1
                    elif ref == 9:  # Doc: guid, then options as Any
                        problem(problems, "subdocuments are not supported")
                        pos = read_text(data, pos, max_string, "subdocument id", problems)[0]
                        pos = skip_any(data, pos, 1, limits, problems)
                        length = 1
                    else:
                        raise UpdateRejected(f"unknown content type {ref}")
                    if problems:
                        assert bad is not None
                        bad.append((start, pos, client, clock, length, "; ".join(problems)))
                        problems.clear()
                clock += length
                if clock > _MAX_CLOCK:
                    raise UpdateRejected("clock out of range")
            if count:
                known = structs.get(client)
                structs[client] = (
                    (first, clock)
                    if known is None
                    else (min(known[0], first), max(known[1], clock))
                )
        pos = _delete_set(data, pos, limits.max_clients - clients, limits, deletes)
    except IndexError:
        raise UpdateRejected("truncated update") from None
    if pos != end:
        raise UpdateRejected("truncated update" if pos > end else "trailing bytes after update")
    return UpdateSummary(structs, deletes, roots, unrooted, struct_count, type_items)


def _delete_set(
    data: bytes,
    pos: int,
    max_clients: int,
    limits: UpdateLimits,
    deletes: dict[int, list[tuple[int, int]]],
) -> int:
    """Read the delete set into ``deletes``; return the new position."""
    end = len(data)
    clients, pos = varuint(data, pos)
    _bound(clients, clients, max_clients, "too many clients in update", end - pos)
    total = 0
    for _ in range(clients):
        client, pos = varuint(data, pos)
        count, pos = varuint(data, pos)
        total += count
        _bound(count, total, limits.max_delete_ranges, "too many deletions in update", end - pos)
        if count:
            ranges = deletes.setdefault(client, [])
        for _ in range(count):
            clock, pos = varuint(data, pos)
            length, pos = varuint(data, pos)
            if clock + length > _MAX_CLOCK:
                raise UpdateRejected("clock out of range")
            ranges.append((clock, clock + length))
    return pos


def _bound(count: int, total: int, limit: int, refusal: str, left: int) -> None:
    """Refuse a running ``total`` over ``limit``, or a ``count`` of things (each at least
    one byte) that cannot fit in the ``left`` bytes."""
    if total > limit:
        raise UpdateRejected(refusal)
    if count > left:
        raise UpdateRejected("truncated update")


def _values(
    data: bytes, pos: int, limit: int, what: str, problems: list[str] | None
) -> tuple[int, int]:
    """The number of values an item carries (Any or JSON), at most ``limit``."""
    length, pos = varuint(data, pos)
    if length > limit:
        problem(problems, f"{length} {what} values in one item")
    if length > len(data) - pos:
        raise UpdateRejected("truncated update")
    return length, pos
