"""The bounded Yjs update scanner: real pycrdt updates pass, hostile ones are refused
before any library decodes them, and `repair_update` cuts out only the bad items."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycrdt import (
    Array,
    Doc,
    Map,
    Snapshot,
    Text,
    TransactionEvent,
    XmlElement,
    XmlFragment,
    get_state,
)

from debrief.protocol import ProtocolError
from debrief.protocol.scan import (
    DEFAULT_LIMITS,
    STORED_LIMITS,
    UpdateLimits,
    UpdateRejected,
    repair_update,
    scan_update,
)
from debrief.protocol.updates import decode_snapshot, decode_state_vector
from support.yjs_encoding import (
    any_item,
    any_string,
    nested_any,
    rooted,
    section,
    uint,
    update,
    vstr,
)

# --- real updates from pycrdt ------------------------------------------------------------


def review_doc() -> tuple[Doc, list[tuple[bytes, dict[int, int], dict[int, int]]]]:
    """A timeline-like doc; returns it and each transaction's (update, state before, after)."""
    doc: Doc = Doc()
    changes: list[bytes] = []

    def record(event: TransactionEvent) -> None:
        changes.append(event.update)

    doc.observe(record)
    events = doc.get("events", type=Map)
    events["e1"] = Map(
        {
            "id": "e1",
            "time": "2025-03-01T09:14:00Z",
            "text": "Pager fired 🚨 for checkout, Zoë acked",
            "source": "alert",
            "link": "",
            "markers": ["first-signal", "handoff"],
            "created_ms": 1740820440000,
        }
    )
    events["e1"]["text"] = "Pager fired 🚒 twice"  # overwrite: leaves a deletion
    events["e2"] = Map({"id": "e2", "nested": {"a": [1, 2.5, None, True, {"b": "c"}]}})
    del events["e2"]
    notes = doc.get("text", type=Text)
    notes += "résumé 😀 done"
    notes.insert(3, "👩‍👩‍👧")
    del notes[0:2]
    arr = doc.get("arr", type=Array)
    arr.extend([1, "two", {"three": [3]}, -(2**40), b"\x00\x01"])
    del arr[1]
    replica: Doc = Doc()  # states around each change (not readable inside the observer)
    steps = []
    for change in changes:
        before = decode_state_vector(replica.get_state())
        replica.apply_update(change)
        steps.append((change, before, decode_state_vector(replica.get_state())))
    return doc, steps


def merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def test_full_pycrdt_update_matches_what_it_holds() -> None:
    doc, _ = review_doc()
    full = doc.get_update()
    summary = scan_update(full)
    vector = decode_state_vector(get_state(full))
    assert {c: end for c, (_, end) in summary.structs.items()} == vector
    assert all(first == 0 for first, _ in summary.structs.values())
    deletes, _ = decode_snapshot(Snapshot.from_doc(doc).encode())
    assert {c: merged(r) for c, r in summary.deletes.items()} == deletes
    assert summary.roots == {"events", "text", "arr"}
    assert summary.unrooted  # event fields name their parent by ID
    assert summary.type_items == 1  # e1's map; e2's was deleted, so it is written as such


def test_each_transaction_update_matches_its_clock_range() -> None:
    _, steps = review_doc()
    assert len(steps) > 5
    for change, before, after in steps:
        summary = scan_update(change)
        grown = {c: (before.get(c, 0), end) for c, end in after.items() if end > before.get(c, 0)}
        assert summary.structs == grown


def test_root_level_map_writes_are_rooted() -> None:
    doc: Doc = Doc()
    doc.get("actions", type=Map)["a"] = {"what": "rotate keys", "owner": "Priya"}
    doc.get("followups", type=Text).insert(0, "x")
    summary = scan_update(doc.get_update())
    assert summary.roots == {"actions", "followups"}
    assert not summary.unrooted
    assert summary.deletes == {}
    assert summary.struct_count == 2


def test_xml_types_with_names_are_read() -> None:
    doc: Doc = Doc()
    fragment = doc.get("x", type=XmlFragment)
    fragment.children.append(XmlElement("p", {"class": "a"}, ["hi"]))
    full = doc.get_update()
    summary = scan_update(full)
    assert {c: e for c, (_, e) in summary.structs.items()} == decode_state_vector(get_state(full))
    assert summary.type_items >= 1


