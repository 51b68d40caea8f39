"""Anonymisation of a learning brief: people's names, emails and handles become roles.

Pure. The input is the brief's text as written (names and all) and the people known to
the reviews it came from: who attended in which role, who owns an action, who is in the
team's directory. Every name of a known person (the full name, case-insensitively, as a
whole word; the first name alone too when no other known person shares it), every
email address and every @handle in the text is replaced by what the reader may know of
that person: their role ("the moderator", "participant B", "the action owner", "a
colleague"). One person gets one label throughout the brief, whichever way they were
named. The moderator can add a replacement the detector missed (any text) or undo one
they judge harmless; both are kept as data and applied again on every change of the
text, so an edit can never bring a name back in unnoticed.

Nothing is ever added: a note without an author stays without one.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Roles from the most to the least telling; a person seen in two roles takes the first.
ROLES = ("moderator", "scribe", "owner", "participant", "observer", "colleague")
_ONE = {
    "moderator": "the moderator",
    "scribe": "the scribe",
    "owner": "the action owner",
    "participant": "a participant",
    "observer": "an observer",
    "colleague": "a colleague",
}
_MANY = {
    "moderator": "moderator",
    "scribe": "scribe",
    "owner": "action owner",
    "participant": "participant",
    "observer": "observer",
    "colleague": "colleague",
}
MAX_ADDED = 200
MAX_TEXT_SCANNED = 100_000  # a brief's text is at most this long (teams/briefs.py)
MAX_ORIGINAL = 200
MAX_REPLACEMENT = 100
# First names that are also everyday words: alone, they count only when capitalised.
_COMMON_WORDS = frozenset(
    "will may mark bill grace faith hope joy rose june april august summer dawn guy pat "
    "sue ray rob frank art bob jack max sky river ash lane page chase drew gene holly "
    "ivy victor crystal amber dean ward read hunter cash lee".split()
)
_EMAIL = re.compile(r"(?<![\w.+\-])[\w.+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
_HANDLE = re.compile(r"(?<![\w@.])@[A-Za-z0-9_][\w.\-]*")
_HEADING = re.compile(r"^#{1,6}\s+(.*)$")
_WORD = re.compile(r"\w", re.UNICODE)
_SEPARATORS = re.compile(r"[._\-+]+")
# Kinds of replacement, in the order they win where two overlap.
_PRIORITY = {"added": 0, "email": 1, "handle": 2, "name": 3, "first-name": 4}


def fold(text: str) -> str:
    """Case, accents and spacing do not make two names different."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


@dataclass
class Person:
    """Someone the brief's reviews know of; `key` is their folded full name."""

    name: str
    role: str = "colleague"
    emails: set[str] = field(default_factory=set)
    handles: set[str] = field(default_factory=set)
    key: str = field(init=False)

    def __post_init__(self) -> None:
        self.key = fold(self.name)  # the name never changes; looked up very often


class People:
    """The people of a brief, merged by folded name; each keeps their most telling role."""

    def __init__(self) -> None:
        self.by_key: dict[str, Person] = {}

    def add(self, name: str, role: str = "colleague", email: str = "", handle: str = "") -> None:
        key = fold(name)
        if not key or not _WORD.search(key):
            return
        role = role if role in ROLES else "colleague"
        person = self.by_key.get(key)
        if person is None:
            person = self.by_key[key] = Person(" ".join(name.split()), role)
        elif ROLES.index(role) < ROLES.index(person.role):
            person.role = role
        if email.strip():
            person.emails.add(email.strip().casefold())
        if handle.strip():
            person.handles.add(handle.strip().lstrip("@").casefold())

    def __iter__(self) -> Iterator[Person]:
        return iter(sorted(self.by_key.values(), key=lambda p: p.key))


@dataclass(frozen=True)
class Added:
    """A replacement the moderator added: every whole-word occurrence of `original`."""

    id: str
    original: str
    replacement: str

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "original": self.original, "replacement": self.replacement}


