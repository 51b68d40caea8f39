"""Changes whose timing could name their author wait, and go out together.

Once a section is revealed, a note added, edited or deleted there, or a vote while the
counts show, would appear on every screen the moment its author acted: whoever just
typed or clicked is then plain to see. Such changes are held here and published
together: as soon as two people have something waiting, at the moderator's next reveal
or close, or after a random delay (so a lone change cannot be timed either).

Held are only *which* notes and vote sections changed; what goes out is read from the
records when published, so a process that dies with changes held loses nothing that
was stored: the next publication or reveal of that section shows it.

Sans-I/O apart from the timer: the caller publishes (meeting/publication.py).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Held:
    """What one review has waiting."""

    notes: set[str] = field(default_factory=set)  # note ids to show as their records say
    comments: set[str] = field(default_factory=set)  # theme comments, the same way
    sections: set[str] = field(default_factory=set)  # vote sections to count again
    actors: set[str] = field(default_factory=set)  # participant ids (never published)
    timer: asyncio.TimerHandle | None = None

    def __bool__(self) -> bool:
        return bool(self.notes or self.sections or self.comments)


Publish = Callable[[str], Coroutine[Any, Any, None]]


class HeldChanges:
    """Per review, what waits to be published; ``publish(review_id)`` takes it (``take``)
    and shows it. ``delay`` is the range of the random wait for a lone change."""

    def __init__(
        self,
        publish: Publish,
        delay: tuple[float, float] = (20.0, 60.0),
        rng: random.Random | None = None,
    ) -> None:
        self._publish = publish
        self.delay = delay
        self._rng = rng or random.SystemRandom()
        self._held: dict[str, Held] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def hold(
        self,
        review_id: str,
        actor: str,
        *,
        notes: Iterable[str] = (),
        sections: Iterable[str] = (),
        comments: Iterable[str] = (),
    ) -> None:
        held = self._held.setdefault(review_id, Held())
        held.notes.update(notes)
        held.comments.update(comments)
        held.sections.update(sections)
        held.actors.add(actor)
        if len(held.actors) >= 2:
            self._publish_soon(review_id)
        elif held.timer is None:
            wait = self._rng.uniform(*self.delay)
            held.timer = asyncio.get_running_loop().call_later(wait, self._publish_soon, review_id)

    def take(self, review_id: str) -> Held | None:
        """What waits for ``review_id`` (None: nothing), no longer held."""
        held = self._held.pop(review_id, None)
        if held is not None and held.timer is not None:
            held.timer.cancel()
        return held if held else None

    def waiting(self, review_id: str) -> bool:
        return bool(self._held.get(review_id))

    def _publish_soon(self, review_id: str) -> None:
        held = self._held.get(review_id)
        if held is not None and held.timer is not None:
            held.timer.cancel()
            held.timer = None
        task = asyncio.get_running_loop().create_task(self._publish(review_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
