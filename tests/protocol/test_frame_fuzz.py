"""Whatever bytes a peer sends, the protocol layer answers with a value or a ProtocolError.

Any other exception (IndexError, RecursionError, UnicodeDecodeError...) would escape the
websocket handler's 1002 path; the scanner must also never let through bytes that pycrdt
then cannot decode.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from pycrdt import get_state

from debrief.protocol import ProtocolError, parse_frame
from debrief.protocol.scan import (
    DEFAULT_LIMITS,
    UpdateLimits,
    UpdateRejected,
    repair_update,
    scan_update,
)
from support.yjs_encoding import uint, vstr

FUZZ = settings(max_examples=300, deadline=None)
SMALL = UpdateLimits(
    max_bytes=4096,
    max_depth=3,
    max_structs=20,
    max_clients=4,
    max_delete_ranges=20,
    max_string_bytes=16,
    max_key_bytes=4,
    max_any_items=8,
)


# Frames: a known message type and sub type, so the fuzz reaches past the first byte.
frames = st.one_of(
    st.binary(max_size=64),
    st.builds(
        lambda kind, sub, rest: bytes([kind, sub]) + rest,
        st.integers(0, 4),
        st.integers(0, 3),
        st.binary(max_size=64),
    ),
    st.builds(
        lambda sub, payload, tail: bytes([0, sub]) + uint(len(payload)) + payload + tail,
        st.integers(0, 2),
        st.binary(max_size=64),
        st.sampled_from([b"", b"\x00", b"\xff"]),
    ),
)

# Update-shaped bytes: a struct section header, then struct-ish bytes (info bytes with
# plausible content refs are likely), then anything.
struct_bytes = st.lists(
    st.one_of(
        st.integers(0, 255).map(lambda b: bytes([b])),
        st.sampled_from([0x08, 0x28, 0x88, 0x04, 0x07, 0x01, 0x00, 0x0A, 0x05, 0x06]).map(
            lambda b: bytes([b, 0x01, 0x01, 0x6D])
        ),
        st.sampled_from([b"\x75", b"\x76", b"\x77", b"\x7d", b"\x74", b"\x7b"]).map(
            lambda b: b + b"\x02"
        ),
    ),
    max_size=40,
).map(b"".join)
texts = st.text(max_size=20)


def _array(items: list[bytes]) -> bytes:
    return b"\x75" + uint(len(items)) + b"".join(items)


def _object(entries: dict[str, bytes]) -> bytes:
    return b"\x76" + uint(len(entries)) + b"".join(vstr(k) + v for k, v in entries.items())


any_values = st.recursive(
    st.one_of(
        st.sampled_from([b"\x7f", b"\x7e", b"\x79", b"\x78", b"\x7b" + bytes(8)]),
        st.integers(-(2**53), 2**53).map(lambda n: b"\x7d" + _signed(n)),
        texts.map(lambda t: b"\x77" + vstr(t)),
        st.binary(max_size=20).map(lambda b: b"\x74" + uint(len(b)) + b),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(_array),
        st.dictionaries(texts, inner, max_size=4).map(_object),
        # one deep chain, so depth limits are met
        st.tuples(st.integers(1, 60), inner).map(lambda p: b"\x75\x01" * p[0] + p[1]),
    ),
    max_leaves=12,
)
json_texts = st.sampled_from(['{"a": [1, 2]}', "true", '"x"', "[[[[[1]]]]]", "{", "NaN"])
contents = st.one_of(
    st.tuples(st.just(8), st.lists(any_values, min_size=1, max_size=3)).map(
        lambda p: (p[0], uint(len(p[1])) + b"".join(p[1]))
    ),
    st.tuples(st.just(4), texts.map(vstr)),
    st.tuples(st.just(1), st.integers(1, 5).map(uint)),
    st.tuples(st.just(3), st.binary(max_size=30).map(lambda b: uint(len(b)) + b)),
    st.tuples(st.just(5), json_texts.map(vstr)),
    st.tuples(st.just(6), st.tuples(texts, json_texts).map(lambda p: vstr(p[0]) + vstr(p[1]))),
    st.tuples(st.just(7), st.sampled_from([0, 1, 2, 4, 6]).map(uint)),
    st.tuples(st.just(7), texts.map(lambda t: b"\x03" + vstr(t))),
)
parents = st.one_of(
    st.tuples(texts, st.none() | texts).map(
        lambda p: (0x20 if p[1] is not None else 0, b"\x01" + vstr(p[0]) + _key(p[1]))
    ),
    st.tuples(st.integers(0, 2**32), st.none() | texts).map(
        lambda p: (0x20 if p[1] is not None else 0, b"\x00\x07" + uint(p[0]) + _key(p[1]))
    ),
    st.integers(0, 2**32).map(lambda clock: (0x80, b"\x07" + uint(clock))),
)
structs = st.one_of(
    st.tuples(parents, contents).map(lambda p: bytes([p[0][0] | p[1][0]]) + p[0][1] + p[1][1]),
    st.tuples(st.sampled_from([0, 10]), st.integers(1, 4)).map(
        lambda p: bytes([p[0]]) + uint(p[1])
    ),
)
well_formed = st.builds(
    lambda sections, ranges: (
        uint(len(sections))
        + b"".join(uint(len(items)) + uint(c) + b"\x00" + b"".join(items) for c, items in sections)
        + uint(len(ranges))
        + b"".join(uint(c) + b"\x01" + uint(a) + uint(n) for c, (a, n) in ranges.items())
    ),
    st.lists(
        st.tuples(st.integers(0, 2**40), st.lists(structs, min_size=1, max_size=5)), max_size=3
    ),
    st.dictionaries(
        st.integers(0, 99), st.tuples(st.integers(0, 99), st.integers(0, 9)), max_size=3
    ),
)


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[bytes]) -> bytes:
    data = bytearray(draw(base))
    if data and draw(st.booleans()):
        at = draw(st.integers(0, len(data) - 1))
        data[at] = draw(st.integers(0, 255))
    return bytes(data)


def _signed(n: int) -> bytes:
    value = abs(n)
    first = (value & 0x3F) | (0x40 if n < 0 else 0)
    value >>= 6
    if not value:
        return bytes([first])
    return bytes([first | 0x80]) + uint(value)


def _key(key: str | None) -> bytes:
    return b"" if key is None else vstr(key)


updates = st.one_of(
    well_formed,
    mutated(well_formed),
    st.binary(max_size=128),
    st.builds(
        lambda n, client, clock, body: b"\x01" + uint(n) + uint(client) + uint(clock) + body,
        st.integers(0, 5),
        st.integers(0, 2**53 + 5),
        st.integers(0, 2**32 + 5),
        struct_bytes,
    ),
)


@FUZZ
@given(frames)
def test_parse_frame_returns_or_raises_protocol_error(data: bytes) -> None:
    try:
        parse_frame(data)
    except ProtocolError:
        pass


@FUZZ
@given(updates, st.sampled_from([DEFAULT_LIMITS, SMALL]))
def test_scan_returns_or_refuses_and_accepted_bytes_decode(
    data: bytes, limits: UpdateLimits
) -> None:
    try:
        summary = scan_update(data, limits)
    except UpdateRejected:
        return
    get_state(data)  # no exception: pycrdt reads what the scanner accepted
    assert summary.struct_count <= limits.max_structs


@FUZZ
@given(updates, st.sampled_from([DEFAULT_LIMITS, SMALL]))
def test_repair_returns_bytes_the_scanner_accepts(data: bytes, limits: UpdateLimits) -> None:
    try:
        repaired, lines = repair_update(data, limits)
    except UpdateRejected:
        return
    content_only = UpdateLimits(
        max_depth=limits.max_depth,
        max_string_bytes=limits.max_string_bytes,
        max_key_bytes=limits.max_key_bytes,
        max_any_items=limits.max_any_items,
        max_bytes=1 << 31,
        max_structs=1 << 40,
        max_clients=1 << 40,
        max_delete_ranges=1 << 40,
    )
    scan_update(repaired, content_only)  # nothing left that breaks a content limit
    assert (repaired == data) == (not lines)
