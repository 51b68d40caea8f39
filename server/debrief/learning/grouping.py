"""Recurring themes: which themes of different reviews say the same thing.

Pure. The input is the themes of closed reviews (from the facts index) and what people
decided before (the team's kept grouping: confirmed groups and split pairs); the output
is the confirmed groups with the themes that belong to them, plus suggestions.

How a suggestion is made, so the same input always gives the same answer whatever
order it came in:
- themes are sorted by (review closed_ms, review id, theme id) first;
- titles are normalised (case folded, punctuation and a few filler words dropped) and
  compared with rapidfuzz ``token_set_ratio``; two themes are similar at SIMILAR or more;
- themes already in a confirmed group stay there. A theme in no confirmed group is
  suggested for the confirmed group it resembles most (its name or a member), unless a
  person split it from a member of that group;
- the rest are clustered by single linkage, strongest pairs first (ties: earlier theme
  first): each similar pair of themes from different reviews joins their clusters
  unless the joined cluster would hold two themes a person split apart. Clusters of two
  or more themes become suggested groups.

A theme ref is "<review id>:<theme id>".
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process

SIMILAR = 80.0  # token_set_ratio from which two titles say the same thing
MAX_THEMES = 1_000  # themes grouped at once, the newest (pairs grow with the square)
_FILLER = frozenset(
    "a an the of to and or in on for at by with was were is are be been it its this that "
    "we our".split()
)
_NOT_WORD = re.compile(r"[^\w]+")


@dataclass(frozen=True)
class Theme:
    """One theme of one closed review."""

    review_id: str
    theme_id: str
    title: str
    closed_ms: int = 0
    votes: int = 0
    category: str = ""

    @property
    def ref(self) -> str:
        return theme_ref(self.review_id, self.theme_id)

    def order(self) -> tuple[int, str, str]:
        return (self.closed_ms, self.review_id, self.theme_id)


@dataclass
class Group:
    """Themes that say the same thing. ``confirmed`` groups were kept by a person;
    ``suggested`` holds themes the server thinks belong to a confirmed group too."""

    id: str
    name: str
    themes: list[Theme]
    confirmed: bool
    suggested: list[Theme] = field(default_factory=list)

    @property
    def refs(self) -> list[str]:
        return [t.ref for t in self.themes]

    @property
    def review_ids(self) -> list[str]:
        """Distinct reviews of the group's themes, oldest first."""
        seen: dict[str, None] = {}
        for theme in sorted(self.themes, key=Theme.order):
            seen.setdefault(theme.review_id, None)
        return list(seen)

    @property
    def votes(self) -> int:
        return sum(t.votes for t in self.themes)


@dataclass(frozen=True)
class Kept:
    """What people decided: confirmed groups ({id, name, refs}) and split pairs."""

    groups: Sequence[Mapping[str, Any]] = ()
    splits: Iterable[Sequence[str]] = ()

    def split_set(self) -> set[frozenset[str]]:
        return {frozenset(pair) for pair in self.splits if len(set(pair)) == 2}


def theme_ref(review_id: str, theme_id: str) -> str:
    return f"{review_id}:{theme_id}"


def parse_ref(ref: str) -> tuple[str, str] | None:
    """(review id, theme id), or None when ``ref`` is not "<review>:<theme>"."""
    review_id, sep, theme_id = ref.partition(":")
    if not sep or not review_id or not theme_id:
        return None
    return review_id, theme_id


def normalise(title: str) -> str:
    """The words of a title that carry its meaning, for comparing."""
    text = unicodedata.normalize("NFKC", title).casefold()
    words = [w for w in _NOT_WORD.sub(" ", text).split() if w not in _FILLER]
    return " ".join(words) if words else text.strip()


def similarity(a: str, b: str) -> float:
    """0..100: how alike two normalised titles are."""
    if not a or not b:
        return 0.0
    return float(fuzz.token_set_ratio(a, b))


def suggestion_id(refs: Iterable[str]) -> str:
    """A suggested group's id: the same themes give the same id."""
    digest = hashlib.sha256("\n".join(sorted(refs)).encode()).hexdigest()
    return "s-" + digest[:12]


