"""The value readers of the Yjs update scanner (scan.py): lib0 numbers, strings, binaries,
Any values and JSON strings, each bounded and without recursion.

Every reader takes the bytes and a position and returns the position after what it read.
With ``problems`` None a broken content limit raises UpdateRejected; with a list, it is
recorded there and reading goes on (how repair finds every bad item). Malformed bytes
always raise: nothing after them can be read.

Format reference: lib0 decoding.js (readVarUint, readVarInt, readVarString, readAny).
"""

from __future__ import annotations

import json
from typing import Protocol

from debrief.bounded_json import depth_of
from debrief.protocol.errors import ProtocolError

MAX_UINT = 1 << 53  # lib0 numbers are JS-safe integers
UNBOUNDED = 1 << 62


class UpdateRejected(ProtocolError):
    """Why an update was refused.

    The message is shown to the client in a close reason: keep it short.
    """


class ValueLimits(Protocol):
    """The content bounds the readers apply (scan.UpdateLimits has them)."""

    @property
    def max_depth(self) -> int: ...
    @property
    def max_string_bytes(self) -> int: ...
    @property
    def max_key_bytes(self) -> int: ...
    @property
    def max_any_items(self) -> int: ...


def problem(problems: list[str] | None, message: str) -> None:
    """Refuse now, or record ``message`` when the caller collects problems."""
    if problems is None:
        raise UpdateRejected(message)
    problems.append(message)


def _varint_rest(
    data: bytes, pos: int, value: int, shift: int, last_shift: int
) -> tuple[int, int]:
    """Read on past a varint's first byte, which gave ``value`` (its low ``shift`` bits):
    7 more bits a byte, low ones first, until a byte without the continuation bit."""
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            break
        shift += 7
        if shift > last_shift:
            raise UpdateRejected("number too long")
    if value > MAX_UINT:
        raise UpdateRejected("number out of range")
    return value, pos


def uint_rest(data: bytes, pos: int, first: int) -> tuple[int, int]:
    """The rest of a varuint whose first byte (with the continuation bit) was read."""
    return _varint_rest(data, pos, first & 0x7F, 7, 63)


def varuint(data: bytes, pos: int) -> tuple[int, int]:
    """The varuint at ``pos`` and the position after it."""
    value = data[pos]
    if value < 0x80:
        return value, pos + 1
    return uint_rest(data, pos + 1, value)


def skip_int(data: bytes, pos: int) -> int:
    """Skip a lib0 signed varint (sign in bit 6 of the first byte); return the new position."""
    byte = data[pos]
    if byte < 0x80:
        return pos + 1
    return _varint_rest(data, pos + 1, byte & 0x3F, 6, 62)[1]


def _sized(data: bytes, pos: int) -> tuple[int, int]:
    """A length prefix and the end of the bytes it announces, which must all be there."""
    size, pos = varuint(data, pos)
    if pos + size > len(data):
        raise UpdateRejected("truncated update")
    return size, pos


def read_text(
    data: bytes, pos: int, limit: int, what: str, problems: list[str] | None
) -> tuple[int, str]:
    """Read a varstring of at most ``limit`` UTF-8 bytes: (new position, its text)."""
    size, pos = _sized(data, pos)
    end = pos + size
    if size > limit:
        problem(problems, f"{what} of {size} bytes (limit {limit})")
    try:
        return end, data[pos:end].decode("utf-8")
    except UnicodeDecodeError:
        problem(problems, f"{what} is not UTF-8")
        return end, ""


def skip_text(data: bytes, pos: int, limit: int, what: str, problems: list[str] | None) -> int:
    """Skip a varstring like read_text; short ASCII (most keys and values) without decoding."""
    size = data[pos]
    stop = pos + 1 + size
    if size < 0x80 and size <= limit and stop <= len(data) and data[pos + 1 : stop].isascii():
        return stop
    return read_text(data, pos, limit, what, problems)[0]


def skip_blob(data: bytes, pos: int, limit: int, problems: list[str] | None) -> int:
    """Skip a varUint8Array of at most ``limit`` bytes."""
    size, pos = _sized(data, pos)
    if size > limit:
        problem(problems, f"binary of {size} bytes (limit {limit})")
    return pos + size


def skip_any(
    data: bytes, pos: int, count: int, limits: ValueLimits, problems: list[str] | None
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
        if in_object:  # the entry's key
            pos = skip_text(data, pos, max_key, "Any key", problems)
        elif not stack:
            entries = 0
        kind = data[pos]
        pos += 1
        if kind > 119:
            if kind == 125:  # signed varint
                pos = skip_int(data, pos)
            elif kind == 124:  # float32
                pos += 4
            elif kind == 123 or kind == 122:  # float64, bigint
                pos += 8
            elif kind > 127:
                raise UpdateRejected(f"unknown Any type {kind}")
            # else undefined, null, false, true: nothing follows
        elif kind == 119:  # string
            pos = skip_text(data, pos, max_string, "Any string", problems)
        elif kind == 118 or kind == 117:  # object, array
            size, pos = varuint(data, pos)
            entries += size
            if entries > max_items:
                problem(problems, f"Any with over {max_items} entries")
                entries = -UNBOUNDED  # report once
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
            pos = skip_blob(data, pos, max_string, problems)
        else:
            raise UpdateRejected(f"unknown Any type {kind}")
    if deepest > max_depth and problems is not None:
        problems.append(f"Any nested {deepest} deep (limit {max_depth})")
    return pos


def skip_json(data: bytes, pos: int, limits: ValueLimits, problems: list[str] | None) -> int:
    """Skip a JSON-encoded varstring: bounded length and nesting, and valid JSON.

    Embed and format values are parsed by Yrs and by every Yjs client, and either
    refuses the whole update when one does not parse. Rare, so off the hot path.
    """
    pos, text = read_text(data, pos, limits.max_string_bytes, "JSON", problems)
    if text.count("[") + text.count("{") > limits.max_depth:  # else it cannot be too deep
        depth = depth_of(text)
        if depth > limits.max_depth:
            problem(problems, f"JSON nested {depth} deep (limit {limits.max_depth})")
            return pos
    try:
        json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        problem(problems, "JSON content does not parse")
    return pos


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")  # Python accepts NaN and Infinity; Yrs does not
