"""A tiny test-side Yjs v1 update encoder, for bytes pycrdt would never write.

Written apart from the server's code on purpose: the scanner tests compare what the
server reads with what these helpers meant to write.
"""

from __future__ import annotations


def uint(value: int) -> bytes:
    """A lib0 varuint."""
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def vstr(text: str | bytes) -> bytes:
    """A varstring; lone surrogates in ``text`` are written as they are (invalid UTF-8)."""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    return uint(len(raw)) + raw


def nested_any(depth: int) -> bytes:
    """An Any array nested ``depth`` deep around a null."""
    return b"\x75\x01" * depth + b"\x7e"


def any_string(text: str | bytes) -> bytes:
    return b"\x77" + vstr(text)


def rooted(root: str | bytes, ref: int, content: bytes, key: str | bytes | None = None) -> bytes:
    """An item whose parent is the root type ``root`` (a map entry when ``key`` is given)."""
    out = bytes([ref | (0x20 if key is not None else 0)]) + b"\x01" + vstr(root)
    if key is not None:
        out += vstr(key)
    return out + content


def any_item(root: str, key: str | None, *values: bytes) -> bytes:
    return rooted(root, 8, uint(len(values)) + b"".join(values), key)


def section(client: int, clock: int, structs: list[bytes]) -> bytes:
    return uint(len(structs)) + uint(client) + uint(clock) + b"".join(structs)


def update(sections: list[bytes], deletes: dict[int, list[tuple[int, int]]] | None = None) -> bytes:
    out = uint(len(sections)) + b"".join(sections) + uint(len(deletes or {}))
    for client, pairs in (deletes or {}).items():
        out += uint(client) + uint(len(pairs))
        out += b"".join(uint(clock) + uint(length) for clock, length in pairs)
    return out
