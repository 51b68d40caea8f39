import json
from collections.abc import Callable

import pytest

from debrief.meeting import importers as im
from debrief.meeting.errors import TimelineImportError, ValidationError

CSV = """time,text,source,link,markers
2024-05-01T10:02:00Z,Disk alert fired on db-2,alert,https://alerts.example.com/1,first-signal
2024-05-01T10:00:00+00:00,"Nightly job started, writing 2 GB",log,,
2024-05-01T12:15:00+02:00,On-call acknowledged,chat,,First response; handoff
"""


def fails(parse: object, text: str, fragment: str, line: int | None = None) -> TimelineImportError:
    with pytest.raises(TimelineImportError) as info:
        parse(text)  # type: ignore[operator]
    assert fragment in info.value.detail, info.value.detail
    if line is not None:
        assert info.value.line == line
    return info.value


# ---------------------------------------------------------------- CSV


def test_csv_parses_sorts_and_normalises() -> None:
    events = im.parse_csv(CSV)
    assert events == [
        {
            "time": "2024-05-01T10:00:00Z",
            "text": "Nightly job started, writing 2 GB",
            "source": "log",
            "link": "",
            "markers": [],
        },
        {
            "time": "2024-05-01T10:02:00Z",
            "text": "Disk alert fired on db-2",
            "source": "alert",
            "link": "https://alerts.example.com/1",
            "markers": ["first-signal"],
        },
        {
            "time": "2024-05-01T10:15:00Z",
            "text": "On-call acknowledged",
            "source": "chat",
            "link": "",
            "markers": ["first-response", "handoff"],
        },
    ]
    json.dumps(events)  # plain data


def test_csv_minimal_columns_bom_blank_lines_and_epoch() -> None:
    text = "\ufeffTime,Text\n\n1714557600,Started\n  ,  \n1714557600000,Same moment in ms\n"
    events = im.parse_csv(text)
    assert [e["time"] for e in events] == ["2024-05-01T10:00:00Z"] * 2
    assert [e["text"] for e in events] == ["Started", "Same moment in ms"]  # stable order
    assert all(e["source"] == "other" for e in events)


def test_csv_multiline_quoted_field_reports_start_line() -> None:
    text = 'time,text\n2024-05-01T10:00:00Z,"two\nlines"\nyesterday,bad\n'
    fails(im.parse_csv, text, "line 4: time", line=4)
    assert im.parse_csv(text.replace("yesterday,bad\n", ""))[0]["text"] == "two\nlines"


@pytest.mark.parametrize(
    ("text", "fragment", "line"),
    [
        ("", "header row is missing", 1),
        ("time,body\n", "unknown column 'body'", 1),
        ("text,source\n", "no 'time' column", 1),
        ("time,text,time\n", "appears twice", 1),
        ("time,text\n2024-05-01T10:00:00Z,ok\n2024-05-01T10:00:00,naive\n", "no time zone", 3),
        ("time,text\n2024-05-01T10:00:00Z,ok\nnot-a-time,x\n", "line 3: time", 3),
        ("time,text\n2024-05-01T10:00:00Z,\n", "line 2: text is empty", 2),
        ("time,text,source\n2024-05-01T10:00:00Z,x,pager\n", "source 'pager' is not one of", 2),
        ("time,text,link\n2024-05-01T10:00:00Z,x,javascript:alert(1)\n", "not an http(s) URL", 2),
        ("time,text,markers\n2024-05-01T10:00:00Z,x,root-cause\n", "marker 'root-cause'", 2),
        ("time,text\n2024-05-01T10:00:00Z,x,extra\n", "expected 2 columns, found 3", 2),
        ("time,text\n2024-05-01T10:00:00Z\n", "expected 2 columns, found 1", 2),
        ('time,text\n2024-05-01T10:00:00Z,"unterminated\n', "line 2", 2),
        ("time,text\n\n\n", "no events", None),
    ],
)
def test_csv_errors(text: str, fragment: str, line: int | None) -> None:
    fails(im.parse_csv, text, fragment, line)


def test_csv_text_limit() -> None:
    text = f"time,text\n2024-05-01T10:00:00Z,{'a' * 2001}\n"
    fails(im.parse_csv, text, "2001 characters long; the limit is 2000", line=2)
    ok = f"time,text\n2024-05-01T10:00:00Z,{'a' * 2000}\n"
    assert len(im.parse_csv(ok)[0]["text"]) == 2000


def test_csv_event_limit() -> None:
    rows = "".join(f"{1714557600 + i},event {i}\n" for i in range(im.MAX_EVENTS))
    assert len(im.parse_csv("time,text\n" + rows)) == im.MAX_EVENTS
    err = fails(im.parse_csv, "time,text\n" + rows + "1714557600,one more\n", "more than 5000")
    assert err.line == im.MAX_EVENTS + 2


