"""Action-item lint: names what keeps an action from being done and checked.

An action is good when it says what changes, has exactly one owner, a due date that
is not in the past, a way to verify completion, and a known kind. Each problem comes
with a hint that shows the better form. Pure: `today` is passed in by the caller.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from .errors import ValidationError
from .texts import ACTION_KIND_LABELS
from .values import parse_date

ACTION_KINDS: tuple[str, ...] = tuple(ACTION_KIND_LABELS)
FIELDS = ("what", "owner", "due", "verify", "kind")

# Values people type when they mean "nobody yet".
_PLACEHOLDERS = {
    "", "-", "--", "?", "??", "tbd", "tba", "todo", "to do", "n/a", "na", "none",
    "unknown", "unassigned", "someone", "somebody", "later", "x",
}  # fmt: skip

# Owner words that name a group or a rotation rather than one person.
_GROUP_RE = re.compile(
    r"\b(team|teams|we|us|our|everyone|everybody|all|both|they|them|group|squad|crew|"
    r"folks|people|staff|department|dept|committee|whoever|anyone|anybody|"
    r"on[- ]call|rotation)\b",
    re.IGNORECASE,
)
# Joiners between several names. Word boundaries keep "Anderson" or "Orla" safe.
_JOIN_RE = re.compile(r"\b(and|or)\b|[&/,+;]", re.IGNORECASE)
# Every pattern here must stay linear in the text: an e-mail may only start where a run
# of address characters starts (the lookbehind), and its parts are possessive, so no
# position is scanned twice; a plain `[\w.+-]+@` retried at each position was quadratic
# (a 60,000-character owner took 10 s). `_after` covers a match that ends mid-run.
_EMAIL_BODY = r"[\w.+-]++@[\w-]++(?:\.[\w-]++)+"
_EMAIL_RE = re.compile(r"(?<![\w.+-])" + _EMAIL_BODY)
_EMAIL_AT = re.compile(_EMAIL_BODY)
_MASK_RE = re.compile("\x00(\\d+)\x00")
_BRACKETS = {"(": ")", "[": "]"}
# Text beyond this is not linted: no real field comes close (owner <= 120, what <= 500),
# and it bounds the work one request can cause.
MAX_LINT_CHARS = 2_000
# A single person's role that happens to contain a group word.
_ROLE_RE = re.compile(r"\bteam[- ](lead|leader|manager|captain)\b", re.IGNORECASE)

_OWNER_EXAMPLE = "Priya (ops manager)"
_VERIFY_EXAMPLE = (
    "'The release checklist in the wiki has the new approval step, and the next two "
    "releases show it ticked'"
)
_WHAT_EXAMPLE = "'Add a second-approver step to the deploy pipeline for database changes'"

# (pattern, why it is vague, a better form). Ordered: longer phrases first.
_VAGUE: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), why, better)
    for pattern, why, better in (
        (r"\bimprov\w* (the |our )?(communication|collaboration|coordination|"
         r"process(es)?|visibility|awareness|quality)\b",
         "names a wish, not a change",
         "'Support lead posts a written status update in the launch channel every 30 minutes'"),
        (r"\bbe (more )?(careful|vigilant|attentive|aware)\b",
         "asks people to try harder instead of changing the work",
         "'Add a second-approver step to the deploy pipeline for database changes'"),
        (r"\b(look(ing)? into|investigat\w*|explor\w*|dig into)\b",
         "describes research with no agreed result",
         "'Write up why the disk alert did not page, with a proposed fix, in the review doc'"),
        (r"\b(consider\w*|think about|revisit\w*)\b",
         "leaves the decision open",
         "'Decide whether to retire the legacy queue and record the decision in the review doc'"),
        (r"\b(try|attempt) to\b",
         "promises an attempt, not an outcome",
         "state the change as done"),
        (r"\b(ensure|ensures|make sure)\b",
         "states a goal without the mechanism",
         "'CI blocks the merge when the migration check fails'"),
        (r"\b(better|more (robust|reliable|resilient|stable|efficient)|robust)\b",
         "has no measure of done",
         "'Page the on-call engineer when checkout errors exceed 2% for 5 minutes'"),
        (r"\b(as|when|where|if) (needed|necessary|appropriate|possible|required)\b",
         "does not say when it applies",
         "name the trigger, e.g. 'for every release that touches the payments service'"),
        (r"\b(raise awareness|remind (everyone|people|the team)|going forward)\b",
         "relies on memory rather than a change to the work",
         "'Add the step to the onboarding checklist for new on-call engineers'"),
        (r"\b(asap|soon|eventually)\b",
         "puts timing in the text instead of a date",
         "remove it and set the due date field"),
        (r"\b(etc|and so on|somehow)\b\.?",
         "leaves part of the work to guesswork",
         "list every item the action covers"),
    )
)  # fmt: skip


@dataclass(frozen=True)
class LintProblem:
    """One thing to fix in one action field."""

    code: str
    field: str
    message: str
    hint: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def lint_action(item: Mapping[str, Any], today: date) -> list[LintProblem]:
    """All problems of one action, in field order (what, owner, due, verify, kind)."""
    if not isinstance(item, Mapping):
        raise ValidationError("an action item must be an object")
    problems: list[LintProblem] = []
    problems += _lint_what(_text(item.get("what")))
    problems += _lint_owner(_text(item.get("owner")))
    problems += _lint_due(item.get("due"), today)
    problems += _lint_verify(_text(item.get("verify")))
    problems += _lint_kind(_text(item.get("kind")))
    return problems


def lint_actions(items: Sequence[Mapping[str, Any]], today: date) -> dict[str, list[LintProblem]]:
    """Problems per action id (the item's "id", else its 0-based index as text).

    Every action gets an entry, so an empty list means that action is clean.
    """
    result: dict[str, list[LintProblem]] = {}
    for index, item in enumerate(items):
        key = item.get("id") if isinstance(item, Mapping) else None
        result[str(key) if key not in (None, "") else str(index)] = lint_action(item, today)
    return result


def is_clean(problems: Sequence[LintProblem] | Mapping[str, Sequence[LintProblem]]) -> bool:
    """True when there is nothing to fix, for one action's list or a whole `lint_actions`."""
    if isinstance(problems, Mapping):
        return all(not p for p in problems.values())
    return not problems


def problems_to_dict(
    problems: Mapping[str, Sequence[LintProblem]],
) -> dict[str, list[dict[str, str]]]:
    """JSON-ready form of a `lint_actions` result."""
    return {key: [p.to_dict() for p in found] for key, found in problems.items()}


def _text(value: Any) -> str:
    return value[:MAX_LINT_CHARS].strip() if isinstance(value, str) else ""


def _shown(value: Any) -> str:
    """A bad value quoted in a message: text as written (bounded), anything else by kind."""
    if isinstance(value, str):
        return value[:200]
    if isinstance(value, bool) or value is None:
        return "true/false" if isinstance(value, bool) else "nothing"
    if isinstance(value, int | float):
        text = str(value) if isinstance(value, float) or abs(value) < 10**30 else ""
        return text or "a number"
    return "a list" if isinstance(value, list | tuple) else "a value of the wrong kind"


def _is_placeholder(text: str) -> bool:
    return text.lower().strip(" .!") in _PLACEHOLDERS


def _lint_what(what: str) -> list[LintProblem]:
    if _is_placeholder(what):
        return [
            LintProblem(
                "missing-what",
                "what",
                "The action does not say what will change.",
                f"Describe the change itself, e.g. {_WHAT_EXAMPLE}.",
            )
        ]
    problems = []
    seen: list[tuple[int, int]] = []
    for pattern, why, better in _VAGUE:
        for match in pattern.finditer(what):
            span = match.span()
            if any(span[0] < end and start < span[1] for start, end in seen):
                continue  # part of a longer phrase already reported
            seen.append(span)
            phrase = match.group(0).rstrip(".")
            if better == "state the change as done":
                better = f"'{_without(what, match)}'"
            if better.startswith("'"):
                hint = f"Say what will be different when it is done, e.g. {better}."
            else:
                hint = better[:1].upper() + better[1:] + "."
            problems.append(LintProblem("vague-wording", "what", f"'{phrase}' {why}.", hint))
            break
    return problems


def _without(text: str, match: re.Match[str]) -> str:
    """The action text with a hedge like 'try to' removed, as a rewritten example."""
    rest = " ".join((text[: match.start()] + text[match.end() :]).split())
    return rest[:1].upper() + rest[1:] if rest else _WHAT_EXAMPLE.strip("'")


def _lint_owner(owner: str) -> list[LintProblem]:
    if _is_placeholder(owner):
        return [
            LintProblem(
                "missing-owner",
                "owner",
                "The action has no owner.",
                f"Name one person, e.g. '{_OWNER_EXAMPLE}'.",
            )
        ]
    # Mask e-mail addresses ("ops-team@x.io", "a+b@x.io") so their parts are not read
    # as group words or joiners; they are put back when quoting names in the hint.
    emails, core = _mask_emails(owner)
    core = _ROLE_RE.sub(" ", _strip_brackets(core))
    group = _GROUP_RE.search(core)
    joiner = _JOIN_RE.search(core)
    if not group and not joiner:
        return []
    if group:
        message = f"'{group.group(0)}' names a group, and shared ownership tends to mean none."
    else:
        message = f"'{owner}' looks like more than one person."
    names = [
        p.strip() for p in _JOIN_RE.split(core) if p and p.strip() and not _JOIN_RE.fullmatch(p)
    ]
    names = [_unmask(n, emails) for n in names if not _GROUP_RE.search(n)]
    if joiner and joiner.group(0) == "," and len(names) == 2 and "@" not in names[1]:
        hint = (
            f"Name one person; if '{names[1]}' is a role, put it in brackets: "
            f"'{names[0]} ({names[1]})'."
        )
    elif names:
        hint = (
            f"Name one person, e.g. '{names[0]}', and mention the others in the "
            "action text if they help."
        )
    else:
        hint = f"Name one person who answers for it, e.g. '{_OWNER_EXAMPLE}'; others can help."
    return [LintProblem("shared-owner", "owner", message, hint)]


def _find_emails(text: str) -> list[re.Match[str]]:
    """Like `finditer` of the plain e-mail pattern (leftmost, non-overlapping), in linear
    time: a match right after the previous one may start mid-run, so it is tried there."""
    found: list[re.Match[str]] = []
    pos = 0
    while pos <= len(text):
        match = (_EMAIL_AT.match(text, pos) if found else None) or _EMAIL_RE.search(text, pos)
        if match is None:
            break
        found.append(match)
        pos = match.end()
    return found


def _mask_emails(text: str) -> tuple[list[str], str]:
    """The addresses in `text`, and `text` with each replaced by a numbered marker."""
    matches = _find_emails(text)
    parts: list[str] = []
    last = 0
    for i, match in enumerate(matches):
        parts += [text[last : match.start()], f"\x00{i}\x00"]
        last = match.end()
    parts.append(text[last:])
    return [m.group(0) for m in matches], "".join(parts)


def _strip_brackets(text: str) -> str:
    """Each '(…)' or '[…]' (up to the first closer) becomes a space, in one pass.

    Same result as `re.sub(r"\\([^)]*\\)|\\[[^\\]]*\\]", " ", text)`, whose retry at every
    unclosed bracket made it quadratic.
    """
    out: list[str] = []
    unclosed: set[str] = set()  # no closer anywhere after: later openers cannot match
    i = 0
    while i < len(text):
        closer = _BRACKETS.get(text[i])
        if closer is not None and text[i] not in unclosed:
            end = text.find(closer, i + 1)
            if end >= 0:
                out.append(" ")
                i = end + 1
                continue
            unclosed.add(text[i])
        out.append(text[i])
        i += 1
    return "".join(out)


def _unmask(text: str, emails: list[str]) -> str:
    def put_back(match: re.Match[str]) -> str:
        index = int(match.group(1))
        return emails[index] if index < len(emails) else match.group(0)

    return _MASK_RE.sub(put_back, text) if "\x00" in text else text


def _lint_due(value: Any, today: date) -> list[LintProblem]:
    example = (today + timedelta(days=14)).isoformat()
    if isinstance(value, str):
        value = value[:MAX_LINT_CHARS]
    if value is None or (isinstance(value, str) and _is_placeholder(value)):
        return [
            LintProblem(
                "missing-due",
                "due",
                "The action has no due date.",
                f"Set a date like '{example}' (YYYY-MM-DD).",
            )
        ]
    try:
        due = parse_date(value)
    except (ValueError, OverflowError):
        return [
            LintProblem(
                "bad-due",
                "due",
                f"'{_shown(value)}' is not a date.",
                f"Write the date as YYYY-MM-DD, e.g. '{example}'.",
            )
        ]
    if due < today:
        return [
            LintProblem(
                "past-due",
                "due",
                f"The due date {due.isoformat()} has passed.",
                f"Pick a date from today on, e.g. '{example}'.",
            )
        ]
    return []


def _lint_verify(verify: str) -> list[LintProblem]:
    if _is_placeholder(verify) or verify.lower() in {"done", "check", "verify", "yes"}:
        return [
            LintProblem(
                "missing-verification",
                "verify",
                "The action does not say how completion will be checked.",
                f"Say what anyone can look at to confirm it, e.g. {_VERIFY_EXAMPLE}.",
            )
        ]
    return []


def _lint_kind(kind: str) -> list[LintProblem]:
    allowed = ", ".join(ACTION_KINDS)
    if not kind:
        return [
            LintProblem(
                "missing-kind", "kind", "The action has no kind.", f"Choose one of: {allowed}."
            )
        ]
    if kind in ACTION_KINDS:
        return []
    slug = re.sub(r"[\s_]+", "-", kind.lower())
    if slug in ACTION_KINDS:
        hint = f"Write it as '{slug}'."
    else:
        hint = f"Choose one of: {allowed}."
    return [LintProblem("bad-kind", "kind", f"'{kind}' is not a known action kind.", hint)]
