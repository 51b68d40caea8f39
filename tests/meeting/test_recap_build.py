import json
import re
from typing import Any

import pytest

from debrief.meeting import recap as rc
from debrief.meeting import review as rv
from debrief.meeting.recap_shape import SECTIONS

XSS = "<img src=x onerror=alert(1)>"


def make_review(**extra: Any) -> dict[str, Any]:
    review = rv.new_review("Checkout outage on 1 May")
    review = rv.apply_review_patch(
        review,
        {
            "scope": {
                "event": "Checkout returned errors for 40 minutes",
                "question": "Why did detection take 25 minutes?",
                "window_start": "2024-05-01T09:00:00Z",
                "window_end": "2024-05-01T12:00:00Z",
                "expected_output": "Findings, owned actions, a runbook update",
            },
            "baseline_metrics": [
                {"name": "Availability", "planned": 99.9, "actual": 99.2, "unit": "%"}
            ],
            "evidence_links": [{"url": "https://tickets.example.com/INC-7", "title": "INC-7"}],
        },
    )
    return {**review, "status": "live", **extra}


EVENTS = [
    {"time": "2024-05-01T10:20:00Z", "text": "Rollback decided", "source": "decision",
     "link": "", "markers": ["decision-under-uncertainty"]},
    {"time": "2024-05-01T09:55:00Z", "text": "Disk alert", "source": "alert",
     "link": "https://alerts.example.com/1", "markers": ["first-signal"]},
    {"time": "2024-05-01T10:00:00Z", "text": "Unmarked log line", "source": "log",
     "link": "", "markers": []},
]  # fmt: skip
THEMES = [
    {"id": "t1", "title": "Alert routed to an unwatched channel", "category": "information-gap",
     "votes": 2},
    {"id": "t2", "title": "No runbook for disk pressure", "category": "process-gap", "votes": 5},
    {"id": "t3", "title": "Nobody owned the handoff", "category": "process-gap", "votes": 1},
    {"id": "t4", "title": "Clear incident channel", "section": "worked-well", "votes": 3},
]  # fmt: skip
NOTES = [
    {"id": "n1", "text": "Runbook link was dead", "kind": "contributing-factor", "theme_id": "t2"},
    {"id": "n2", "text": "Pager went to old rota", "kind": "contributing-factor", "theme_id": None,
     "votes": 4},
    {"id": "n3", "text": "Quick rollback", "kind": "worked-well", "votes": 4},
    {"id": "n4", "text": "Answer to prompt", "kind": "questionnaire"},
]  # fmt: skip
ACTIONS = [
    {"id": "a1", "what": "Add a disk-pressure runbook", "owner": "Priya (SRE)",
     "due": "2024-06-01", "verify": "Runbook linked from the alert",
     "kind": "immediate-remediation"},
]  # fmt: skip


def build(**kwargs: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "review": make_review(),
        "timeline_events": EVENTS,
        "themes": THEMES,
        "notes": NOTES,
        "actions": ACTIONS,
        "scribe_text": "Group agreed the wording.",
        "signoffs": 4,
        "version": None,
    }
    args.update(kwargs)
    return rc.build_recap(**args)


def test_sections_content() -> None:
    recap = build(follow_ups=["Share with the payments leads", "  "])
    assert recap["format"] == "debrief.recap/1"
    assert recap["title"] == "Checkout outage on 1 May"
    assert recap["status"] == "live" and recap["version"] is None
    assert recap["scope"]["question"] == "Why did detection take 25 minutes?"
    assert recap["baseline_metrics"] == [
        {"name": "Availability", "planned": 99.9, "actual": 99.2, "unit": "%"}
    ]
    assert [e["text"] for e in recap["timeline"]] == ["Disk alert", "Rollback decided"]
    assert recap["follow_ups"] == ["Share with the payments leads"]
    assert recap["signoffs"] == 4
    assert recap["actions"] == [{k: v for k, v in ACTIONS[0].items() if k != "id"}]
    json.dumps(recap)


def test_contributing_factors_grouped_and_sorted_by_votes() -> None:
    groups = build()["contributing_factors"]
    assert [g["category"] for g in groups] == ["process-gap", "information-gap", "ungrouped"]
    assert groups[0]["label"] == "Process gap"
    assert groups[0]["total_votes"] == 6
    assert [t["title"] for t in groups[0]["themes"]] == [
        "No runbook for disk pressure",
        "Nobody owned the handoff",
    ]
    assert groups[0]["themes"][0]["notes"] == ["Runbook link was dead"]
    assert groups[2]["themes"] == [{"title": "Pager went to old rota", "votes": 4, "notes": []}]


def test_worked_well_merges_themes_and_loose_notes() -> None:
    assert build()["worked_well"] == [
        {"title": "Quick rollback", "votes": 4, "notes": []},
        {"title": "Clear incident channel", "votes": 3, "notes": []},
    ]


