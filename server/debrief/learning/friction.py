"""Highest friction: which recurring theme costs the team most, and why.

Pure. Groups are ranked by three numbers, in this order (the next one only breaks a tie
of the one before, so the reason is easy to tell):
1. recurrence: how many distinct reviews the theme came up in;
2. votes: the votes its themes got across those reviews;
3. actions not verified: actions of those reviews still open, in progress, or done but
   not verified (a fix nobody has checked has not closed the loop yet).
Remaining ties go by group name, then id, so the ranking is stable.

The reason says the numbers and which of them put the group above the next one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Statuses that still ask something of someone (teams/keys.py PENDING_STATUSES).
NOT_VERIFIED = ("open", "in-progress", "done")
CRITERIA = ("reviews", "votes", "actions not verified")


@dataclass(frozen=True)
class GroupFigures:
    """The numbers of one group that friction is ranked on."""

    id: str
    name: str
    reviews: int
    votes: int
    open: int = 0
    in_progress: int = 0
    done: int = 0

    @property
    def not_verified(self) -> int:
        return self.open + self.in_progress + self.done

    def key(self) -> tuple[int, int, int, str, str]:
        return (-self.reviews, -self.votes, -self.not_verified, self.name.casefold(), self.id)

    def numbers(self) -> tuple[int, int, int]:
        return (self.reviews, self.votes, self.not_verified)


def count_actions(
    review_ids: Iterable[str], statuses: Mapping[str, Sequence[str]]
) -> dict[str, int]:
    """Pending actions of these reviews by status; ``statuses``: review id -> the statuses
    of its actions. A review counted once even when listed twice."""
    counts = dict.fromkeys(NOT_VERIFIED, 0)
    for review_id in dict.fromkeys(review_ids):
        for status in statuses.get(review_id, ()):
            if status in counts:
                counts[status] += 1
    return counts


def describe(group: GroupFigures) -> str:
    """The numbers as words: "in 4 reviews, 23 votes, 5 actions not verified"."""
    parts = [
        _plural(group.reviews, "review", "in "),
        _plural(group.votes, "vote"),
        _plural(group.not_verified, "action") + " not verified",
    ]
    text = ", ".join(parts)
    detail = [
        f"{n} {label}"
        for n, label in (
            (group.open, "open"),
            (group.in_progress, "in progress"),
            (group.done, "done awaiting verification"),
        )
        if n
    ]
    return text + (f" ({', '.join(detail)})" if detail else "")


def rank(groups: Iterable[GroupFigures]) -> list[dict[str, Any]]:
    """Groups by friction, highest first, each with its rank, numbers and reason."""
    ordered = sorted(groups, key=GroupFigures.key)
    ranked = []
    for i, group in enumerate(ordered):
        following = ordered[i + 1] if i + 1 < len(ordered) else None
        decided, reason = _reason(group, following)
        ranked.append(
            {
                "rank": i + 1,
                "id": group.id,
                "name": group.name,
                "reviews": group.reviews,
                "votes": group.votes,
                "actions": {
                    "open": group.open,
                    "in-progress": group.in_progress,
                    "done": group.done,
                    "not_verified": group.not_verified,
                },
                "decided_by": decided,
                "reason": reason,
            }
        )
    return ranked


def _reason(group: GroupFigures, following: GroupFigures | None) -> tuple[str, str]:
    """Which number put ``group`` above the next one, and the sentence saying so."""
    numbers = describe(group)
    if following is None:
        return "", numbers
    for criterion, mine, theirs in zip(CRITERIA, group.numbers(), following.numbers(), strict=True):
        if mine != theirs:
            return (
                criterion,
                f"{numbers}; ahead of “{following.name}” on {criterion} ({mine} vs {theirs})",
            )
    return "tie", f"{numbers}; level with “{following.name}” on every number"


def _plural(n: int, word: str, prefix: str = "") -> str:
    return f"{prefix}{n} {word}{'' if n == 1 else 's'}"
