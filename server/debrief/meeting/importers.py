"""Timeline import: CSV, JSON lines, Slack channel export and `git log` output.

Every parser is all-or-nothing: the first bad record raises TimelineImportError naming
its 1-based line (or "message N" for a JSON array) and nothing is returned, so a
half-imported timeline never reaches the shared doc. Events come back sorted by time.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from debrief import bounded_json

from .errors import TimelineImportError, ValidationError
from .texts import EVENT_SOURCE_LABELS, MARKER_LABELS
from .values import format_utc, is_http_url, normalize_time

SOURCES: tuple[str, ...] = tuple(EVENT_SOURCE_LABELS)
MARKERS: tuple[str, ...] = tuple(MARKER_LABELS)
FORMATS: tuple[str, ...] = ("csv", "jsonl", "slack", "git")
MAX_EVENTS = 5_000
MAX_TEXT = 2_000
MAX_LINK = 2_000
MAX_INPUT_CHARS = 12_000_000  # 5,000 events of 2,000 characters plus markup
MAX_JSON_DEPTH = 32  # a Slack export nests a few levels; deeper is not an export

_EVENT_KEYS = ("time", "text", "source", "link", "markers")
_CSV_REQUIRED = ("time", "text")
# Slack message subtypes that are channel housekeeping, not part of the story.
_SLACK_SKIP = {"channel_join", "channel_leave", "channel_purpose", "channel_topic", "bot_add"}
_DEPLOY_RE = re.compile(r"\b(deploy\w*|releas\w*|roll(ed|ing)?[- ]?(out|back))\b", re.IGNORECASE)
_GIT_PRETTY_RE = re.compile(r"^([0-9a-fA-F]{7,64})\|([^|]+)\|(.*)$")
_GIT_COMMIT_RE = re.compile(r"^commit ([0-9a-fA-F]{7,64})\b")
_SLACK_LABELLED_LINK = re.compile(r"<((?:https?|mailto):[^|<>]+)\|([^<>]+)>")
_SLACK_LINK = re.compile(r"<((?:https?|mailto):[^<>]+)>")
_SLACK_MENTION = re.compile(r"<([@#!][^|<>]+)(?:\|([^<>]+))?>")
_GIT_DATE_FORMATS = ("%a %b %d %H:%M:%S %Y %z", "%Y-%m-%d %H:%M:%S %z", "%a, %d %b %Y %H:%M:%S %z")


def make_event(raw: dict[str, Any], where: str) -> dict[str, Any]:
    """Validate one raw event and return it in the stored shape; `where` prefixes errors."""

    def fail(message: str) -> TimelineImportError:
        return TimelineImportError(f"{where}: {message}", line=_number(where))

    unknown = [k for k in raw if k not in _EVENT_KEYS]
    if unknown:
        raise fail(f"unknown field {unknown[0]!r} (expected: {', '.join(_EVENT_KEYS)})")
    try:
        time = normalize_time(raw.get("time"))
    except ValueError as exc:
        raise fail(f"time: {exc}") from None
    text = raw.get("text")
    if not isinstance(text, str) or not text.strip():
        raise fail("text is empty")
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise fail(f"text is {len(text)} characters long; the limit is {MAX_TEXT}")
    source = raw.get("source") or "other"
    if not isinstance(source, str) or source.strip().lower() not in SOURCES:
        raise fail(f"source {source!r} is not one of: {', '.join(SOURCES)}")
    link = raw.get("link") or ""
    if not isinstance(link, str) or (link.strip() and not is_http_url(link.strip())):
        raise fail(f"link {link!r} is not an http(s) URL")
    if len(link) > MAX_LINK:
        raise fail(f"link is longer than {MAX_LINK} characters")
    return {
        "time": time,
        "text": text,
        "source": source.strip().lower(),
        "link": link.strip(),
        "markers": _markers(raw.get("markers"), fail),
    }


def _markers(value: Any, fail: Callable[[str], TimelineImportError]) -> list[str]:
    """Accept a list or a ';'/','-separated string; 'First signal' reads as 'first-signal'."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        items: list[Any] = re.split(r"[;,]", value)
    elif isinstance(value, list):
        items = value
    else:
        raise fail("markers must be a list or a ';'-separated string")
    result: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise fail(f"marker {item!r} is not text")
        slug = re.sub(r"[\s_]+", "-", item.strip().lower())
        if not slug:
            continue
        if slug not in MARKERS:
            raise fail(f"marker {item.strip()!r} is not one of: {', '.join(MARKERS)}")
        if slug not in result:
            result.append(slug)
    return result


def _number(where: str) -> int | None:
    match = re.search(r"\d+", where)
    return int(match.group(0)) if match else None


