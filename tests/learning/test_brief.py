"""A learning brief from frozen recaps: its sections, its sources, the team's table of
training responses, and an HTML page where nobody's text can become markup."""

from typing import Any

import pytest

from debrief.learning import brief as bf
from debrief.learning import facts
from debrief.meeting import recap as rc

DAY = 86_400_000


def frozen(title: str, *, theme: str, notes: list[str], category: str) -> dict[str, Any]:
    themes = [
        {"id": "t1", "title": "Unrelated tooling gripe", "category": "tooling", "votes": 1},
        {"id": "t2", "title": theme, "category": category, "votes": 4},
        {"id": "t3", "title": "Quick rollback", "section": "worked-well", "votes": 2},
    ]
    revealed = [{"id": f"n{i}", "text": t, "kind": "contributing-factor", "theme_id": "t2"}
                for i, t in enumerate(notes)]  # fmt: skip
    timeline: list[dict[str, Any]] = [
        {"id": "e1", "time": "2026-03-01T09:00:00Z", "text": "Disk alert fired",
         "markers": ["first-signal"]},
        {"id": "e2", "time": "2026-03-01T09:05:00Z", "text": "Coffee break", "recap": "keep"},
        {"id": "e3", "time": "2026-03-01T09:40:00Z",
         "text": "Status page update went out late", "recap": "keep"},
        {"id": "e4", "time": "2026-03-01T10:00:00Z", "text": "Resolved",
         "markers": ["resolved"]},
    ]  # fmt: skip
    actions = [
        {"what": "Send status page updates every 30 minutes", "owner": "Omar Khan",
         "due": "2026-04-01", "verify": "Next incident's updates are 30 minutes apart",
         "kind": "preventive-control"},
        {"what": "Replace the disk", "owner": "Lena", "due": "2026-04-01",
         "verify": "New disk in place", "kind": "immediate-remediation"},
    ]  # fmt: skip
    recap = rc.build_recap({"title": title}, timeline, themes, revealed, actions, "", 0)
    return rc.finalize(recap, 1, "2026-03-02T00:00:00Z")


def test_theme_ids_are_those_of_the_facts() -> None:
    recap = frozen("A", theme="Late status updates", notes=["x"], category="information-gap")
    by_facts = {t["id"]: t["title"] for t in facts.themes(recap)}
    assert {k: v["title"] for k, v in bf.recap_themes(recap).items()} == by_facts
    assert by_facts["ww1"] == "Quick rollback"


def scenarios() -> list[bf.Scenario]:
    found = []
    pairs = [
        ("Checkout outage", "Late status updates"),
        ("Search slowdown", "Customers heard late"),
    ]
    for n, (title, theme) in enumerate(pairs, 1):
        notes = [f"Updates <b>late</b> in {title}", "# not a heading"]
        recap = frozen(title, theme=theme, notes=notes, category="information-gap")
        theme_id = next(k for k, v in bf.recap_themes(recap).items() if v["title"] == theme)
        review = {"id": f"r{n}", "title": title, "closed_ms": n * 30 * DAY}
        one = bf.scenario(review, recap, theme_id)
        assert one is not None
        found.append(one)
    return found


def test_the_brief_has_every_section_from_the_frozen_recaps() -> None:
    found = scenarios()
    response = bf.choose_response(bf.DEFAULT_RESPONSES, found)
    assert response is not None and response["id"] == "late-updates"
    text = bf.build_markdown("Stakeholders hear late", found, response)
    assert text.startswith("# Learning brief: Stakeholders hear late\n")
    for heading in ("## The recurring finding", "## Scenarios", "## A better response",
                    "## Checklist", "## How the team will tell it worked"):  # fmt: skip
        assert f"\n{heading}\n" in text
    assert "came up in 2 reviews between 1970-01-31 and 1970-03-02, with 8 votes" in text
    assert "### Scenario 1: Checkout outage" in text and "### Scenario 2: Search slowdown" in text
    # the excerpt: the event that speaks of the theme and the turning points, not the break
    assert "Status page update went out late" in text and "Disk alert fired" in text
    assert "Coffee break" not in text
    assert "> Updates \\<b\\>late\\</b\\> in Checkout outage" in text
    assert "> \\# not a heading" in text  # a note cannot open a heading of its own
    assert "- [ ] Send status page updates every 30 minutes (preventive control)" in text
    assert "Replace the disk" not in text  # not about the theme
    assert "- Next incident's updates are 30 minutes apart" in text
    assert "Omar" not in text and "Lena" not in text  # owners are not written in at all
    assert response["response"] in text


def test_the_html_shows_every_text_as_text() -> None:
    text = bf.build_markdown("Late <script>alert(1)</script>", scenarios(), None)
    page = bf.to_html(text + "\nSome **bold** words", "Late <b>", "Draft")
    assert "<script>" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<h1>Learning brief: Late &lt;script&gt;" in page
    assert "<blockquote><p>Updates &lt;b&gt;late&lt;/b&gt; in Checkout outage</p>" in page
    assert '<ul class="checklist"><li>☐ Send status page updates' in page
    assert "<p># not a heading</p>" in page and "<strong>bold</strong>" in page


def test_the_team_table_is_checked_and_chosen_from() -> None:
    rows = bf.check_responses([
        {"finding": "Alerts go to the wrong rota", "response": "A rota drill",
         "categories": ["information-gap"]},
        {"id": "other", "finding": "Anything else", "response": "A talk", "categories": []},
    ])  # fmt: skip
    assert rows[0]["id"] == "alerts-go-to-the-wrong-rota" and rows[0]["origin"] == "team"
    assert bf.choose_response(rows, scenarios())["id"] == "alerts-go-to-the-wrong-rota"  # type: ignore[index]
    assert bf.choose_response(rows, scenarios(), "other")["response"] == "A talk"  # type: ignore[index]
    assert bf.choose_response(rows, scenarios(), "nope") is None
    with pytest.raises(ValueError, match="row 1"):
        bf.check_responses([{"finding": "x", "response": "y", "categories": ["weather"]}])
    with pytest.raises(ValueError, match="used twice"):
        bf.check_responses([{"id": "a", "finding": "x", "response": "y"}] * 2)
    assert len(bf.check_responses(list(bf.DEFAULT_RESPONSES))) == len(bf.DEFAULT_RESPONSES)
