"""Real Yjs updates made with pycrdt, for tests that store or send them."""

from __future__ import annotations

from pycrdt import Doc, Map


def map_edit(doc: Doc, key: str, value: object) -> bytes:
    """Set ``key`` in ``doc``'s map "m"; the update that change made."""
    updates: list[bytes] = []
    subscription = doc.observe(lambda event: updates.append(event.update))
    doc.get("m", type=Map)[key] = value
    doc.unobserve(subscription)
    return updates[0]
