"""Records as stored, kept in memory by a backend that makes every write itself.

Every meeting command reads its caller's session and its review, and a note reads its
review's tally: on SQLite each read is a hop to the reader thread and back, and the
threads' turns at Python's lock are what a busy server waits on. A backend that no other
process writes (`Storage.shared` false) can answer those reads from what it last read
or wrote. Sans-I/O: the backend tells it what it read and what it wrote.

- Filled by reads only: a written record is updated here if it is already kept, never
  added, so a stream of new notes does not push out the sessions and reviews.
- A read that was under way while the same record was written (or the cache cleared)
  does not fill: it may hold the older text (`reading` / `read`).
- Texts, not dicts: each caller decodes its own copy and may change it freely.
- Only records that exist: a read of a missing one (a made-up review id in a path,
  say) goes to storage every time and takes no room here.
- Bounded: at most ``entries`` records of at most ``max_text`` characters each; the
  oldest goes first.
"""

from __future__ import annotations

import weakref

Key = tuple[str, str]  # (kind, record id)


class RecordCache:
    def __init__(self, entries: int = 2048, max_text: int = 8192) -> None:
        self.entries = entries
        self.max_text = max_text
        self._texts: dict[Key, str] = {}
        self._reads: dict[Key, object] = {}  # reads under way, by the token each was given

    def __len__(self) -> int:
        return len(self._texts)

    def get(self, key: Key) -> str | None:
        """The kept text of ``key``; None when it is not kept."""
        return self._texts.get(key)

    def reading(self, key: Key) -> object:
        """Before reading ``key`` from storage: the token to hand to `read` after."""
        token = object()
        self._reads[key] = token
        return token

    def read(self, key: Key, text: str | None, token: object) -> None:
        """``key`` read from storage as ``text`` (None: missing), by the read `reading`
        gave ``token``; kept unless a write or a clear came in between."""
        if self._reads.get(key) is not token:
            return
        del self._reads[key]
        if text is None or len(text) > self.max_text:
            return
        if len(self._texts) >= self.entries:
            del self._texts[next(iter(self._texts))]
        self._texts[key] = text

    def wrote(self, key: Key, text: str) -> None:
        """``key`` now holds ``text`` in storage (committed)."""
        self._reads.pop(key, None)
        if key in self._texts:
            if len(text) > self.max_text:
                del self._texts[key]
            else:
                self._texts[key] = text

    def deleted(self, key: Key) -> None:
        self._reads.pop(key, None)
        self._texts.pop(key, None)

    def clear(self) -> None:
        """Forget everything: after a write whose outcome is unknown, or a bulk change."""
        self._texts.clear()
        self._reads.clear()


_shared: weakref.WeakValueDictionary[str, RecordCache] = weakref.WeakValueDictionary()


def cache_for(scope: str) -> RecordCache:
    """The one cache of a database (``scope``: the file) in this process, however many
    backends have it open: each tells it of its own writes."""
    found = _shared.get(scope)
    if found is None:
        found = _shared[scope] = RecordCache()
    return found