def test_stored_limits_accept_a_doc_over_the_client_counts() -> None:
    doc: Doc = Doc()
    events = doc.get("events", type=Map)
    with doc.transaction():
        for n in range(7000):
            events[f"e{n}"] = Map({"id": f"e{n}", "text": "x", "created_ms": n})
    full = doc.get_update()
    with pytest.raises(UpdateRejected, match="too many structs"):
        scan_update(full)
    assert scan_update(full, STORED_LIMITS).struct_count > DEFAULT_LIMITS.max_structs


def test_stored_limits_accept_long_typed_text() -> None:
    """Yrs squashes one client's consecutive typing into one string item."""
    doc: Doc = Doc()
    notes = doc.get("text", type=Text)
    for _ in range(700):
        notes.insert(len(notes), "x" * 100)
    full = doc.get_update()
    with pytest.raises(UpdateRejected, match="string of 70000 bytes"):
        scan_update(full)
    assert scan_update(full, STORED_LIMITS).struct_count == 1
    assert repair_update(full, STORED_LIMITS) == (full, [])


# --- every kind of content, checked against what pycrdt decodes ------------------------


CLIENT = 7

CONTENT_KINDS = {
    "deleted": rooted("a", 1, uint(3)),
    "binary": rooted("a", 3, vstr(b"\x00\xff")),
    "string astral": rooted("t", 4, vstr("a😀é")),
    "embed": rooted("t", 5, vstr('{"image": [1, 2]}')),
    "format": rooted("t", 6, vstr("bold") + vstr("true")),
    "type array": rooted("m", 7, uint(0), key="k"),
    "type map": rooted("m", 7, uint(1), key="k"),
    "type text": rooted("m", 7, uint(2), key="k"),
    "xml fragment": rooted("x", 7, uint(4)),
    "xml text": rooted("x", 7, uint(6)),
    "parent by id": bytes([8 | 0x20]) + b"\x00" + uint(CLIENT) + uint(0) + vstr("k") + b"\x01\x78",
    "origin only": bytes([0x88]) + uint(CLIENT) + uint(0) + b"\x01\x78",
    "right origin only": bytes([0x48]) + uint(CLIENT) + uint(0) + b"\x01\x78",
    "varints": any_item("a", None, b"\x7d\xbf\xff\xff\xff\xff\xff\xff\x1f", b"\x7d\x3f"),
    "xml element": rooted("x", 7, uint(3) + vstr("p")),
    "any scalars": any_item(
        "a",
        None,
        b"\x7f",
        b"\x7e",
        b"\x7d\x05",
        b"\x7d\xc1\x01",
        b"\x7c\x3f\x80\x00\x00",
        b"\x7b" + bytes(8),
        b"\x7a" + bytes(8),
        b"\x79",
        b"\x78",
        any_string("x"),
        b"\x74" + vstr(b"\x01"),
    ),
    "any containers": any_item(
        "m", "k", b"\x76\x02" + vstr("k") + b"\x78" + vstr("l") + nested_any(31)
    ),
    "gc": b"\x00\x02",
    "empty string (pycrdt writes these)": rooted("t", 4, vstr("")),
    "empty any": any_item("a", None),
}


def test_a_skip_counts_in_the_clock_range() -> None:
    """Structs after a skip wait for the gap; they are still this client's structs."""
    data = update([section(CLIENT, 0, [b"\x00\x01", b"\x0a\x02", any_item("z", "k", b"\x78")])])
    assert scan_update(data).structs == {CLIENT: (0, 4)}
    assert decode_state_vector(get_state(data)) == {CLIENT: 1}  # pycrdt counts up to the gap


@pytest.mark.parametrize("name", list(CONTENT_KINDS))
def test_each_content_kind_agrees_with_pycrdt(name: str) -> None:
    struct = CONTENT_KINDS[name]
    data = update([section(CLIENT, 0, [struct, any_item("z", "k", b"\x78")])])
    summary = scan_update(data)
    assert decode_state_vector(get_state(data)) == {CLIENT: summary.structs[CLIENT][1]}
    doc: Doc = Doc()
    doc.apply_update(data)  # pycrdt reads the same bytes the same way


# --- refusals ------------------------------------------------------------------------


def one_item(*structs: bytes, deletes: dict[int, list[tuple[int, int]]] | None = None) -> bytes:
    return update([section(CLIENT, 0, list(structs))], deletes)


