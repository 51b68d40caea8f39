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

Format reference: yjs src/utils/encoding.js (readClientsStructRefs), src/structs/Item.js
(readItemContent), lib0 decoding.js (readVarUint, readVarInt, readAny).
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass

from debrief.protocol.errors import ProtocolError

_MAX_UINT = 1 << 53  # lib0 numbers are JS-safe integers
_MAX_CLOCK = 1 << 32  # Yrs keeps clocks and lengths in u32
_UNBOUNDED = 1 << 62
# An ID (client, clock) is two varuints of at most 10 bytes; only its extent matters here.
_ID = re.compile(rb"[\x80-\xff]{0,9}[\x00-\x7f][\x80-\xff]{0,9}[\x00-\x7f]").match


class UpdateRejected(ProtocolError):
    """Why an update was refused.

    The message is shown to the client in a close reason: keep it short.
    """


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
        max_bytes=_UNBOUNDED,
        max_structs=_UNBOUNDED,
        max_clients=_UNBOUNDED,
        max_delete_ranges=_UNBOUNDED,
    )
    bad: list[tuple[int, int, int, int, int, str]] = []
    _scan(data, relaxed, bad)
    parts: list[bytes] = []
    lines: list[str] = []
    last = 0
    for start, end, client, clock, length, reason in bad:
        parts.append(data[last:start])
        parts.append(b"\x00" + _encode_uint(length))
        lines.append(f"client {client} clock {clock}..{clock + length}: {reason}")
        last = end
    parts.append(data[last:])
    return b"".join(parts), lines


def _encode_uint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _uint(data: bytes, pos: int, first: int) -> tuple[int, int]:
    """The rest of a varuint whose first byte (with the continuation bit) was read."""
    value = first & 0x7F
    shift = 7
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            break
        shift += 7
        if shift > 63:
            raise UpdateRejected("number too long")
    if value > _MAX_UINT:
        raise UpdateRejected("number out of range")
    return value, pos


def _int(data: bytes, pos: int) -> int:
    """Skip a lib0 signed varint (sign in bit 6 of the first byte); return the new position."""
    byte = data[pos]
    pos += 1
    if byte < 0x80:
        return pos
    value = byte & 0x3F
    shift = 6
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            break
        shift += 7
        if shift > 62:
            raise UpdateRejected("number too long")
    if value > _MAX_UINT:
        raise UpdateRejected("number out of range")
    return pos


def _text(
    data: bytes, pos: int, limit: int, what: str, problems: list[str] | None
) -> tuple[int, str]:
    """Read a varstring of at most ``limit`` UTF-8 bytes."""
    size = data[pos]
    pos += 1
    if size > 0x7F:
        size, pos = _uint(data, pos, size)
    end = pos + size
    if end > len(data):
        raise UpdateRejected("truncated update")
    if size > limit:
        _problem(problems, f"{what} of {size} bytes (limit {limit})")
    try:
        return end, data[pos:end].decode("utf-8")
    except UnicodeDecodeError:
        _problem(problems, f"{what} is not UTF-8")
        return end, ""


def _blob(data: bytes, pos: int, limit: int, problems: list[str] | None) -> int:
    """Skip a varUint8Array of at most ``limit`` bytes."""
    size = data[pos]
    pos += 1
    if size > 0x7F:
        size, pos = _uint(data, pos, size)
    end = pos + size
    if end > len(data):
        raise UpdateRejected("truncated update")
    if size > limit:
        _problem(problems, f"binary of {size} bytes (limit {limit})")
    return end