# ---------------------------------------------------------------- JSON lines


def test_jsonl_parses() -> None:
    text = (
        '{"time": "2024-05-01T10:00:00Z", "text": "Deploy 42 started", "source": "deploy"}\n'
        "\n"
        '{"time": 1714557660, "text": "Rollback decided", "source": "decision",'
        ' "markers": ["decision-under-uncertainty"], "link": "http://wiki/x"}\n'
    )
    events = im.parse_jsonl(text)
    assert [e["source"] for e in events] == ["deploy", "decision"]
    assert events[1]["time"] == "2024-05-01T10:01:00Z"
    assert events[1]["markers"] == ["decision-under-uncertainty"]


@pytest.mark.parametrize(
    ("text", "fragment", "line"),
    [
        ('{"time": "2024-05-01T10:00:00Z", "text": "a"}\n{oops}\n', "line 2: invalid JSON", 2),
        ('["time", "text"]\n', "line 1: expected a JSON object", 1),
        ('{"time": "2024-05-01T10:00:00Z", "txt": "a"}\n', "unknown field 'txt'", 1),
        ('{"text": "a"}\n', "line 1: time: the time is missing", 1),
        ('{"time": "2024-05-01T10:00:00Z", "text": 5}\n', "text is empty", 1),
        ('{"time": "2024-05-01T10:00:00Z", "text": "a", "markers": 3}\n', "markers must be", 1),
        ('{"time": "2024-05-01T10:00:00Z", "text": "a", "markers": [1]}\n', "marker 1", 1),
        ('{"time": "2024-05-01T10:00:00Z", "text": "a", "source": 7}\n', "source 7", 1),
        ("\n\n", "no events", None),
    ],
)
def test_jsonl_errors(text: str, fragment: str, line: int | None) -> None:
    fails(im.parse_jsonl, text, fragment, line)


def test_nothing_half_imported() -> None:
    good = '{"time": "2024-05-01T10:00:00Z", "text": "fine"}\n'
    with pytest.raises(TimelineImportError):
        im.parse_jsonl(good * 10 + '{"time": "bad", "text": "x"}\n')


# ---------------------------------------------------------------- Slack

SLACK = [
    {"type": "message", "subtype": "channel_join", "ts": "1714557000.000100", "text": "joined"},
    {
        "ts": "1714557600.123456",
        "user": "U01",
        "user_profile": {"real_name": "Priya Raman"},
        "text": "Seeing 500s on <https://status.example.com|the status page> &amp; checkout",
    },
    {"ts": "1714557540.000000", "user": "U02", "user_name": "sam", "text": "<@U01> deploying fix"},
    {"ts": "1714557700.0", "user": "U03", "text": "", "files": [{"name": "graph.png"}]},
]


def test_slack_export() -> None:
    events = im.parse_slack_export(json.dumps(SLACK))
    assert events == [
        {
            "time": "2024-05-01T09:59:00Z",
            "text": "sam: @U01 deploying fix",
            "source": "chat",
            "link": "",
            "markers": [],
        },
        {
            "time": "2024-05-01T10:00:00.123Z",
            "text": "Priya Raman: Seeing 500s on the status page (https://status.example.com)"
            " & checkout",
            "source": "chat",
            "link": "",
            "markers": [],
        },
    ]


def test_slack_messages_object_form() -> None:
    events = im.parse_slack_export(json.dumps({"messages": SLACK[1:3]}))
    assert len(events) == 2


@pytest.mark.parametrize(
    ("data", "fragment", "line"),
    [
        ({"not": "a list"}, "JSON array of messages", None),
        ([SLACK[1], "hello"], "message 2: expected a JSON object", 2),
        ([SLACK[1], {"text": "no ts"}], "message 2: the message has no 'ts'", 2),
        ([{"ts": "soon", "text": "x"}], "message 1: time", 1),
        ([{"ts": "1714557600", "text": ["x"]}], "message 1: text is not a string", 1),
        ([{"ts": "1714557600", "text": "y" * 2001}], "message 1: text is 2001", 1),
        ([{"ts": "1714557600", "text": ""}], "no events", None),
    ],
)
def test_slack_errors(data: object, fragment: str, line: int | None) -> None:
    fails(im.parse_slack_export, json.dumps(data), fragment, line)


def test_slack_invalid_json_names_line() -> None:
    fails(im.parse_slack_export, '[\n{"ts": "1"},\n{oops}\n]', "line 3, column 2: invalid JSON", 3)


# ---------------------------------------------------------------- git log

GIT_DEFAULT = """commit 3f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a3f (HEAD -> main, origin/main)
Author: Priya Raman <priya@example.com>
Date:   Wed May 1 12:05:00 2024 +0200

    Release 2.4.1 with the cache fix

    Longer body that should not become the event text.

commit 1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e
Merge: aaaaaaa bbbbbbb
Author: Sam Lee <sam@example.com>
Date:   Wed May 1 09:30:00 2024 +0000

    Fix retry loop in payment client
"""


