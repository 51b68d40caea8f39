"""Hand-encoded Yjs updates that no well-behaved client would send (test-side only)."""

from __future__ import annotations

from pycrdt import write_var_uint


def _var_string(text: str) -> bytes:
    raw = text.encode()
    return write_var_uint(len(raw)) + raw


def deep_any_update(
    depth: int, *, client: int = 424242, root: str = "events", key: str = "ev_deep"
) -> bytes:
    """One map entry ``root[key]`` whose Any value is ``depth`` arrays nested in each other.

    Yjs update v1: one client section with one Item (info: ContentAny | parentSub), its
    parent named by root, then an empty delete set. Each array is type byte 117 with one
    element; the innermost has none.
    """
    nested = (bytes([117]) + write_var_uint(1)) * (depth - 1) + bytes([117, 0])
    item = (
        bytes([8 | 0x20])
        + write_var_uint(1)  # parent is a root, named by string
        + _var_string(root)
        + _var_string(key)
        + write_var_uint(1)  # one Any value
        + nested
    )
    structs = write_var_uint(1) + write_var_uint(1) + write_var_uint(client) + write_var_uint(0)
    return structs + item + write_var_uint(0)