@dataclass(frozen=True)
class _Match:
    start: int
    end: int
    kind: str
    who: str  # person key, "email:<addr>", "handle:<h>" or the added rule's id


@dataclass
class Result:
    text: str
    replacements: list[dict[str, Any]]
    labels: dict[str, str]


def added_id(original: str) -> str:
    return "a_" + hashlib.sha256(fold(original).encode()).hexdigest()[:10]


def _bounded(term: str) -> re.Pattern[str]:
    """`term` as a whole word, case-insensitive, any run of spaces matching one."""
    parts = [re.escape(p) for p in term.split()]
    body = r"\s+".join(parts)
    return re.compile(rf"(?<![\w@]){body}(?![\w]|@\w)", re.IGNORECASE)


def _first_names(people: Iterable[Person]) -> dict[str, str]:
    """First name (folded) -> person key, for first names only one known person has."""
    seen: dict[str, set[str]] = {}
    for person in people:
        parts = person.name.split()
        if len(parts) > 1 and len(parts[0]) > 1:
            seen.setdefault(fold(parts[0]), set()).add(person.key)
    full = {p.key for p in people}
    return {first: next(iter(keys)) for first, keys in seen.items()
            if len(keys) == 1 and first not in full}  # fmt: skip


def _merged(people: Sequence[Person]) -> list[Person]:
    """One person for "Priya" (how she joined a review) and "Priya Natarajan" (the
    directory), when no other known person has that first name: one label, not two."""
    firsts: dict[str, list[Person]] = {}
    for person in people:
        if len(person.name.split()) > 1:
            firsts.setdefault(fold(person.name.split()[0]), []).append(person)
    kept: dict[str, Person] = {
        p.key: Person(p.name, p.role, set(p.emails), set(p.handles)) for p in people
    }
    for person in people:
        fuller = firsts.get(person.key, [])
        if len(person.name.split()) == 1 and len(fuller) == 1:
            target = kept[fuller[0].key]
            if ROLES.index(person.role) < ROLES.index(target.role):
                target.role = person.role
            target.emails |= person.emails
            target.handles |= person.handles
            del kept[person.key]
    return sorted(kept.values(), key=lambda p: p.key)


_TOKEN = re.compile(r"\w+")


@dataclass(frozen=True)
class _Term:
    """A name to find, as its words (folded) and what separates them ("" for spaces)."""

    words: tuple[str, ...]
    gaps: tuple[str, ...]
    kind: str
    who: str
    capitalised: bool = False  # only where the text writes it with a capital


def _word(token: str) -> str:
    return token.casefold() if token.isascii() else fold(token)


def _gap(between: str) -> str:
    return "".join(between.split())  # spaces of any kind and number count alike


def _term(term: str, kind: str, who: str, capitalised: bool = False) -> _Term | None:
    """None when `term` does not begin and end with a word character (see `_bounded`)."""
    tokens = list(_TOKEN.finditer(term))
    if not tokens or tokens[0].start() != 0 or tokens[-1].end() != len(term.rstrip()):
        return None
    words = tuple(_word(t.group()) for t in tokens)
    gaps = tuple(_gap(term[a.end() : b.start()]) for a, b in itertools.pairwise(tokens))
    return _Term(words, gaps, kind, who, capitalised)


def _scan(text: str, terms: Sequence[_Term]) -> list[_Match]:
    """Every whole-word occurrence of the terms, in one pass over the text's words
    (a regex per person would rescan a long brief once for each of them)."""
    by_first: dict[str, list[_Term]] = {}
    for term in terms:
        by_first.setdefault(term.words[0], []).append(term)
    tokens = list(_TOKEN.finditer(text))
    words = [_word(t.group()) for t in tokens]
    found: list[_Match] = []
    for i, first in enumerate(words):
        for term in by_first.get(first, ()):
            n = len(term.words)
            if i + n > len(words) or any(
                words[i + j] != term.words[j]
                or _gap(text[tokens[i + j - 1].end() : tokens[i + j].start()]) != term.gaps[j - 1]
                for j in range(1, n)
            ):
                continue
            start, end = tokens[i].start(), tokens[i + n - 1].end()
            if start and text[start - 1] == "@":
                continue  # a handle, not a name
            if text[end : end + 1] == "@" and _WORD.match(text[end + 1 : end + 2]):
                continue  # the start of an email address
            if term.capitalised and not text[start].isupper():
                continue  # "will" in a sentence is not Will
            found.append(_Match(start, end, term.kind, term.who))
    return found


