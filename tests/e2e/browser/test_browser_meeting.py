"""A whole meeting in four browsers: moderator, two participants and the scribe."""

from __future__ import annotations

import json
import os
import re
import shutil
from datetime import date, timedelta

from playwright.sync_api import Locator, Page, expect

from conftest import (
    HIDDEN_COUNT,
    ROOT,
    SCREENSHOTS,
    SCRIBE_NOTES,
    People,
    Person,
    go_to_meeting,
    go_to_phase,
)

TIMELINE_CSV = """time,text,source,link
2025-03-04T09:02:00Z,Deploy 412 reaches production,deploy,https://ci.example.org/412
2025-03-04T09:09:00Z,Checkout error rate alert fires in a muted channel,alert,
2025-03-04T09:31:00Z,Support forwards the first customer reports,chat,
"""
BAD_CSV = "time,text\n2025-03-04T09:02:00Z,fine\nnot-a-time,broken row\n"


def theme(page: Page, title: str) -> Locator:
    """The card of one theme (matched by its heading, not by its menus)."""
    return page.locator(".theme", has=page.get_by_role("heading", name=title, exact=True))




def start_review(mod: Person) -> dict[str, str]:
    page = mod.page
    page.goto("/")
    page.get_by_label("What are we reviewing?").fill("Checkout errors after the Tuesday deploy")
    page.get_by_label("Your name as moderator (optional)").fill("Morgan")
    page.get_by_role("button", name="Create the review").click()
    invites = {}
    for role in ("moderator", "scribe", "participant", "observer"):
        field = page.get_by_label(f"{role.capitalize()} invite link")
        expect(field).to_have_value(re.compile(r"/j/"))
        expect(page.get_by_role("button", name=f"Copy the {role} link")).to_be_visible()
        invites[role] = field.input_value()
    mod.shot("01-start")
    page.get_by_role("button", name="Prepare the review as moderator").click()
    expect(page.get_by_role("heading", name="Scope")).to_be_visible()
    return invites


def prepare(mod: Person) -> None:
    page = mod.page
    page.get_by_label("Event under review").fill("Checkout returned errors for 40 minutes")
    page.get_by_label("The question we want answered").fill("Why did the alert not reach anyone?")
    page.locator("#scope").get_by_role("button", name="Save").click()
    expect(page.locator("#scope").get_by_text("Saved")).to_be_visible()
    page.get_by_label("Votes per person").fill("2")
    page.locator("#settings").get_by_role("button", name="Save").click()
    expect(page.locator("#settings").get_by_text("Saved")).to_be_visible()
    # A bad file is refused whole, naming its line; a good one lands in the timeline.
    file_input = page.get_by_label("Drop a file here, or choose one")
    file_input.set_input_files(
        files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": BAD_CSV.encode()}]
    )
    expect(page.locator("#import .error")).to_contain_text("line 3")
    file_input.set_input_files(
        files=[{"name": "events.csv", "mimeType": "text/csv", "buffer": TIMELINE_CSV.encode()}]
    )
    expect(page.locator("#import")).to_contain_text("Imported 3 events")
    expect(page.locator(".timeline .event")).to_have_count(3)
    # The same file again: recognised, nothing doubled.
    file_input.set_input_files(
        files=[{"name": "events.csv", "mimeType": "text/csv", "buffer": TIMELINE_CSV.encode()}]
    )
    expect(page.locator("#import")).to_contain_text("Imported 0 events")
    expect(page.locator("#import")).to_contain_text("3 were already in the timeline")
    expect(page.locator(".timeline .event")).to_have_count(3)
    mod.shot("02-prepare")


def join_before_meeting(people: People, invites: dict[str, str]) -> tuple[Person, ...]:
    ana = people.open("participant-ana")
    ana.page.goto(invites["participant"])
    expect(ana.page.get_by_role("heading", name="Join the review")).to_be_visible()
    ana.shot("03-join")
    ana.page.get_by_label("Display name (optional)").fill("Ana")
    ana.page.get_by_role("button", name="Join with this name").click()
    # Before the meeting: the pre-read and the private questionnaire.
    expect(ana.page.get_by_role("heading", name="Ground rules", exact=True)).to_be_visible()
    expect(ana.page.get_by_text("Checkout returned errors for 40 minutes")).to_be_visible()
    ana.page.get_by_label("What went better than expected?").fill("Support spotted it fast")
    ana.page.get_by_role("button", name="Save my answers").click()
    expect(ana.page.get_by_text("Saved. Only you can see them")).to_be_visible()
    ana.shot("04-pre-read")
    ben = people.join("participant-anonymous", invites["participant"])
    sam = people.join("scribe", invites["scribe"], "Sam")
    expect(sam.page.get_by_role("heading", name="Action items")).to_be_visible()
    return ana, ben, sam


