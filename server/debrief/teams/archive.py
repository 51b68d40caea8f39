"""A team's archive of reviews: the reviews index, its search and filters, and counts.

Every list here reads index rows, never a review's records or docs, so a team with
thousands of reviews still answers at once. Search reads term indexes: each word of a
review's title, event and question, and each of its prefixes from three letters, lists
the reviews that have it (with their status and kind), so a query reads the rows of its
rarest word instead of every review. `review_changed`, called whenever a review record
is saved, keeps all of them current.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from debrief.meeting.agenda import DEFAULT_TEMPLATE, TEMPLATES
from debrief.meeting.review import STATUSES as REVIEW_STATUSES
from debrief.storage.base import IndexEntry, Storage
from debrief.teams.keys import (
    review_kind_index,
    review_status_index,
    review_term_index,
    reviews_index,
    team_of,
)

MAX_LIMIT = 100
MIN_PREFIX = 3  # "che" finds "checkout"; shorter query words must be whole words
MAX_PREFIX = 20  # longer query words are looked up by their first 20 letters, then checked
MAX_WORD = 40
MAX_TERMS = 300  # per review: a long scope text indexes its first words only
_WORD = re.compile(r"\w+")


def search_terms(text: str) -> set[str]:
    """The terms a review is found by: its words and their prefixes (see MIN/MAX_PREFIX)."""
    terms: set[str] = set()
    for word in _WORD.findall(text.casefold()):
        word = word[:MAX_WORD]
        terms.add(word)
        terms.update(word[:n] for n in range(MIN_PREFIX, min(len(word), MAX_PREFIX) + 1))
        if len(terms) >= MAX_TERMS:
            break
    return terms


def query_words(q: str) -> list[str]:
    return [word[:MAX_WORD] for word in _WORD.findall(q.casefold())]


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

    def keeps(self, status: Any, kind: Any) -> bool:
        """Whether a review of this status and kind passes the status and kind filters."""
        return (not self.status or status == self.status) and (not self.kind or kind == self.kind)


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
        """Put a saved review into its team's indexes: all reviews, its status, its kind
        and the terms of its text (only the rows that changed are written)."""
        team_id, review_id = team_of(dict(review)), str(review["id"])
        index = reviews_index(team_id)
        old = await self.storage.index_get(index, review_id)
        previous = old.data if old is not None else {}
        if actions is None:
            actions = int(previous.get("actions") or 0)
        summary = review_summary(review, kind_of(template, previous.get("kind", "")), actions)
        score = float(summary["created_ms"])
        status, kind = summary["status"], summary["kind"]
        await self.storage.index_put(index, review_id, score, summary)
        await self.storage.index_put(
            review_status_index(team_id, status), review_id, score, summary
        )
        old_status, old_kind = previous.get("status"), previous.get("kind")
        if isinstance(old_status, str) and old_status != status:
            await self.storage.index_remove(review_status_index(team_id, old_status), review_id)
        if isinstance(old_kind, str) and old_kind != kind:
            await self.storage.index_remove(review_kind_index(team_id, old_kind), review_id)
        if old_status != status or old_kind != kind:
            await self.storage.index_put(
                review_kind_index(team_id, kind), review_id, score, {"s": status}
            )
        old_terms = search_terms(str(previous.get("search", ""))) if previous else set()
        new_terms = search_terms(summary["search"])
        for term in old_terms - new_terms:
            await self.storage.index_remove(review_term_index(team_id, term), review_id)
        # every term row carries status and kind: rewrite them all when those change
        fresh = new_terms if (old_status, old_kind) != (status, kind) else new_terms - old_terms
        for term in sorted(fresh):
            await self.storage.index_put(
                review_term_index(team_id, term), review_id, score, {"s": status, "k": kind}
            )

    async def forget(self, team_id: str, review_id: str) -> None:
        """Take a review out of every review index of its team."""
        old = await self.storage.index_get(reviews_index(team_id), review_id)
        await self.storage.index_remove(reviews_index(team_id), review_id)
        for status in REVIEW_STATUSES:
            await self.storage.index_remove(review_status_index(team_id, status), review_id)
        if old is not None:
            await self.storage.index_remove(
                review_kind_index(team_id, str(old.data.get("kind", ""))), review_id
            )
            for term in search_terms(str(old.data.get("search", ""))):
                await self.storage.index_remove(review_term_index(team_id, term), review_id)

    async def summary(self, team_id: str, review_id: str) -> dict[str, Any] | None:
        entry = await self.storage.index_get(reviews_index(team_id), review_id)
        return entry.data if entry is not None else None

    async def list_reviews(
        self, team_id: str, query: ReviewQuery
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of a team's reviews, newest first, and how many match in all."""
        low, high = query.score_range
        words = query_words(query.q)
        if not words and not query.kind:
            # The index itself is the answer: page through it, count it.
            index = (
                review_status_index(team_id, query.status)
                if query.status
                else reviews_index(team_id)
            )
            rows = await self.storage.index_range(
                index, low=low, high=high, offset=query.offset, limit=query.limit, reverse=True
            )
            total = await self.storage.index_count(index, low=low, high=high)
            return [public_summary(r) for r in rows], total
        if len(words) == 1 and len(words[0]) <= MAX_PREFIX and not query.status and not query.kind:
            # One word, no filter: its term index is the answer, paged like the index.
            term = review_term_index(team_id, words[0])
            rows = await self.storage.index_range(
                term, low=low, high=high, offset=query.offset, limit=query.limit, reverse=True
            )
            total = await self.storage.index_count(term, low=low, high=high)
            return await self._summaries(team_id, [r.member for r in rows]), total
        found = await self._matching(team_id, words, query, low, high)
        page = found[query.offset : query.offset + query.limit]
        return await self._summaries(team_id, page), len(found)

    async def _summaries(self, team_id: str, review_ids: list[str]) -> list[dict[str, Any]]:
        """The index rows of these reviews, in this order, in one read."""
        entries = await self.storage.index_get_many(reviews_index(team_id), review_ids)
        return [public_summary(e) for e in entries if e is not None]

    async def _matching(
        self, team_id: str, words: list[str], query: ReviewQuery, low: float, high: float
    ) -> list[str]:
        """Ids of the reviews that pass every filter, newest first: the rows of the rarest
        word (or of the kind), narrowed by the other words' rows and the filters."""
        if not words:
            rows = await self.storage.index_range(
                review_kind_index(team_id, query.kind), low=low, high=high, reverse=True
            )
            return [r.member for r in rows if query.keeps(r.data.get("s"), query.kind)]
        names = {word: review_term_index(team_id, word[:MAX_PREFIX]) for word in words}
        sizes = {word: await self.storage.index_count(name) for word, name in names.items()}
        rarest = min(words, key=lambda w: (sizes[w], w))
        if sizes[rarest] == 0:
            return []
        rows = await self.storage.index_range(names[rarest], low=low, high=high, reverse=True)
        found = [r.member for r in rows if query.keeps(r.data.get("s"), r.data.get("k"))]
        for word in words:
            if word == rarest or not found:
                continue
            others = await self.storage.index_range(names[word], low=low, high=high)
            members = {r.member for r in others}
            found = [member for member in found if member in members]
        long_words = [w for w in words if len(w) > MAX_PREFIX]
        if long_words and found:  # looked up by their first letters: check the whole word
            found = [m for m in found if await self._has_words(team_id, m, long_words)]
        return found

    async def _has_words(self, team_id: str, review_id: str, words: list[str]) -> bool:
        entry = await self.storage.index_get(reviews_index(team_id), review_id)
        terms = search_terms(str(entry.data.get("search", ""))) if entry else set()
        return all(any(term.startswith(word) for term in terms) for word in words)

    async def counts(self, team_id: str) -> dict[str, int]:
        """Reviews per status: index counts only."""
        return {
            s: await self.storage.index_count(review_status_index(team_id, s))
            for s in REVIEW_STATUSES
        }