def test_any_nested_100000_deep_is_refused_without_recursion() -> None:
    data = one_item(any_item("m", "k", nested_any(100_000)))
    with pytest.raises(UpdateRejected, match="nested deeper than 32"):
        scan_update(data)
    repaired, lines = repair_update(data, DEFAULT_LIMITS)  # walks all of it, still flat
    assert lines == [
        f"client {CLIENT} clock 0..1: Any with over 10000 entries; "
        "Any nested 100000 deep (limit 32)"
    ]
    assert scan_update(repaired).structs == {CLIENT: (0, 1)}


def test_the_deep_update_does_kill_pycrdt() -> None:
    """Why the scanner exists: Yrs' recursive decoder overflows the stack (SIGSEGV)."""
    data = one_item(any_item("m", "k", nested_any(100_000)))
    code = "import sys, pycrdt; pycrdt.Doc().apply_update(sys.stdin.buffer.read())"
    run = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True)
    assert run.returncode != 0


def test_depth_limit_is_exact() -> None:
    scan_update(one_item(any_item("m", "k", nested_any(32))))
    with pytest.raises(UpdateRejected):
        scan_update(one_item(any_item("m", "k", nested_any(33))))
    deep_object = b"\x76\x01" + vstr("k")
    scan_update(one_item(any_item("m", "k", deep_object * 32 + b"\x7e")))
    with pytest.raises(UpdateRejected):
        scan_update(one_item(any_item("m", "k", deep_object * 33 + b"\x7e")))


LIMIT = DEFAULT_LIMITS.max_string_bytes
KEY = DEFAULT_LIMITS.max_key_bytes


