"""JSON from untrusted text, bounded before `json.loads` recurses.

Python's JSON decoder recurses once per nesting level: a few hundred kilobytes of
brackets raise RecursionError (not a ValueError, so it slips past the usual handlers),
and Yrs' own decoder of JSON content has no limit at all. The shape is measured first,
linearly and without recursion.
"""

from __future__ import annotations

import json
import re
from typing import Any

_ESCAPED_QUOTE = re.compile(r"\\\"")
_STRING = re.compile(r'"[^"]*"')
_BRACKET = re.compile(r"[\[\]{}]")


class JsonTooComplex(ValueError):
    """Nested deeper, or made of more values, than allowed."""


def _skeleton(text: str) -> str:
    """``text`` without its string literals: what is left of brackets is structure.

    Backslash pairs go first, then escaped quotes, so no quote is left inside a string
    and one regex without backtracking removes every literal.
    """
    if "\\" in text:
        text = _ESCAPED_QUOTE.sub("", text.replace("\\\\", ""))
    if '"' in text:
        text = _STRING.sub("", text)
    return text


def depth_of(text: str) -> int:
    """The deepest bracket nesting outside string literals (text need not be valid JSON)."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_skeleton(text)):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def check_shape(text: str, *, max_depth: int, max_values: int | None = None) -> None:
    """Raise JsonTooComplex for JSON nested deeper than ``max_depth`` or, when given,
    made of more than about ``max_values`` values (containers and comma-separated items)."""
    skeleton = _skeleton(text)
    opens = skeleton.count("[") + skeleton.count("{")
    if opens > max_depth:
        depth = 0
        for match in _BRACKET.finditer(skeleton):
            if match.group() in "[{":
                depth += 1
                if depth > max_depth:
                    raise JsonTooComplex(f"nested more than {max_depth} deep")
            else:
                depth -= 1
    if max_values is not None and opens + skeleton.count(",") > max_values:
        raise JsonTooComplex(f"more than {max_values} values")


def loads(text: str, *, max_depth: int = 64, max_values: int | None = None) -> Any:
    """``json.loads`` that raises only ValueError (JSONDecodeError or JsonTooComplex)."""
    check_shape(text, max_depth=max_depth, max_values=max_values)
    try:
        return json.loads(text)
    except RecursionError as exc:  # unreachable after the check; kept as a last guard
        raise JsonTooComplex("nested too deep") from exc