def test_git_default_format() -> None:
    events = im.parse_git_log(GIT_DEFAULT)
    assert [(e["time"], e["text"], e["source"]) for e in events] == [
        ("2024-05-01T09:30:00Z", "Fix retry loop in payment client", "other"),
        ("2024-05-01T10:05:00Z", "Release 2.4.1 with the cache fix", "deploy"),
    ]
    assert all(e["link"] == "" and e["markers"] == [] for e in events)


def test_git_pretty_format() -> None:
    text = (
        "3f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a3f|2024-05-01T12:05:00+02:00|Deploy canary | 5%\n"
        "1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e|2024-05-01T09:30:00Z|Tidy README\n"
    )
    events = im.parse_git_log(text)
    assert [(e["text"], e["source"]) for e in events] == [
        ("Tidy README", "other"),
        ("Deploy canary | 5%", "deploy"),
    ]


@pytest.mark.parametrize(
    ("text", "fragment", "line"),
    [
        ("abc1234|2024-05-01T09:30:00Z|ok\nnot a commit line\n", "line 2: expected", 2),
        ("abc123|2024-05-01T09:30:00Z|short sha\n", "line 1: expected", 1),
        ("abc1234|someday|Subject\n", "line 1: cannot read the date 'someday'", 1),
        ("commit abc1234\nAuthor: x\n\n    no date\n", "line 1: the commit has no 'Date:'", 1),
        ("garbage\n" + GIT_DEFAULT, "line 1: expected 'commit <sha>'", 1),
        ("commit abc1234\nDate:   Wed May 1 09:30:00 2024 +0000\n\ncommit def5678\nDate: x\n",
         "line 4: cannot read the date", 4),
    ],
)  # fmt: skip
def test_git_errors(text: str, fragment: str, line: int | None) -> None:
    fails(im.parse_git_log, text, fragment, line)


def test_git_stat_lines_are_tolerated() -> None:
    text = GIT_DEFAULT.replace(
        "    Fix retry loop in payment client\n",
        "    Fix retry loop in payment client\n\n client.py | 4 ++--\n 1 file changed\n",
    )
    events = im.parse_git_log(text)
    assert events[0]["text"] == "Fix retry loop in payment client"


def test_git_commit_without_message() -> None:
    events = im.parse_git_log("commit abc1234\nDate:   Wed May 1 09:30:00 2024 +0000\n")
    assert events[0]["text"] == "(no commit message)"


# ---------------------------------------------------------------- detection and dispatch


@pytest.mark.parametrize(
    ("filename", "text", "fmt"),
    [
        ("timeline.csv", "anything", "csv"),
        ("events.jsonl", "{}", "jsonl"),
        ("events.ndjson", "{}", "jsonl"),
        ("general.json", json.dumps(SLACK), "slack"),
        ("export.json", json.dumps({"messages": []}), "slack"),
        ("events.txt", '{"time": 1, "text": "a"}\n{"time": 2, "text": "b"}\n', "jsonl"),
        ("history.txt", GIT_DEFAULT, "git"),
        ("", "abc1234|2024-05-01T09:30:00Z|x\n", "git"),
        ("upload", "time,text\n1,a\n", "csv"),
    ],
)
def test_detect_format(filename: str, text: str, fmt: str) -> None:
    assert im.detect_format(filename, text) == fmt


def test_detect_format_unknown() -> None:
    with pytest.raises(ValidationError, match="cannot tell the file format") as info:
        im.detect_format("notes.txt", "just some words")
    assert info.value.error == "unknown-format"


def test_parse_timeline_dispatches_and_refuses_unknown_format() -> None:
    assert len(im.parse_timeline(CSV, "csv")) == 3
    assert len(im.parse_timeline(GIT_DEFAULT, "git")) == 2
    with pytest.raises(ValidationError, match="unknown timeline format 'xml'"):
        im.parse_timeline(CSV, "xml")


def test_oversized_input_refused() -> None:
    with pytest.raises(TimelineImportError, match="larger than"):
        im.parse_jsonl(" " * (im.MAX_INPUT_CHARS + 1))


@pytest.mark.parametrize(
    ("parse", "text"),
    [
        (im.parse_slack_export, "[" * 200_000),
        (im.parse_slack_export, '{"messages": ' + '{"a": ' * 100_000),
        (im.parse_jsonl, '{"time": ' + "[" * 100_000),
    ],
)
def test_deeply_nested_json_is_refused_without_recursing(
    parse: Callable[[str], object], text: str
) -> None:
    with pytest.raises(TimelineImportError, match="nested more than 32 deep"):
        parse(text)