@pytest.mark.parametrize(
    ("ok", "too_big"),
    [
        (rooted("t", 4, vstr("a" * LIMIT)), rooted("t", 4, vstr("a" * (LIMIT + 1)))),
        (
            any_item("m", "k", any_string("é" * (LIMIT // 2))),
            any_item("m", "k", any_string("é" * (LIMIT // 2) + "a")),
        ),
        (
            any_item("m", "k", b"\x74" + vstr(bytes(LIMIT))),
            any_item("m", "k", b"\x74" + vstr(bytes(LIMIT + 1))),
        ),
        (rooted("a", 3, vstr(bytes(LIMIT))), rooted("a", 3, vstr(bytes(LIMIT + 1)))),
        (
            rooted("t", 5, vstr('"' + "a" * (LIMIT - 2) + '"')),
            rooted("t", 5, vstr('"' + "a" * (LIMIT - 1) + '"')),
        ),
        (any_item("m", "k" * KEY, b"\x78"), any_item("m", "k" * (KEY + 1), b"\x78")),
        (any_item("m" * KEY, "k", b"\x78"), any_item("m" * (KEY + 1), "k", b"\x78")),
        (
            any_item("m", "k", b"\x76\x01" + vstr("k" * KEY) + b"\x78"),
            any_item("m", "k", b"\x76\x01" + vstr("k" * (KEY + 1)) + b"\x78"),
        ),
        (
            rooted("t", 6, vstr("b" * KEY) + vstr("1")),
            rooted("t", 6, vstr("b" * (KEY + 1)) + vstr("1")),
        ),
        (
            rooted("x", 7, uint(3) + vstr("p" * KEY)),
            rooted("x", 7, uint(3) + vstr("p" * (KEY + 1))),
        ),
        (
            any_item("m", "k", b"\x75" + uint(10_000) + b"\x7e" * 10_000),
            any_item("m", "k", b"\x75" + uint(10_001) + b"\x7e" * 10_001),
        ),
        (
            any_item("m", "k", b"\x75\x02" + (b"\x75" + uint(4_999) + b"\x7e" * 4_999) * 2),
            any_item("m", "k", b"\x75\x02" + (b"\x75" + uint(5_000) + b"\x7e" * 5_000) * 2),
        ),
        (
            rooted("a", 8, uint(10_000) + b"\x7e" * 10_000),
            rooted("a", 8, uint(10_001) + b"\x7e" * 10_001),
        ),
        (rooted("t", 5, vstr("[" * 32 + "]" * 32)), rooted("t", 5, vstr("[" * 33 + "]" * 33))),
    ],
)
def test_content_bounds_are_exact(ok: bytes, too_big: bytes) -> None:
    scan_update(one_item(ok))
    with pytest.raises(UpdateRejected):
        scan_update(one_item(too_big))


def test_utf16_length_of_astral_strings() -> None:
    data = one_item(rooted("t", 4, vstr("😀a")), rooted("t", 4, vstr("é")))
    assert scan_update(data).structs == {CLIENT: (0, 4)}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (one_item(any_item("m", "k", b"\x78")) + b"\x00", "trailing bytes"),
        (one_item(rooted("a", 9, vstr("guid") + b"\x76\x00")), "subdocuments"),
        (one_item(rooted("a", 2, uint(1) + vstr("1"))), "legacy JSON"),
        (one_item(rooted("a", 11, b"")), "unknown content type 11"),
        (one_item(rooted("a", 31, b"")), "unknown content type 31"),
        (one_item(rooted("a", 7, uint(7))), "unknown shared type 7"),
        (one_item(rooted("x", 7, uint(5) + vstr("h"))), "XML hooks"),
        (one_item(any_item("m", "k", b"\x73")), "unknown Any type 115"),
        (one_item(b"\x08\x02" + vstr("m") + uint(1) + b"\x78"), "bad parent info"),
        (one_item(rooted("t", 4, vstr(b"\xff\xfe"))), "not UTF-8"),
        (one_item(rooted("t", 4, vstr(b"\xed\xa0\x80"))), "not UTF-8"),  # a surrogate
        (one_item(any_item("m", b"k\xc3", b"\x78")), "not UTF-8"),
        (one_item(rooted(b"\x80", 8, uint(1) + b"\x78")), "not UTF-8"),
        (one_item(any_item("m", "k", b"\x76\x01" + vstr(b"\xc0\x80") + b"\x78")), "not UTF-8"),
        (one_item(rooted("t", 5, vstr("{nope"))), "does not parse"),
        (one_item(rooted("t", 6, vstr("b") + vstr("NaN"))), "does not parse"),
        (update([section(CLIENT, 2**32 - 1, [b"\x00\x02"])]), "clock out of range"),
        (update([], {CLIENT: [(2**32 - 1, 2)]}), "clock out of range"),
        (b"\x01\x01" + b"\xff" * 10 + b"\x01\x00\x00", "number too long"),
        (b"\x01\x01" + uint(2**53 + 1) + b"\x00\x00\x02\x00", "out of range"),
        (one_item(any_item("m", "k", b"\x7d" + b"\xff" * 10 + b"\x00")), "number too long"),
        (one_item(bytes([0x88]) + b"\xff" * 12 + b"\x00\x01\x7e"), "malformed origin"),
        (b"\x00", "truncated"),
        (b"", "truncated"),
        (b"\x05\x00", "truncated"),
        (b"\x01" + uint(2**40) + b"\x07\x00", "too many structs"),
        (one_item(any_item("m", "k", b"\x75" + uint(2**40))), "Any with over"),
    ],
)
def test_malformed_updates_are_refused(data: bytes, reason: str) -> None:
    with pytest.raises(UpdateRejected, match=reason):
        scan_update(data)


def test_counting_limits() -> None:
    tight = UpdateLimits(max_bytes=200, max_structs=3, max_clients=2, max_delete_ranges=3)
    item = any_item("m", "k", b"\x78")
    scan_update(one_item(item, item, item), tight)
    with pytest.raises(UpdateRejected, match="too many structs"):
        scan_update(one_item(item, item, item, item), tight)
    scan_update(update([section(1, 0, [item]), section(2, 0, [item])]), tight)
    with pytest.raises(UpdateRejected, match="too many clients"):
        scan_update(update([section(n, 0, [item]) for n in range(3)]), tight)
    with pytest.raises(UpdateRejected, match="too many clients"):
        scan_update(update([section(1, 0, [item])], {1: [(0, 1)], 2: [(0, 1)]}), tight)
    scan_update(update([], {1: [(0, 1), (3, 1)], 2: [(0, 1)]}), tight)
    with pytest.raises(UpdateRejected, match="too many deletions"):
        scan_update(update([], {1: [(0, 1), (3, 1)], 2: [(0, 1), (5, 1)]}), tight)
    scan_update(one_item(any_item("m", "k", any_string("a" * 150))), tight)
    with pytest.raises(UpdateRejected, match="larger than 200"):
        scan_update(one_item(any_item("m", "k", any_string("a" * 200))), tight)


def test_default_counts_refuse_a_struct_flood() -> None:
    item = b"\x00\x01"
    scan_update(one_item(*[item] * 20_000))
    with pytest.raises(UpdateRejected, match="too many structs"):
        scan_update(one_item(*[item] * 20_001))


def valid_updates() -> list[bytes]:
    doc, steps = review_doc()
    return [doc.get_update()] + [change for change, _, _ in steps]


def test_every_truncation_is_refused() -> None:
    for data in valid_updates():
        scan_update(data)
        for cut in range(len(data)):
            with pytest.raises(UpdateRejected):
                scan_update(data[:cut])


def test_summary_reports_merged_duplicate_sections() -> None:
    item = any_item("m", "k", b"\x78")
    summary = scan_update(update([section(5, 4, [item]), section(5, 0, [item, item])]))
    assert summary.structs == {5: (0, 5)}


def test_rejection_is_a_protocol_error() -> None:
    assert issubclass(UpdateRejected, ProtocolError)


# --- repair ----------------------------------------------------------------------------


def test_repair_replaces_only_the_bad_item() -> None:
    data = one_item(
        any_item("m", "a", any_string("ok")),
        any_item("m", "b", nested_any(20_000)),
        any_item("m", "c", b"\x7d\x2a"),
        rooted("t", 4, vstr("fine 😀")),
        rooted("t", 4, vstr("x" * (LIMIT + 1))),
        deletes={CLIENT: [(0, 1)]},
    )
    with pytest.raises(UpdateRejected):
        scan_update(data)
    repaired, lines = repair_update(data, DEFAULT_LIMITS)
    assert lines == [
        f"client {CLIENT} clock 1..2: Any with over 10000 entries; "
        "Any nested 20000 deep (limit 32)",
        f"client {CLIENT} clock 10..{10 + LIMIT + 1}: string of {LIMIT + 1} bytes (limit {LIMIT})",
    ]
    summary = scan_update(repaired)
    assert (
        summary.structs
        == scan_update(
            data, UpdateLimits(max_depth=10**6, max_string_bytes=10**6, max_any_items=10**6)
        ).structs
    )
    doc: Doc = Doc()
    doc.apply_update(repaired)
    assert doc.get("m", type=Map).to_py() == {"c": 42.0}  # "a" was deleted, "b" is gone
    assert str(doc.get("t", type=Text)) == "fine 😀"
    assert decode_state_vector(doc.get_state()) == {CLIENT: 10 + LIMIT + 1}


def test_repair_keeps_good_updates_byte_for_byte() -> None:
    for data in valid_updates():
        assert repair_update(data, DEFAULT_LIMITS) == (data, [])


def test_repair_ignores_counting_limits() -> None:
    data = one_item(*[any_item("m", f"k{n}", b"\x78") for n in range(30)])
    tight = UpdateLimits(max_bytes=10, max_structs=5, max_clients=0, max_delete_ranges=0)
    assert repair_update(data, tight) == (data, [])


def test_repair_cuts_out_subdocs_and_oversized_any() -> None:
    data = one_item(
        rooted("a", 9, vstr("guid") + b"\x76\x00"),
        any_item("m", "k", b"\x75" + uint(10_001) + b"\x7e" * 10_001),
        any_item("m", "j", any_string("kept")),
    )
    repaired, lines = repair_update(data, DEFAULT_LIMITS)
    assert [line.split(": ")[1] for line in lines] == [
        "subdocuments are not supported",
        "Any with over 10000 entries",
    ]
    doc: Doc = Doc()
    doc.apply_update(repaired)
    assert doc.get("m", type=Map).to_py() == {"j": "kept"}


@pytest.mark.parametrize(
    "data",
    [
        one_item(any_item("m", "k", b"\x78"))[:-2],
        one_item(rooted("a", 11, b"")),
        one_item(rooted("t", 4, vstr(b"\xff"))),
        b"\x01\x01\x07\x00\x08",
    ],
)
def test_repair_refuses_undecodable_input(data: bytes) -> None:
    with pytest.raises(UpdateRejected):
        repair_update(data, DEFAULT_LIMITS)


# --- mutations of real updates ------------------------------------------------------------

SEEDS = valid_updates()


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and data:
            data[at] = draw(st.integers(0, 255))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=4))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 4))]
        else:
            del data[at:]
    return bytes(data)


@settings(max_examples=300, deadline=None)
@given(mutated())
def test_mutated_updates_are_refused_or_decodable(data: bytes) -> None:
    """Whatever the scanner accepts, pycrdt decodes without error.

    The scanner also parses embed/format JSON for this reason. What it cannot promise
    is that pycrdt *integrates* every accepted update sensibly (an origin pointing
    nowhere leaves it pending): the lead wraps every pycrdt call anyway.
    """
    try:
        summary = scan_update(data)
    except UpdateRejected:
        return
    vector = decode_state_vector(get_state(data))
    for client, end in vector.items():
        assert summary.structs[client][1] == end