def _candidates(text: str, people: Sequence[Person], added: Sequence[Added]) -> list[_Match]:
    found: list[_Match] = []
    terms: list[_Term] = []
    for rule in added:
        if not rule.original.strip():
            continue  # an empty pattern would match everywhere
        term = _term(rule.original.strip(), "added", rule.id)
        if term is None:  # e.g. "@ops-lead" or "(J.)": rare, a pattern of its own
            found += [_Match(m.start(), m.end(), "added", rule.id)
                      for m in _bounded(rule.original.strip()).finditer(text)]  # fmt: skip
        else:
            terms.append(term)
    found += [_Match(m.start(), m.end(), "email", "email:" + m.group(0).casefold())
              for m in _EMAIL.finditer(text)]  # fmt: skip
    for m in _HANDLE.finditer(text):
        handle = m.group(0).rstrip(".-")
        found.append(_Match(m.start(), m.start() + len(handle), "handle",
                            "handle:" + handle[1:].casefold()))  # fmt: skip
    for person in people:
        term = _term(person.name, "name", person.key)
        if term is not None:
            terms.append(term)
        else:
            found += [_Match(m.start(), m.end(), "name", person.key)
                      for m in _bounded(person.name).finditer(text)]  # fmt: skip
    for first, key in _first_names(people).items():
        term = _term(first, "first-name", key, capitalised=first in _COMMON_WORDS)
        if term is not None:
            terms.append(term)
    return found + _scan(text, terms)


def _chosen(found: list[_Match]) -> list[_Match]:
    """Non-overlapping matches: added rules first, then emails, handles, full names,
    first names; the longer wins within a kind."""
    starts: list[int] = []  # the taken spans, sorted and disjoint
    ends: list[int] = []
    taken: list[_Match] = []
    for match in sorted(found, key=lambda m: (_PRIORITY[m.kind], m.start - m.end, m.start)):
        at = bisect.bisect_right(starts, match.start)
        if at and ends[at - 1] > match.start:
            continue  # overlaps the span starting before it
        if at < len(starts) and starts[at] < match.end:
            continue  # overlaps the span starting after it
        starts.insert(at, match.start)
        ends.insert(at, match.end)
        taken.append(match)
    return sorted(taken, key=lambda m: m.start)


class _Owners:
    """Whose an email or handle is: the ones on record, and "scott.adler@..." or
    "@scott_adler" for Scott Adler."""

    def __init__(self, people: Sequence[Person]) -> None:
        self.keys = {p.key for p in people}
        self.emails = {e: p.key for p in people for e in p.emails}
        self.handles = {h: p.key for p in people for h in p.handles}

    def of(self, match: _Match) -> str:
        if match.kind not in ("email", "handle"):
            return match.who
        value = match.who.partition(":")[2]
        found = (self.emails if match.kind == "email" else self.handles).get(value)
        if found is not None:
            return found
        local = value.partition("@")[0] if match.kind == "email" else value
        spelled = " ".join(p for p in _SEPARATORS.split(fold(local)) if p)
        return spelled if spelled in self.keys else match.who


def _labels(order: list[str], roles: Mapping[str, str]) -> dict[str, str]:
    """One label per person, in order of first appearance: "the moderator" when a role
    has one person in the brief, "participant A", "participant B" when it has more."""
    by_role: dict[str, list[str]] = {}
    for who in order:
        by_role.setdefault(roles.get(who, "colleague"), []).append(who)
    labels: dict[str, str] = {}
    for role, members in by_role.items():
        if len(members) == 1:
            labels[members[0]] = _ONE[role]
        else:
            for index, who in enumerate(members):
                labels[who] = f"{_MANY[role]} {_letters(index)}"
    return labels