def group_themes(themes: Iterable[Theme], kept: Kept = Kept()) -> list[Group]:
    """Confirmed groups (with suggested additions), then suggested groups; see above.

    Confirmed groups come in the order they were kept; suggested ones by their first
    theme. Confirmed groups none of whose themes are in ``themes`` are left out."""
    ordered = _unique_sorted(themes)[-MAX_THEMES:]
    words = {t.ref: normalise(t.title) for t in ordered}
    splits = kept.split_set()
    by_ref = {t.ref: t for t in ordered}

    confirmed: list[Group] = []
    placed: set[str] = set()
    names: dict[str, str] = {}
    for record in kept.groups:
        members = [by_ref[r] for r in record.get("refs", ()) if r in by_ref and r not in placed]
        members.sort(key=Theme.order)
        placed.update(t.ref for t in members)
        name = str(record.get("name") or (members[0].title if members else ""))
        names[str(record.get("id"))] = normalise(name)
        confirmed.append(Group(str(record.get("id")), name, members, True))

    loose = [t for t in ordered if t.ref not in placed]
    still_loose: list[Theme] = []
    for theme in loose:
        target = _best_confirmed(theme, confirmed, names, words, splits)
        if target is None:
            still_loose.append(theme)
        else:
            target.suggested.append(theme)

    shown = [g for g in confirmed if g.themes or g.suggested]
    return shown + _cluster(still_loose, words, splits)


def _unique_sorted(themes: Iterable[Theme]) -> list[Theme]:
    unique = {t.ref: t for t in sorted(themes, key=lambda t: (*t.order(), t.title))}
    return sorted(unique.values(), key=Theme.order)


def _best_confirmed(
    theme: Theme,
    groups: Sequence[Group],
    names: Mapping[str, str],
    words: Mapping[str, str],
    splits: set[frozenset[str]],
) -> Group | None:
    """The confirmed group a loose theme resembles most (first kept wins a tie)."""
    best: tuple[float, Group] | None = None
    mine = words[theme.ref]
    for group in groups:
        if any(frozenset((theme.ref, m.ref)) in splits for m in group.themes):
            continue
        scores = [similarity(mine, names[group.id])]
        scores += [similarity(mine, words[m.ref]) for m in group.themes]
        score = max(scores)
        if score >= SIMILAR and (best is None or score > best[0]):
            best = (score, group)
    return best[1] if best else None


def _cluster(
    themes: Sequence[Theme], words: Mapping[str, str], splits: set[frozenset[str]]
) -> list[Group]:
    """Single-linkage clusters, strongest pairs first, never across a split pair."""
    texts = [words[t.ref] for t in themes]
    pairs = [
        (-score, i, j)
        for score, i, j in _similar_pairs(texts)
        if themes[i].review_id != themes[j].review_id  # recurrence is across reviews
    ]
    pairs.sort()

    parent = list(range(len(themes)))
    members: dict[int, list[int]] = {i: [i] for i in range(len(themes))}
    # theme index -> the indexes of the themes a person split from it
    apart: dict[int, set[int]] = {}
    at = {t.ref: i for i, t in enumerate(themes)}
    for pair in splits:
        x, y = (at.get(r) for r in pair)
        if x is not None and y is not None:
            apart.setdefault(x, set()).add(y)
            apart.setdefault(y, set()).add(x)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for _, i, j in pairs:
        ri, rj = root(i), root(j)
        if ri == rj:
            continue
        if apart and any(root(y) == rj for x in members[ri] for y in apart.get(x, ())):
            continue
        low, high = min(ri, rj), max(ri, rj)
        parent[high] = low
        members[low].extend(members.pop(high))

    groups = []
    for first in sorted(members):
        found = [themes[k] for k in sorted(members[first])]
        if len(found) < 2:
            continue
        groups.append(Group(suggestion_id(t.ref for t in found), _name(found), found, False))
    return groups


def _similar_pairs(texts: Sequence[str]) -> list[tuple[float, int, int]]:
    """Every pair (score, i, j), i < j, of titles similar at SIMILAR or more. Each title
    is scored against the ones after it in one rapidfuzz call (its C++ loop), which is
    ~10x faster than a pair at a time from Python: 1,000 near-identical titles took 2 s
    in Python, here well under one."""
    pairs: list[tuple[float, int, int]] = []
    for i, text in enumerate(texts[:-1]):
        if not text:
            continue
        later = texts[i + 1 :]
        found = process.extract(
            text, later, scorer=fuzz.token_set_ratio, score_cutoff=SIMILAR, limit=None
        )
        pairs += [(float(score), i, i + 1 + k) for _, score, k in found if later[k]]
    return pairs


def _name(themes: Sequence[Theme]) -> str:
    """A suggested group's name: the title of its most voted theme (earliest on a tie)."""
    return min(themes, key=lambda t: (-t.votes, t.order())).title