def _finish(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not events:
        raise TimelineImportError("the file contains no events")
    return sorted(events, key=lambda e: e["time"])  # stable: ties keep file order


def _check_count(events: list[dict[str, Any]], where: str) -> None:
    if len(events) >= MAX_EVENTS:
        raise TimelineImportError(
            f"{where}: more than {MAX_EVENTS} events; split the file", line=_number(where)
        )


def _check_size(text: str) -> str:
    if not isinstance(text, str):
        raise ValidationError("the timeline file must be text")
    if len(text) > MAX_INPUT_CHARS:
        raise TimelineImportError(f"the file is larger than {MAX_INPUT_CHARS} characters")
    return text.removeprefix("\ufeff")


def parse_csv(text: str) -> list[dict[str, Any]]:
    """CSV with a header row: time,text[,source][,link][,markers (';'-separated)]."""
    text = _check_size(text)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise TimelineImportError(f"line 1: {exc}", line=1) from None
    if not header or not any(h.strip() for h in header):
        raise TimelineImportError("line 1: the header row is missing", line=1)
    columns = [h.strip().lower() for h in header]
    for name in columns:
        if name not in _EVENT_KEYS:
            raise TimelineImportError(
                f"line 1: unknown column {name!r} (expected: {', '.join(_EVENT_KEYS)})", line=1
            )
    for name in _CSV_REQUIRED:
        if name not in columns:
            raise TimelineImportError(f"line 1: the header has no {name!r} column", line=1)
    if len(set(columns)) != len(columns):
        raise TimelineImportError("line 1: a column name appears twice", line=1)
    events: list[dict[str, Any]] = []
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise TimelineImportError(f"line {start}: {exc}", line=start) from None
        where, start = f"line {start}", reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue  # blank lines are harmless
        if len(row) != len(columns):
            raise TimelineImportError(
                f"{where}: expected {len(columns)} columns, found {len(row)}",
                line=_number(where),
            )
        _check_count(events, where)
        events.append(make_event(dict(zip(columns, row, strict=True)), where))
    return _finish(events)


def parse_jsonl(text: str) -> list[dict[str, Any]]:
    """One JSON object per line with the event fields; blank lines are skipped."""
    text = _check_size(text)
    events: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            raw = bounded_json.loads(line, max_depth=MAX_JSON_DEPTH)
        except json.JSONDecodeError as exc:
            raise TimelineImportError(f"{where}: invalid JSON ({exc.msg})", line=number) from None
        except bounded_json.JsonTooComplex as exc:
            raise TimelineImportError(f"{where}: JSON {exc}", line=number) from None
        if not isinstance(raw, dict):
            raise TimelineImportError(f"{where}: expected a JSON object", line=number)
        _check_count(events, where)
        events.append(make_event(raw, where))
    return _finish(events)


def parse_slack_export(text: str) -> list[dict[str, Any]]:
    """A Slack channel export file: a JSON array of messages (or {"messages": [...]})."""
    text = _check_size(text)
    try:
        data = bounded_json.loads(text, max_depth=MAX_JSON_DEPTH)
    except bounded_json.JsonTooComplex as exc:
        raise TimelineImportError(f"JSON {exc}") from None
    except json.JSONDecodeError as exc:
        raise TimelineImportError(
            f"line {exc.lineno}, column {exc.colno}: invalid JSON ({exc.msg})", line=exc.lineno
        ) from None
    if isinstance(data, dict) and isinstance(data.get("messages"), list):
        data = data["messages"]
    if not isinstance(data, list):
        raise TimelineImportError("a Slack export is a JSON array of messages")
    events: list[dict[str, Any]] = []
    for index, message in enumerate(data, start=1):
        where = f"message {index}"
        if not isinstance(message, dict):
            raise TimelineImportError(f"{where}: expected a JSON object", line=index)
        if message.get("subtype") in _SLACK_SKIP:
            continue
        body = message.get("text", "")
        if not isinstance(body, str):
            raise TimelineImportError(f"{where}: text is not a string", line=index)
        if not body.strip():
            continue  # file shares and reactions carry no text for the timeline
        if "ts" not in message:
            raise TimelineImportError(f"{where}: the message has no 'ts'", line=index)
        author = _slack_author(message)
        body = _slack_plain(body)
        _check_count(events, where)
        raw = {"time": message["ts"], "text": f"{author}: {body}" if author else body}
        events.append(make_event(raw | {"source": "chat"}, where))
    return _finish(events)


def _slack_author(message: dict[str, Any]) -> str:
    profile = message.get("user_profile")
    if isinstance(profile, dict):
        for key in ("real_name", "display_name"):
            if isinstance(profile.get(key), str) and profile[key].strip():
                return str(profile[key]).strip()
    for key in ("user_name", "username", "user"):
        value = message.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _slack_plain(body: str) -> str:
    """Turn Slack markup (<url|label>, <@U123>, &amp;) into plain text."""
    # A link can never contain "<": without it in the classes, an unclosed "<" cannot
    # make every later "<" rescan the rest of the text (quadratic on long messages).
    body = _SLACK_LABELLED_LINK.sub(r"\2 (\1)", body)
    body = _SLACK_LINK.sub(r"\1", body)
    body = _SLACK_MENTION.sub(lambda m: m.group(2) or m.group(1), body)
    return html.unescape(body).strip()


def parse_git_log(text: str) -> list[dict[str, Any]]:
    """`git log` default output, or `git log --pretty=format:'%H|%aI|%s'`.

    The event text is the commit subject; commits mentioning a deploy or release get
    source "deploy", all others "other".
    """
    text = _check_size(text)
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    events: list[dict[str, Any]] = []
    if _GIT_COMMIT_RE.match(first):
        for number, date_text, subject in _git_default(lines):
            _check_count(events, f"line {number}")
            events.append(_git_event(number, date_text, subject))
        return _finish(events)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        match = _GIT_PRETTY_RE.match(line.strip())
        if not match:
            raise TimelineImportError(
                f"line {number}: expected 'commit <sha>' or '<sha>|<date>|<subject>'", line=number
            )
        _check_count(events, f"line {number}")
        events.append(_git_event(number, match.group(2), match.group(3)))
    return _finish(events)


def _git_default(lines: list[str]) -> Iterator[tuple[int, str, str]]:
    """Yield (line of the commit header, date text, subject) per commit."""
    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.strip():
            index += 1
            continue
        if not _GIT_COMMIT_RE.match(line):
            raise TimelineImportError(f"line {index + 1}: expected 'commit <sha>'", line=index + 1)
        header = index + 1
        date_text, subject = None, None
        index += 1
        while index < len(lines) and not _GIT_COMMIT_RE.match(lines[index]):
            current = lines[index]
            if date_text is None and current.startswith("Date:"):
                date_text = current[5:].strip()
            elif subject is None and current.startswith("    ") and current.strip():
                subject = current.strip()
            index += 1
        if date_text is None:
            raise TimelineImportError(f"line {header}: the commit has no 'Date:' line", line=header)
        yield header, date_text, subject or ""


def _git_event(number: int, date_text: str, subject: str) -> dict[str, Any]:
    where = f"line {number}"
    time = _git_time(date_text)
    if time is None:
        raise TimelineImportError(f"{where}: cannot read the date {date_text!r}", line=number)
    subject = subject.strip() or "(no commit message)"
    source = "deploy" if _DEPLOY_RE.search(subject) else "other"
    return make_event({"time": time, "text": subject, "source": source}, where)


def _git_time(date_text: str) -> str | None:
    try:
        return normalize_time(date_text)
    except ValueError:
        pass
    for fmt in _GIT_DATE_FORMATS:
        try:
            return format_utc(datetime.strptime(date_text.strip(), fmt))
        except ValueError:
            continue
    return None


def detect_format(filename: str, text: str) -> str:
    """Guess the format from the file name, then from the content."""
    name = (filename or "").lower()
    head = _check_size(text).lstrip()
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if head.startswith("["):
        return "slack"
    if head.startswith("{"):
        try:
            whole = bounded_json.loads(head, max_depth=MAX_JSON_DEPTH)
        except ValueError:  # not one JSON document (or too deep: parsed as lines, refused there)
            return "jsonl"  # several objects, one per line
        is_slack = isinstance(whole, dict) and isinstance(whole.get("messages"), list)
        return "slack" if is_slack else "jsonl"
    first_line = head.splitlines()[0] if head else ""
    if _GIT_COMMIT_RE.match(first_line) or _GIT_PRETTY_RE.match(first_line):
        return "git"
    if "," in first_line and "time" in first_line.lower() and "text" in first_line.lower():
        return "csv"
    raise ValidationError(
        "cannot tell the file format; choose one of: " + ", ".join(FORMATS),
        error="unknown-format",
    )


_PARSERS: dict[str, Callable[[str], list[dict[str, Any]]]] = {
    "csv": parse_csv,
    "jsonl": parse_jsonl,
    "slack": parse_slack_export,
    "git": parse_git_log,
}


def event_identity(time: Any, text: Any) -> tuple[str, str]:
    """What makes two events the same one for a re-import: their time and their text,
    compared without case or spacing differences."""
    words = " ".join(str(text or "").split()).casefold()
    return str(time or "").strip(), words


def not_yet_there(
    events: list[dict[str, Any]], existing: Iterable[tuple[Any, Any]]
) -> list[dict[str, Any]]:
    """The imported events the timeline does not hold yet (existing: (time, text) pairs),
    and none twice: importing the same file again adds nothing."""
    seen = {event_identity(time, text) for time, text in existing}
    fresh = []
    for event in events:
        identity = event_identity(event.get("time"), event.get("text"))
        if identity not in seen:
            seen.add(identity)
            fresh.append(event)
    return fresh


def parse_timeline(text: str, fmt: str) -> list[dict[str, Any]]:
    """Parse `text` in the named format (see FORMATS); all-or-nothing."""
    parser = _PARSERS.get(fmt)
    if parser is None:
        raise ValidationError(
            f"unknown timeline format {fmt!r}; choose one of: {', '.join(FORMATS)}",
            error="unknown-format",
            field="format",
        )
    return parser(text)