def _letters(index: int) -> str:
    """A, B, ..., Z, AA, AB, ..."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


class _Lines:
    """Where each line starts and the heading it falls under, found once per text (a
    long brief with many replacements must not be rescanned for each one)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer(r"\n", text)]
        self.sections: list[str] = []
        section = ""
        for number, begin in enumerate(self.starts):
            end = self.starts[number + 1] - 1 if number + 1 < len(self.starts) else len(text)
            heading = _HEADING.match(text[begin:end].strip())
            self.sections.append(section)  # a heading's own line is under the one before
            if heading:
                section = heading.group(1).strip()

    def line_of(self, at: int) -> int:
        return bisect.bisect_right(self.starts, at) - 1

    def where(self, at: int) -> dict[str, Any]:
        line = self.line_of(at)
        return {"section": self.sections[line], "line": line + 1,
                "column": at - self.starts[line] + 1}  # fmt: skip

    def sentence_start(self, at: int) -> bool:
        """True where a replacement begins a sentence, a line or a list item."""
        before = self.text[self.starts[self.line_of(at)] : at].rstrip(" \t")
        if re.fullmatch(r"\s*(?:[-*+>]|\d+\.|[-*+]\s*\[[ xX]\]|#{1,6})?\s*", before):
            return True
        return before.endswith((".", "!", "?", '"', "“"))


def occurrence_id(original: str, nth: int) -> str:
    """Stable across edits elsewhere: the n-th occurrence of the same (folded) text."""
    return "r_" + hashlib.sha256(f"{fold(original)}|{nth}".encode()).hexdigest()[:12]


def anonymise(
    text: str,
    people: People | Sequence[Person],
    added: Sequence[Added] = (),
    undone: Iterable[str] = (),
) -> Result:
    """The text with every detected or added replacement applied (except the undone
    ones), and the list of every replacement: id, original, replacement, kind, where
    (section, line, column), start/end in the text as written, out_start/out_end in the
    anonymised text, and whether it was undone."""
    known = _merged(list(people))
    roles = {p.key: p.role for p in known}
    rules = {rule.id: rule for rule in added}
    undone_ids = set(undone)
    matches = _chosen(_candidates(text, known, added))
    lines = _Lines(text)
    whose = _Owners(known)
    owners = [whose.of(match) for match in matches]
    order = list(dict.fromkeys(w for m, w in zip(matches, owners, strict=True)
                               if m.kind != "added"))  # fmt: skip
    labels = _labels(order, roles)
    out: list[str] = []
    replacements: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    cursor = written = 0
    for match, owner in zip(matches, owners, strict=True):
        original = text[match.start : match.end]
        nth = seen[fold(original)] = seen.get(fold(original), 0) + 1
        rid = occurrence_id(original, nth)
        if match.kind == "added":
            replacement = rules[match.who].replacement
        else:
            replacement = labels[owner]
        if lines.sentence_start(match.start):
            replacement = replacement[:1].upper() + replacement[1:]
        out.append(text[cursor : match.start])
        written += match.start - cursor
        is_undone = rid in undone_ids
        shown = original if is_undone else replacement
        out.append(shown)
        cursor = match.end
        replacements.append({
            "id": rid,
            "original": original,
            "replacement": replacement,
            "kind": match.kind,
            "rule": match.who if match.kind == "added" else None,
            "where": lines.where(match.start),
            "start": match.start,
            "end": match.end,
            "out_start": written,
            "out_end": written + len(shown),
            "undone": is_undone,
        })  # fmt: skip
        written += len(shown)
    out.append(text[cursor:])
    shown_labels = {who: label for who, label in labels.items() if who in roles}
    return Result("".join(out), replacements, shown_labels)


def leftovers(text: str, people: People | Sequence[Person]) -> list[str]:
    """Names, emails and handles of known people still in a text (a publish check)."""
    known = _merged(list(people))
    found = _chosen(_candidates(text, known, ()))
    return sorted({text[m.start : m.end] for m in found})