def test_hidden_votes_stay_hidden() -> None:
    hidden = [{**t, "votes": None} for t in THEMES]
    recap = build(themes=hidden)
    assert recap["contributing_factors"][0]["themes"][0]["votes"] is None
    assert "votes hidden" in rc.to_markdown(recap)


def test_content_hash_is_stable_and_ignores_version_and_status() -> None:
    recap = build()
    digest = rc.content_hash(recap)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert rc.content_hash(dict(reversed(list(recap.items())))) == digest
    final = rc.finalize(recap, 2, "2024-05-02T10:00:00Z")
    assert final["status"] == "closed"
    assert final["version"] == {"number": 2, "hash": digest, "finalized_at": "2024-05-02T10:00:00Z"}
    assert rc.content_hash(final) == digest  # anyone can re-check a finalized export
    assert rc.content_hash({**recap, "scribe_text": "changed"}) != digest


def md_sections(markdown: str) -> dict[str, str]:
    parts = re.split(r"^## (.+)$", markdown, flags=re.MULTILINE)
    return {parts[i]: parts[i + 1].strip() for i in range(1, len(parts), 2)}


def test_markdown_has_fixed_sections_in_order() -> None:
    markdown = rc.to_markdown(build())
    assert re.findall(r"^## (.+)$", markdown, flags=re.MULTILINE) == [
        "Scope",
        "Baseline metrics",
        "Timeline",
        "Contributing factors",
        "What worked well",
        "Questionnaire answers",
        "Action items",
        "Follow-ups",
        "Parked topics",
        "Notes from the scribe",
    ]
    assert markdown.startswith("# Checkout outage on 1 May\n")
    assert "Status: Live · Version: Draft" in markdown
    assert "Sign-offs: 4" in markdown


def test_markdown_section_contents() -> None:
    sections = md_sections(rc.to_markdown(build(follow_ups=["Tell finance"])))
    assert "**Business question:** Why did detection take 25 minutes?" in sections["Scope"]
    assert "2024-05-01T09:00:00Z to 2024-05-01T12:00:00Z" in sections["Scope"]
    assert "[INC-7](<https://tickets.example.com/INC-7>)" in sections["Scope"]
    assert "| Availability | 99.9 | 99.2 | % |" in sections["Baseline metrics"]
    timeline = sections["Timeline"].splitlines()
    assert timeline[0].startswith("- 2024-05-01T09:55:00Z · Disk alert (alert; First signal)")
    assert "Unmarked" not in sections["Timeline"]
    factors = sections["Contributing factors"]
    assert factors.index("### Process gap") < factors.index("### Information gap")
    assert "- No runbook for disk pressure (5 votes)\n  - Runbook link was dead" in factors
    assert "- Nobody owned the handoff (1 vote)" in factors
    assert sections["What worked well"].splitlines()[0] == "- Quick rollback (4 votes)"
    assert sections["Action items"] == (
        "1. Add a disk-pressure runbook (Owner: Priya (SRE); Due: 2024-06-01; "
        "Verified by: Runbook linked from the alert; Kind: Immediate remediation)"
    )
    assert sections["Follow-ups"] == "- Tell finance"
    assert sections["Notes from the scribe"] == "Group agreed the wording."


def test_markdown_empty_sections_and_finalized_header() -> None:
    recap = rc.build_recap({"title": "Empty", "status": "live"}, [], [], [], [], "", 0, None)
    final = rc.finalize(recap, 1, "2024-05-02T10:00:00Z")
    markdown = rc.to_markdown(final)
    assert (
        f"Version 1 · sha256 {final['version']['hash']} · finalized 2024-05-02T10:00:00Z"
        in markdown
    )
    assert "Status: Closed" in markdown
    assert all(body == "None recorded." for body in md_sections(markdown).values())


def test_markdown_close_reason() -> None:
    recap = build(review=make_review(close_reason="Owner is on leave until June"))
    assert recap["close_reason"] == "Owner is on leave until June"
    actions = md_sections(rc.to_markdown(recap))["Action items"]
    assert "Reason given: Owner is on leave until June" in actions


def test_markdown_user_text_cannot_add_sections_or_html() -> None:
    recap = build(
        review=make_review(title="Title\n## Injected"),
        scribe_text="# Heading\n## Also\n" + XSS,
        actions=[{**ACTIONS[0], "what": "line one\n## Sneaky"}],
    )
    markdown = rc.to_markdown(recap)
    assert len(re.findall(r"^## ", markdown, flags=re.MULTILINE)) == len(SECTIONS)
    assert not re.search(r"(?<!\\)<img", markdown)  # only backslash-escaped, shown as text
    assert "\\<img src=x onerror=alert(1)\\>" in markdown


def test_markdown_refuses_non_http_links() -> None:
    review = make_review()
    review["evidence_links"] = [{"url": "javascript:alert(1)", "title": "click"}]
    markdown = rc.to_markdown(build(review=review))
    assert "javascript:" not in markdown


