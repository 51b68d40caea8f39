"""fast_json: orjson where it can, the standard library where only it can; the same
values either way, for everything stored before and everything callers pass."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from debrief import fast_json

# What our records and answers hold: JSON values (finite numbers: the checks at the edge
# refuse the rest, see test_non_finite_numbers_are_written_as_null)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_a_value_comes_back_as_the_standard_library_reads_it(value: Any) -> None:
    text = fast_json.dumps(value)
    assert fast_json.loads(text) == json.loads(text) == value
    assert fast_json.loads(fast_json.dumps_bytes(value)) == value


@given(json_values)
def test_what_the_standard_library_wrote_reads_the_same(value: Any) -> None:
    # records stored before orjson: spaces after separators, non-ASCII escaped
    assert fast_json.loads(json.dumps(value)) == value


def test_what_orjson_refuses_is_encoded_by_the_standard_library() -> None:
    big = {"count": 2**70, 3: "an int key"}
    assert json.loads(fast_json.dumps(big)) == {"count": 2**70, "3": "an int key"}
    assert json.loads(fast_json.dumps_bytes(big)) == {"count": 2**70, "3": "an int key"}


def test_a_lone_surrogate_is_escaped_as_json_dumps_did() -> None:
    # python's json reads "\\ud800" into a str that no UTF-8 encoder (SQLite's) takes
    text = fast_json.dumps({"a": "\ud800"})
    assert text.isascii() and fast_json.loads(text) == {"a": "\ud800"}
    assert fast_json.loads(fast_json.dumps_bytes(["\ud800"])) == ["\ud800"]


def test_nan_and_infinity_stored_by_json_dumps_still_read() -> None:
    found = fast_json.loads('{"a": NaN, "b": Infinity, "c": -Infinity}')
    assert math.isnan(found["a"]) and found["b"] == math.inf and found["c"] == -math.inf


def test_non_finite_numbers_are_written_as_null() -> None:
    # as JSON itself has it (json.dumps wrote NaN and Infinity, which JSON has not)
    assert fast_json.dumps([math.nan, math.inf, -math.inf]) == "[null,null,null]"


def test_output_is_compact_utf8() -> None:
    assert fast_json.dumps({"a": [1, "é"]}) == '{"a":[1,"é"]}'
