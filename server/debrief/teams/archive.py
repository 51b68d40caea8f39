"""A team's archive of reviews: the reviews index, its search and filters, and counts.

Every list here reads index rows (a small JSON summary per review), never a review's
records or docs, so a team with thousands of reviews still answers at once. The index
is kept current by `review_changed`, called whenever a review record is saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from debrief.meeting.agenda import DEFAULT_TEMPLATE, TEMPLATES
from debrief.meeting.review import STATUSES as REVIEW_STATUSES
from debrief.storage.base import IndexEntry, Storage
from debrief.teams.keys import review_status_index, reviews_index, team_of

SCAN_PAGE = 500  # index rows read at a time while filtering
MAX_LIMIT = 100


def kind_of(template: str, previous: str = "") -> str:
    """A review's kind: its built-in agenda template. A saved template ("saved:<id>")
    says nothing about the kind, so the review keeps the kind it had."""
    if template in TEMPLATES:
        return template
    return previous or DEFAULT_TEMPLATE


def search_text(review: Mapping[str, Any]) -> str:
    """What a search matches: title, the event and the question, lowercased."""
    scope = review.get("scope")
    if not isinstance(scope, dict):
        scope = {}
    parts = [review.get("title"), scope.get("event"), scope.get("question")]
    return " ".join(str(p) for p in parts if isinstance(p, str) and p.strip()).casefold()


def review_summary(review: Mapping[str, Any], kind: str, actions: int = 0) -> dict[str, Any]:
    """The index row of a review (see PLAN12 "Index summaries")."""
    summary: dict[str, Any] = {
        "id": str(review.get("id", "")),
        "title": str(review.get("title", "")),
        "status": str(review.get("status") or "draft"),
        "kind": kind,
        "created_ms": int(review.get("created_ms") or 0),
        "closed_ms": review.get("closed_ms") if isinstance(review.get("closed_ms"), int) else None,
        "search": search_text(review),
        "actions": actions,
    }
    return summary


@dataclass(frozen=True)
class ReviewQuery:
    """Filters of the reviews list; each one optional."""

    q: str = ""
    status: str = ""
    kind: str = ""
    since: date | None = None
    until: date | None = None
    offset: int = 0
    limit: int = 50

    @property
    def score_range(self) -> tuple[float, float]:
        """created_ms bounds: from the start of `since` to the end of `until` (UTC)."""
        low = _day_ms(self.since) if self.since else float("-inf")
        high = _day_ms(self.until + timedelta(days=1)) - 1 if self.until else float("inf")
        return low, high

    def matches(self, summary: Mapping[str, Any]) -> bool:
        if self.kind and summary.get("kind") != self.kind:
            return False
        if self.status and summary.get("status") != self.status:
            return False
        text = str(summary.get("search", ""))
        return all(term in text for term in self.q.casefold().split())


def _day_ms(day: date) -> float:
    return datetime.combine(day, time(0), tzinfo=UTC).timestamp() * 1000


def public_summary(entry: IndexEntry) -> dict[str, Any]:
    """An index row as the API shows it (the search text is ours)."""
    return {k: v for k, v in entry.data.items() if k != "search"}


class Archive:
    """The reviews index of every team (storage-backed, stateless)."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def review_changed(
        self, review: Mapping[str, Any], template: str, actions: int | None = None
    ) -> None:
        """Put a saved review into its team's index (and the index of its status)."""
        team_id, review_id = team_of(dict(review)), str(review["id"])
        index = reviews_index(team_id)
        old = await self.storage.index_get(index, review_id)
        previous = old.data if old is not None else {}
        if actions is None:
            actions = int(previous.get("actions") or 0)
        summary = review_summary(review, kind_of(template, previous.get("kind", "")), actions)
        score = float(summary["created_ms"])
        await self.storage.index_put(index, review_id, score, summary)
        await self.storage.index_put(
            review_status_index(team_id, summary["status"]), review_id, score, summary
        )
        old_status = previous.get("status")
        if isinstance(old_status, str) and old_status != summary["status"]:
            await self.storage.index_remove(review_status_index(team_id, old_status), review_id)

    async def forget(self, team_id: str, review_id: str) -> None:
        """Take a review out of every review index of its team."""
        await self.storage.index_remove(reviews_index(team_id), review_id)
        for status in REVIEW_STATUSES:
            await self.storage.index_remove(review_status_index(team_id, status), review_id)

    async def summary(self, team_id: str, review_id: str) -> dict[str, Any] | None:
        entry = await self.storage.index_get(reviews_index(team_id), review_id)
        return entry.data if entry is not None else None

    async def list_reviews(
        self, team_id: str, query: ReviewQuery
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of a team's reviews, newest first, and how many match in all."""
        index = (
            review_status_index(team_id, query.status) if query.status else reviews_index(team_id)
        )
        low, high = query.score_range
        if not query.q and not query.kind:
            # The index itself is the answer: page through it, count it.
            rows = await self.storage.index_range(
                index, low=low, high=high, offset=query.offset, limit=query.limit, reverse=True
            )
            total = await self.storage.index_count(index, low=low, high=high)
            return [public_summary(r) for r in rows], total
        # Text or kind: read the range in pages and keep the rows that match.
        page: list[dict[str, Any]] = []
        total = 0
        start = 0
        while True:
            rows = await self.storage.index_range(
                index, low=low, high=high, offset=start, limit=SCAN_PAGE, reverse=True
            )
            for row in rows:
                if query.matches(row.data):
                    if query.offset <= total < query.offset + query.limit:
                        page.append(public_summary(row))
                    total += 1
            if len(rows) < SCAN_PAGE:
                return page, total
            start += SCAN_PAGE

    async def counts(self, team_id: str) -> dict[str, int]:
        """Reviews per status: index counts only."""
        return {
            s: await self.storage.index_count(review_status_index(team_id, s))
            for s in REVIEW_STATUSES
        }