def test_whole_meeting_in_four_browsers(people: People) -> None:
    mod = people.open("moderator")
    invites = start_review(mod)
    prepare(mod)
    ana, ben, sam = join_before_meeting(people, invites)
    everyone = (mod, ana, ben, sam)

    # The meeting starts; the first phase shows the ground rules.
    mod.page.get_by_role("button", name="Start the meeting").click()
    expect(mod.page.locator("header [data-status='live']")).to_be_visible()
    for p in (ana, ben):
        expect(p.page.locator("header [data-status='live']")).to_be_visible()
        p.page.get_by_role("button", name="Join the meeting").click()
    go_to_meeting(sam)
    mod.page.get_by_role("button", name=re.compile(r"^Go to phase 1:")).click()
    for p in everyone:
        expect(p.page.locator(".phase-current")).to_contain_text("Opening and ground rules")
        expect(p.page.get_by_role("heading", name="Ground rules", exact=True)).to_be_visible()
        presence = p.page.locator(".presence")
        expect(presence).to_contain_text("Here now (4)")
        for name in ("Morgan", "Ana", "Sam"):
            expect(presence).to_contain_text(name)
        expect(presence).to_contain_text("1 without a name")

    # Timer: started, then extended; every screen follows.
    mod.page.get_by_role("group", name="Timer controls").get_by_role("button", name="Start").click()
    for p in everyone:
        expect(p.page.locator(".timer")).to_have_attribute("data-status", "running")
    mod.page.get_by_label("Minutes to add").fill("5")
    mod.page.get_by_role("button", name="Add minutes").click()
    for p in everyone:
        expect(p.page.locator(".timer")).to_contain_text("extended by 5 min")
    mod.shot("05-meeting-moderator")

    # Factual summary: a side discussion runs long; anyone calls ELMO, everyone sees it.
    go_to_phase(mod, everyone, 2, "Factual summary")
    # The facts on screen for everyone; a prompt for the moderator only.
    for p in everyone:
        facts = p.page.locator(".fact-sheet")
        expect(facts).to_contain_text("Checkout returned errors for 40 minutes")
    expect(mod.page.locator(".facilitator-prompt")).to_contain_text("Agree on what happened")
    expect(ana.page.locator(".facilitator-prompt")).to_have_count(0)
    # An off-scope topic goes to the parking lot, for everyone to see.
    ben.page.get_by_label("Topic to park").fill("Renew the paging vendor contract")
    ben.page.get_by_role("button", name="Park it").click()
    for p in everyone:
        expect(p.page.locator(".parking-lot")).to_contain_text("Renew the paging vendor contract")
    ben.page.get_by_role("button", name="Call ELMO").click()
    for p in everyone:
        expect(p.page.locator(".banner-elmo")).to_contain_text("enough, let\u2019s move on")

    # Timeline walkthrough: a participant adds an event with a marker; everyone sees it.
    go_to_phase(mod, everyone, 3, "Timeline walkthrough")
    prompt = mod.page.locator(".facilitator-prompt")
    expect(prompt).to_contain_text("Which options were on the table?")
    ana.page.get_by_role("button", name="Add an event").click()
    ana.page.get_by_label("What happened").fill(
        "On-call rota still pointed at last month's engineer"
    )
    ana.page.get_by_label("Source").select_option("handoff")
    ana.page.get_by_label("First signal").check()
    ana.page.get_by_role("button", name="Add to timeline").click()
    for p in everyone:
        event = p.page.locator(".timeline .event", has_text="On-call rota still pointed")
        expect(event).to_be_visible()
        expect(event).to_contain_text("First signal")
    # A mistaken event is deleted by its author (after a confirm step), on every screen.
    ben.page.get_by_role("button", name="Add an event").click()
    ben.page.get_by_label("What happened").fill("Duplicate: rota pointed at the wrong person")
    ben.page.get_by_role("button", name="Add to timeline").click()
    mistaken = ben.page.locator(".timeline .event", has_text="Duplicate: rota")
    mistaken.get_by_role("button", name=re.compile("^Delete")).click()
    mistaken.get_by_role("button", name="Yes, delete it").click()
    for p in everyone:
        expect(p.page.locator(".timeline .event", has_text="Duplicate: rota")).to_have_count(0)

    # Notes: private while being written, only a count for others, then revealed.
    go_to_phase(mod, everyone, 4, "Contributing factors")
    notes = {
        ana: ["The deploy checklist has no owner", "Alert routing lives in two places"],
        ben: ["Nobody knew which channel the alert used"],
    }
    for person, texts in notes.items():
        for text in texts:
            person.page.get_by_label("Your note").fill(text)
            person.page.get_by_role("button", name="Add my note").click()
            expect(person.page.locator(".own-notes")).to_contain_text(text)
    for p in everyone:
        expect(p.page.locator(".notes-status")).to_have_attribute("data-pending", "3")
    expect(ben.page.locator("body")).not_to_contain_text("The deploy checklist has no owner")
    expect(mod.page.locator("body")).not_to_contain_text("Nobody knew which channel")
    ana.shot("06-meeting-participant-private-notes")
    mod.page.get_by_role("button", name="Reveal notes").click()
    for p in everyone:
        board = p.page.locator(".board-notes")
        for text in (*notes[ana], *notes[ben]):
            expect(board).to_contain_text(text)
        expect(p.page.locator(".notes-status")).to_have_attribute("data-pending", "0")

    # Themes: group two notes, merge a duplicate theme.
    mod.page.get_by_label("New theme").fill("Ownership of the deploy checklist")
    mod.page.get_by_label("Category").select_option("role-ambiguity")
    mod.page.get_by_role("button", name="Add theme").click()
    mod.page.get_by_label("New theme").fill("Alert routing")
    mod.page.get_by_label("Category").select_option("information-gap")
    mod.page.get_by_role("button", name="Add theme").click()
    mod.page.get_by_label("New theme").fill("Where alerts go")
    mod.page.get_by_role("button", name="Add theme").click()
    expect(mod.page.locator(".theme")).to_have_count(3)
    # By keyboard alone (the mouse way is in test_browser_dnd.py): Enter picks a card up,
    # arrow keys walk the themes in the order shown, Enter drops.
    titles = mod.page.locator(".theme h3").all_inner_texts()

    def move_by_keys(card: Locator, presses: int, into: str) -> None:
        card.focus()
        mod.page.keyboard.press("Enter")
        for _ in range(presses):
            mod.page.keyboard.press("ArrowDown")
        expect(theme(mod.page, into)).to_have_class(re.compile(r"\bdnd-target\b"))
        mod.page.keyboard.press("Enter")

    for text, into in (
        ("The deploy checklist has no owner", "Ownership of the deploy checklist"),
        ("Alert routing lives in two places", "Where alerts go"),
    ):
        # A note not in a theme starts on "Not in a theme yet", after the last theme.
        note = mod.page.locator(".board-notes .note", has_text=text)
        move_by_keys(note, titles.index(into) + 1, into)
        expect(theme(mod.page, into)).to_contain_text(text)
    duplicate = theme(mod.page, "Where alerts go")
    others = [t for t in titles if t != "Where alerts go"]
    move_by_keys(duplicate, others.index("Alert routing"), "Alert routing")
    confirm = mod.page.get_by_role("group", name="Confirm the merge")
    expect(confirm.get_by_role("button", name="Yes, merge them")).to_be_focused()
    mod.page.keyboard.press("Enter")
    expect(mod.page.locator(".theme")).to_have_count(2)
    for p in everyone:
        merged = theme(p.page, "Alert routing")
        expect(merged).to_contain_text("Alert routing lives in two places")

    # Votes: two per person, counts hidden until voting closes.
    mod.page.get_by_role("button", name="Open voting").click()
    for p in (ana, ben):
        expect(p.page.locator(".votes-left")).to_have_attribute("data-left", "2")
    owner_theme = theme(ana.page, "Ownership of the deploy checklist")
    owner_theme.get_by_role("button", name="Vote for: Ownership of the deploy checklist").click()
    expect(ana.page.locator(".votes-left")).to_have_attribute("data-left", "1")
    routing = theme(ana.page, "Alert routing")
    routing.get_by_role("button", name="Vote for: Alert routing").click()
    expect(ana.page.locator(".votes-left")).to_have_attribute("data-left", "0")
    expect(
        owner_theme.get_by_role("button", name="Vote for: Ownership of the deploy checklist")
    ).to_be_disabled()
    ben_theme = theme(ben.page, "Ownership of the deploy checklist")
    ben_theme.get_by_role("button", name="Vote for: Ownership of the deploy checklist").click()
    expect(ben.page.locator(".votes-left")).to_have_attribute("data-left", "1")
    hidden = theme(mod.page, "Ownership of the deploy checklist").locator(".vote-count")
    expect(hidden).to_have_text(HIDDEN_COUNT)
    ana.shot("07-meeting-voting")
    mod.page.get_by_role("button", name="Close voting").click()
    for p in everyone:
        counted = theme(p.page, "Ownership of the deploy checklist").locator(".vote-count")
        expect(counted).to_have_text("2")

    # Discuss: the voted themes, most votes first, each on its own time box.
    mod.page.get_by_label(re.compile("minutes each")).fill("3")
    mod.page.get_by_role("button", name="Start the discussion").click()
    for p in everyone:
        heading = p.page.locator(".discussion h2")
        expect(heading).to_contain_text("theme 1 of 2: Ownership of the deploy checklist")
        expect(p.page.locator(".timer")).to_have_attribute("data-status", "running")
    for p, said in ((ana, "Nobody owns the checklist file"), (ben, "Same for the rollback doc")):
        p.page.get_by_label("Your comment on this theme").fill(said)
        p.page.get_by_role("button", name="Comment").click()
    for p in everyone:  # two people's comments: shown together, without names
        expect(p.page.locator(".discussion .comments li")).to_have_count(2)
    mod.page.get_by_role("button", name="Next theme").click()
    for p in everyone:
        expect(p.page.locator(".discussion h2")).to_contain_text("theme 2 of 2: Alert routing")
    mod.shot("07b-discussion")
    mod.page.get_by_role("button", name="Finish the discussion").click()
    for p in everyone:
        expect(p.page.locator(".discussion")).to_have_count(0)

    # What worked well: the board switches section with the phase.
    go_to_phase(mod, everyone, 5, "What worked well")
    expect(ben.page.get_by_role("tab", name="What worked well")).to_have_attribute(
        "aria-selected", "true"
    )
    ben.page.get_by_label("Your note").fill("Support escalated within minutes")
    ben.page.get_by_role("button", name="Add my note").click()
    mod.page.get_by_role("button", name="Reveal notes").click()
    for p in everyone:
        expect(p.page.locator(".board-notes")).to_contain_text("Support escalated within minutes")
    # The pre-read answers, revealed: each under the question it answers.
    mod.page.get_by_role("tab", name="Questionnaire answers").click()
    mod.page.get_by_role("button", name="Reveal notes").click()
    ben.page.get_by_role("tab", name="Questionnaire answers").click()
    answer = ben.page.locator(".board-notes .note", has_text="Support spotted it fast")
    expect(answer.locator(".note-question")).to_have_text("What went better than expected?")

    # Hands and round-robin.
    ana.page.get_by_role("button", name="Raise my hand").click()
    expect(mod.page.locator(".hands")).to_contain_text("Ana")
    mod.page.get_by_role("button", name="Start a round-robin").click()
    for p in everyone:
        expect(p.page.locator(".speaker")).to_be_visible()

    # Actions and owners: the scribe writes them; the lint speaks up while typing.
    go_to_phase(mod, everyone, 6, "Actions and owners")
    sam.page.get_by_role("link", name="Recap and actions").click()
    sam.page.get_by_label(SCRIBE_NOTES).fill("The alert fired but went to a muted channel.")
    sam.page.get_by_role("button", name="Add an action").click()
    action = sam.page.locator(".action").first
    action.get_by_label("What changes").fill("Improve communication")
    action.get_by_label("Owner (one person)").fill("the team")
    expect(action.locator(".lint-hint[data-code='vague-wording']")).to_be_visible()
    expect(action.locator(".lint-hint[data-code='shared-owner']")).to_contain_text("names a group")
    sam.shot("08-scribe-lint")
    due = (date.today() + timedelta(days=14)).isoformat()
    action.get_by_label("What changes").fill(
        "Route checkout alerts to the paging service instead of the team channel"
    )
    action.get_by_label("Owner (one person)").fill("Priya (ops manager)")
    action.get_by_label("Due date").fill(due)
    action.get_by_label("How we will check it is done").fill(
        "A test alert on the staging checkout pages the on-call phone"
    )
    action.get_by_label("Kind").select_option("preventive-control")
    expect(action.locator(".lint-hint")).to_have_count(0)
    expect(action.locator(".badge")).to_have_text("Ready")
    sam.page.get_by_label("Follow-ups (one per line)").fill("Share the recap with support")

    # Recap and close: attendees sign off; the count is visible.
    go_to_phase(mod, everyone, 7, "Recap and close")
    for p in (ana, ben):
        p.page.get_by_role("button", name="I confirm the recap wording").click()
    for p in everyone:
        expect(p.page.locator(".signoff-count").first).to_have_attribute("data-count", "2")
    # The scribe changes the wording after both signed: they are asked again.
    sam.page.get_by_label(SCRIBE_NOTES).fill(
        "The alert fired but went to a muted channel for 25 minutes."
    )
    for p in (ana, ben):
        panel = p.page.locator(".signoff")
        expect(panel.locator(".signoff-count")).to_have_attribute("data-count", "0")
        expect(panel.locator(".signoff-stale")).to_be_visible()
    for p in (ana, ben):
        p.page.locator(".signoff").get_by_role("button", name="Confirm the new wording").click()
    for p in everyone:
        expect(p.page.locator(".signoff-count").first).to_have_attribute("data-count", "2")
    sam.shot("09-scribe")

    # The moderator closes; every doc becomes read-only, the recap is frozen.
    mod.page.get_by_role("link", name="Recap and actions").click()
    expect(mod.page.locator("#recap-text")).to_have_value(
        "The alert fired but went to a muted channel for 25 minutes."
    )
    mod.page.get_by_role("button", name="Close the meeting and freeze the recap").click()
    for p in everyone:
        expect(p.page.locator("header [data-status='closed']")).to_be_visible()
    expect(sam.page.locator("#recap-text")).to_have_attribute("readonly", "")

    # Export: Markdown and JSON downloads carry the frozen content.
    with mod.page.expect_download() as info:
        mod.page.locator("a[data-format='markdown']").first.click()
    markdown = info.value.path().read_text(encoding="utf-8")
    assert info.value.suggested_filename.endswith("-v1.md")
    assert "Checkout errors after the Tuesday deploy" in markdown
    for heading in (
        "## Scope",
        "## Contributing factors",
        "## What worked well",
        "## Questionnaire answers",
        "## Action items",
    ):
        assert heading in markdown
    assert "Priya (ops manager)" in markdown
    assert "Ownership of the deploy checklist" in markdown
    assert "The alert fired but went to a muted channel for 25 minutes." in markdown
    assert "Support escalated within minutes" in markdown
    assert "- What went better than expected?\n  - Support spotted it fast" in markdown
    assert "## Parked topics\n\n- Renew the paging vendor contract" in markdown
    with mod.page.expect_download() as info:
        mod.page.locator("a[data-format='json']").first.click()
    recap = json.loads(info.value.path().read_text(encoding="utf-8"))
    assert recap["status"] == "closed"
    assert recap["signoffs"] == 2
    assert [a["owner"] for a in recap["actions"]] == ["Priya (ops manager)"]

    # The final, printable recap page.
    ana.page.get_by_role("link", name="Final recap").click()
    expect(ana.page.get_by_role("heading", name="Action items")).to_be_visible()
    expect(ana.page.locator(".recap")).to_contain_text("Final recap, version 1")
    expect(ana.page.locator(".recap")).to_contain_text("Route checkout alerts")
    expect(ana.page.locator(".questionnaire-answers")).to_contain_text(
        "What went better than expected?Support spotted it fast"
    )
    ana.shot("10-recap")
    assert (SCREENSHOTS / "05-meeting-moderator.png").exists()
    # The README's picture: refreshed on request, so a test run leaves the tree clean.
    readme_shot = ROOT / "docs" / "screenshot.png"
    if not readme_shot.exists() or os.environ.get("DEBRIEF_UPDATE_DOCS_SCREENSHOT") == "1":
        shutil.copyfile(SCREENSHOTS / "07-meeting-voting.png", readme_shot)