def _any(
    data: bytes, pos: int, count: int, limits: UpdateLimits, problems: list[str] | None
) -> int:
    """Skip ``count`` lib0 Any values without recursion; return the new position.

    ``stack`` holds, per open container, its remaining entries times two plus one when
    it is an object (each entry then starts with a key).
    """
    max_depth = limits.max_depth
    max_items = limits.max_any_items
    max_string = limits.max_string_bytes
    max_key = limits.max_key_bytes
    end = len(data)
    stack: list[int] = []
    remaining = count
    in_object = False
    entries = 0  # entries inside the current top-level value
    deepest = 0
    while True:
        if remaining == 0:
            if not stack:
                break
            top = stack.pop()
            remaining = top >> 1
            in_object = bool(top & 1)
            continue
        remaining -= 1
        if in_object:  # the entry's key; inline fast path for short ASCII
            size = data[pos]
            stop = pos + 1 + size
            if size < 0x80 and size <= max_key and stop <= end and data[pos + 1 : stop].isascii():
                pos = stop
            else:
                pos = _text(data, pos, max_key, "Any key", problems)[0]
        elif not stack:
            entries = 0
        kind = data[pos]
        pos += 1
        if kind > 119:
            if kind == 125:  # signed varint
                if data[pos] < 0x80:
                    pos += 1
                else:
                    pos = _int(data, pos)
            elif kind == 124:  # float32
                pos += 4
            elif kind == 123 or kind == 122:  # float64, bigint
                pos += 8
            elif kind > 127:
                raise UpdateRejected(f"unknown Any type {kind}")
            # else undefined, null, false, true: nothing follows
        elif kind == 119:  # string
            size = data[pos]
            stop = pos + 1 + size
            if (
                size < 0x80
                and size <= max_string
                and stop <= end
                and data[pos + 1 : stop].isascii()
            ):
                pos = stop
            else:
                pos = _text(data, pos, max_string, "Any string", problems)[0]
        elif kind == 118 or kind == 117:  # object, array
            size = data[pos]
            pos += 1
            if size > 0x7F:
                size, pos = _uint(data, pos, size)
            entries += size
            if entries > max_items:
                _problem(problems, f"Any with over {max_items} entries")
                entries = -_UNBOUNDED  # report once
            if size > end - pos:
                raise UpdateRejected("truncated update")
            if size:
                stack.append(remaining << 1 | in_object)
                remaining = size
                in_object = kind == 118
                depth = len(stack)
                if depth > deepest:
                    deepest = depth
                    if depth > max_depth and problems is None:
                        raise UpdateRejected(f"Any nested deeper than {max_depth}")
        elif kind == 116:  # Uint8Array
            pos = _blob(data, pos, max_string, problems)
        else:
            raise UpdateRejected(f"unknown Any type {kind}")
    if deepest > max_depth and problems is not None:
        problems.append(f"Any nested {deepest} deep (limit {max_depth})")
    return pos


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
    structs: dict[int, tuple[int, int]] = {}
    deletes: dict[int, list[tuple[int, int]]] = {}
    roots: set[str] = set()
    unrooted = False
    struct_count = 0
    type_items = 0
    problems: list[str] | None = None if bad is None else []
    match_id = _ID
    try:
        pos = 0
        clients = data[pos]
        pos += 1
        if clients > 0x7F:
            clients, pos = _uint(data, pos, clients)
        if clients > limits.max_clients:
            raise UpdateRejected("too many clients in update")
        if clients > end - pos:
            raise UpdateRejected("truncated update")
        for _ in range(clients):
            count = data[pos]
            pos += 1
            if count > 0x7F:
                count, pos = _uint(data, pos, count)
            client = data[pos]
            pos += 1
            if client > 0x7F:
                client, pos = _uint(data, pos, client)
            clock = data[pos]
            pos += 1
            if clock > 0x7F:
                clock, pos = _uint(data, pos, clock)
            struct_count += count
            if struct_count > limits.max_structs:
                raise UpdateRejected("too many structs in update")
            if count > end - pos:
                raise UpdateRejected("truncated update")
            first = clock
            for _ in range(count):
                start = pos
                info = data[pos]
                pos += 1
                ref = info & 0x1F
                if ref == 0 or ref == 10:  # GC or Skip: just a length
                    length = data[pos]
                    pos += 1
                    if length > 0x7F:
                        length, pos = _uint(data, pos, length)
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
                            pos, name = _text(data, pos, max_key, "root name", problems)
                            roots.add(name)
                        elif flag == 0:
                            found = match_id(data, pos)
                            if found is None:
                                raise UpdateRejected("malformed parent")
                            pos = found.end()
                            unrooted = True
                        else:
                            raise UpdateRejected("bad parent info")
                        if info & 0x20:  # map key; inline fast path for short ASCII
                            size = data[pos]
                            stop = pos + 1 + size
                            if (
                                size < 0x80
                                and size <= max_key
                                and stop <= end
                                and data[pos + 1 : stop].isascii()
                            ):
                                pos = stop
                            else:
                                pos = _text(data, pos, max_key, "map key", problems)[0]
                    else:
                        unrooted = True
                    if ref == 8:  # Any
                        length = data[pos]
                        pos += 1
                        if length > 0x7F:
                            length, pos = _uint(data, pos, length)
                        if length > limits.max_any_items:
                            _problem(problems, f"{length} Any values in one item")
                        if length > end - pos:
                            raise UpdateRejected("truncated update")
                        if length == 1 and data[pos] == 119:  # the usual map value: a string
                            pos += 1
                            size = data[pos]
                            stop = pos + 1 + size
                            if (
                                size < 0x80
                                and size <= max_string
                                and stop <= end
                                and data[pos + 1 : stop].isascii()
                            ):
                                pos = stop
                            else:
                                pos = _text(data, pos, max_string, "Any string", problems)[0]
                        else:
                            pos = _any(data, pos, length, limits, problems)
                    elif ref == 4:  # String: its clock length counts UTF-16 code units
                        pos, text = _text(data, pos, max_string, "string", problems)
                        if problems and problems[-1] == "string is not UTF-8":
                            raise UpdateRejected("string is not UTF-8")  # its length is unknown
                        length = len(text)
                        if not text.isascii():
                            length = len(text.encode("utf-16-le")) >> 1
                    elif ref == 1:  # Deleted
                        length = data[pos]
                        pos += 1
                        if length > 0x7F:
                            length, pos = _uint(data, pos, length)
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
                            pos = _text(data, pos, max_key, "XML name", problems)[0]
                        length = 1
                        type_items += 1
                    elif ref == 2:  # JSON: n strings
                        # Legacy content no Yjs 13 client writes; Yrs reads n + 1 strings
                        # where Yjs reads n, so the two would disagree on what follows.
                        _problem(problems, "legacy JSON content is not supported")
                        length = data[pos]
                        pos += 1
                        if length > 0x7F:
                            length, pos = _uint(data, pos, length)
                        if length > limits.max_any_items:
                            _problem(problems, f"{length} JSON values in one item")
                        if length > end - pos:
                            raise UpdateRejected("truncated update")
                        for _ in range(length):
                            pos = _json(data, pos, limits, problems)
                    elif ref == 3:  # Binary
                        pos = _blob(data, pos, max_string, problems)
                        length = 1
                    elif ref == 5:  # Embed
                        pos = _json(data, pos, limits, problems)
                        length = 1
                    elif ref == 6:  # Format
                        pos = _text(data, pos, max_key, "format key", problems)[0]
                        pos = _json(data, pos, limits, problems)
                        length = 1
                    elif ref == 9:  # Doc: guid, then options as Any
                        _problem(problems, "subdocuments are not supported")
                        pos = _text(data, pos, max_string, "subdocument id", problems)[0]
                        pos = _any(data, pos, 1, limits, problems)
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
    clients = data[pos]
    pos += 1
    if clients > 0x7F:
        clients, pos = _uint(data, pos, clients)
    if clients > max_clients:
        raise UpdateRejected("too many clients in update")
    if clients > end - pos:
        raise UpdateRejected("truncated update")
    total = 0
    for _ in range(clients):
        client = data[pos]
        pos += 1
        if client > 0x7F:
            client, pos = _uint(data, pos, client)
        count = data[pos]
        pos += 1
        if count > 0x7F:
            count, pos = _uint(data, pos, count)
        total += count
        if total > limits.max_delete_ranges:
            raise UpdateRejected("too many deletions in update")
        if count > end - pos:
            raise UpdateRejected("truncated update")
        if count:
            ranges = deletes.setdefault(client, [])
        for _ in range(count):
            clock = data[pos]
            pos += 1
            if clock > 0x7F:
                clock, pos = _uint(data, pos, clock)
            length = data[pos]
            pos += 1
            if length > 0x7F:
                length, pos = _uint(data, pos, length)
            if clock + length > _MAX_CLOCK:
                raise UpdateRejected("clock out of range")
            ranges.append((clock, clock + length))
    return pos


def _problem(problems: list[str] | None, message: str) -> None:
    if problems is None:
        raise UpdateRejected(message)
    problems.append(message)


def _json(data: bytes, pos: int, limits: UpdateLimits, problems: list[str] | None) -> int:
    """Skip a JSON-encoded varstring: bounded length and nesting, and valid JSON.

    Embed and format values are parsed by Yrs and by every Yjs client, and either
    refuses the whole update when one does not parse. Rare, so off the hot path.
    """
    pos, text = _text(data, pos, limits.max_string_bytes, "JSON", problems)
    if text.count("[") + text.count("{") > limits.max_depth:
        depth = _json_depth(text)
        if depth > limits.max_depth:
            _problem(problems, f"JSON nested {depth} deep (limit {limits.max_depth})")
            return pos
    try:
        json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        _problem(problems, "JSON content does not parse")
    return pos


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")  # Python accepts NaN and Infinity; Yrs does not


def _json_depth(text: str) -> int:
    """Deepest bracket nesting outside string literals (text need not be valid JSON)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "[" or char == "{":
            depth += 1
            deepest = max(deepest, depth)
        elif char == "]" or char == "}":
            depth -= 1
    return deepest