def everywhere(text: str) -> dict[str, Any]:
    """A recap where every user-controlled string is `text`."""
    review = make_review(title=text, close_reason=text)
    review["scope"] = dict.fromkeys(review["scope"], text)
    review["baseline_metrics"] = [{"name": text, "planned": text, "actual": text, "unit": text}]
    review["evidence_links"] = [{"url": "https://x.io/?q=" + text, "title": text}]
    return build(
        review=review,
        timeline_events=[{"time": "2024-05-01T10:00:00Z", "text": text, "source": text,
                          "link": "https://x.io/" + text, "markers": [text]}],
        themes=[{"id": "t", "title": text, "category": text, "votes": 1},
                {"id": "w", "title": text, "section": "worked-well", "votes": 1}],
        notes=[{"text": text, "kind": "contributing-factor", "theme_id": "t"}],
        actions=[dict.fromkeys(("what", "owner", "due", "verify", "kind"), text)],
        scribe_text=text,
        follow_ups=[text],
    )  # fmt: skip


def test_html_escapes_all_user_text() -> None:
    page = rc.to_html(everywhere(XSS))
    assert "<img" not in page
    assert "onerror=alert(1)>" not in page
    assert page.count("&lt;img src=x onerror=alert(1)&gt;") >= 15
    assert "<script" not in page


def test_markdown_everywhere_escaped() -> None:
    markdown = rc.to_markdown(everywhere(XSS))
    assert not re.search(r"(?<!\\)<img", markdown)
    assert len(re.findall(r"^## ", markdown, flags=re.MULTILINE)) == len(SECTIONS)


def test_html_attribute_injection_is_escaped() -> None:
    page = rc.to_html(everywhere('" onmouseover="alert(1)'))
    assert 'onmouseover="alert(1)' not in page
    assert "&quot; onmouseover=&quot;alert(1)" in page


def test_html_is_self_contained_and_print_friendly() -> None:
    page = rc.to_html(build())
    assert page.startswith("<!DOCTYPE html>")
    assert "<style>" in page and "@media print" in page
    assert not re.search(r"<(script|link)\b", page)
    assert re.search(r"src=|@import", page) is None
    for key, heading in rc.SECTIONS:
        assert f'<section id="{key}"><h2>{heading}</h2>' in page
    assert '<a href="https://tickets.example.com/INC-7">INC-7</a>' in page
    assert "Rollback decided" in page and "Unmarked log line" not in page


def test_html_non_http_link_is_plain_text() -> None:
    review = make_review()
    review["evidence_links"] = [{"url": "javascript:alert(1)", "title": "click"}]
    page = rc.to_html(build(review=review))
    assert "javascript:" not in page
    assert "<li>Evidence: click</li>" in page


def test_json_export_round_trips() -> None:
    recap = rc.finalize(build(), 1, "2024-05-02T10:00:00Z")
    exported = rc.to_json(recap)
    assert json.loads(exported) == recap
    assert rc.content_hash(json.loads(exported)) == recap["version"]["hash"]


@pytest.mark.parametrize("votes", [0, 1, 2, None])
def test_votes_text(votes: int | None) -> None:
    from debrief.meeting.recap_render import votes_text

    expected = {0: "0 votes", 1: "1 vote", 2: "2 votes", None: "votes hidden"}[votes]
    assert votes_text(votes) == expected


def test_the_scribe_chooses_which_events_the_recap_keeps() -> None:
    events = [
        {**EVENTS[0], "recap": "drop"},  # marked, but left out
        EVENTS[1],  # marked: in by default
        {**EVENTS[2], "recap": "keep"},  # unmarked, but kept
        {"time": "2024-05-01T10:40:00Z", "text": "Error rate back to normal", "source": "log",
         "link": "", "markers": ["resolved"]},
    ]  # fmt: skip
    kept = [e["text"] for e in build(timeline_events=events)["timeline"]]
    assert kept == ["Disk alert", "Unmarked log line", "Error rate back to normal"]


def test_questionnaire_answers_sit_under_their_questions() -> None:
    review = make_review()
    review["questionnaire"] = ["What went well?", "What slowed us down?"]
    notes = [
        {"id": "q1", "text": "Paging", "kind": "questionnaire", "prompt": 1,
         "question": "What slowed us down?"},
        {"id": "q2", "text": "Rollback", "kind": "questionnaire", "prompt": 0},  # older version
        {"id": "q3", "text": "Docs", "kind": "questionnaire", "prompt": 1,
         "question": "What slowed us down?"},
    ]  # fmt: skip
    assert build(review=review, notes=notes)["questionnaire"] == [
        {"question": "What went well?", "answers": ["Rollback"]},
        {"question": "What slowed us down?", "answers": ["Docs", "Paging"]},
    ]
