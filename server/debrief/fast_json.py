"""JSON for our own data on the hot paths: stored records and API answers, with orjson.

A note is a few JSON encodings and decodings (the session, the review and the note
tally read; the note and the tally written; the answer), and the standard library's
took ~8 % of a note's server time. orjson does the same work several times faster.

Both directions fall back to the standard library for what orjson refuses and Python's
`json` takes. When encoding: integers past 64 bits, non-string keys, and lone surrogates
(escaped, as `json.dumps` did). When decoding: the NaN and Infinity that `json.dumps`
used to write into stored records. So nothing stored before this module, nor anything a
caller passes, fails here that did not fail before. One difference remains, by design:
a NaN or an infinity is written as null, as JSON has it (no record holds one: the checks
at the edge refuse non-finite numbers, and an answer with one was a 500 before).
Untrusted text is not decoded here (see bounded_json.py).
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(data: Any) -> str:
    """``data`` as compact JSON text."""
    return dumps_bytes(data).decode()


def dumps_bytes(data: Any) -> bytes:
    """``data`` as compact JSON in UTF-8, e.g. for a response body."""
    try:
        return orjson.dumps(data)
    except TypeError:  # a 65-bit integer, a key that is no string, a lone surrogate ...
        return _standard(data).encode()


def _standard(data: Any) -> str:
    # ASCII: a lone surrogate stays an escape, which SQLite and UTF-8 bodies can carry
    return json.dumps(data, separators=(",", ":"))


def loads(text: str | bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # NaN, Infinity, an escaped lone surrogate: `json` reads them
        return json.loads(text)
