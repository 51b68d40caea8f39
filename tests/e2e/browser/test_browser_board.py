"""The notes board as people use it (issue 11): a draft stays in its own section, across
tab changes and reloads; the moderator's board follows the phase again once it moves on;
the keyboard works (arrow keys along the tabs, Ctrl+Enter sends, focus stays on a button
after Enter)."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from conftest import SCRIBE_NOTES, People, go_to_meeting, go_to_phase, moderator_prepared


def tab(page: Page, label: str):  # type: ignore[no-untyped-def]
    return page.get_by_role("tab", name=re.compile(rf"^{re.escape(label)}"))




def test_drafts_keep_their_section_and_the_board_follows_the_phase(
    people: People, make_review
) -> None:  # type: ignore[no-untyped-def]
    review = make_review()
    mod = moderator_prepared(people, review)
    ana = people.join("participant-ana", review.invites["participant"], "Ana")
    go_to_meeting(ana)
    everyone = (mod, ana)
    go_to_phase(mod, everyone, 4, "Contributing factors")
    page = ana.page
    draft = page.get_by_label("Your note")

    # Each section keeps its own unsent draft when the tab changes...
    draft.fill("The deploy checklist has no owner")
    tab(page, "What worked well").click()
    expect(draft).to_have_value("")
    draft.fill("Support spotted the errors fast")
    tab(page, "Other").click()
    expect(draft).to_have_value("")
    draft.fill("The incident channel was hard to find")
    tab(page, "Contributing factors").click()
    expect(draft).to_have_value("The deploy checklist has no owner")

    # ... and across a reload.
    page.reload()
    expect(tab(page, "Contributing factors")).to_have_attribute("aria-selected", "true")
    expect(draft).to_have_value("The deploy checklist has no owner")
    tab(page, "Other").click()
    expect(draft).to_have_value("The incident channel was hard to find")

    # Arrow keys move along the tabs, taking the focus along.
    tab(page, "Contributing factors").click()
    page.keyboard.press("ArrowRight")
    expect(tab(page, "What worked well")).to_be_focused()
    expect(tab(page, "What worked well")).to_have_attribute("aria-selected", "true")
    expect(draft).to_have_value("Support spotted the errors fast")
    page.keyboard.press("End")
    expect(tab(page, "Other")).to_be_focused()
    page.keyboard.press("Home")
    expect(tab(page, "Contributing factors")).to_be_focused()

    # Ctrl+Enter sends the draft of the section shown, filed under that section.
    tab(page, "What worked well").click()
    draft.press("Control+Enter")
    expect(page.locator(".own-notes")).to_contain_text("Support spotted the errors fast")
    expect(draft).to_have_value("")
    expect(tab(mod.page, "What worked well")).to_contain_text("1 waiting")
    expect(tab(mod.page, "Contributing factors")).not_to_contain_text("waiting")
    mod.page.reload()  # a page opened later is shown the counts when it connects
    expect(tab(mod.page, "What worked well")).to_contain_text("1 waiting")
    tab(page, "Contributing factors").click()
    expect(draft).to_have_value("The deploy checklist has no owner")
    expect(page.locator(".own-notes")).to_have_count(0)

    # The moderator looks at another section; the next phase brings the board back.
    tab(mod.page, "Other").click()
    expect(mod.page.locator(".off-phase")).to_be_visible()
    go_to_phase(mod, everyone, 5, "What worked well")
    expect(tab(mod.page, "What worked well")).to_have_attribute("aria-selected", "true")
    expect(mod.page.locator(".off-phase")).to_have_count(0)
    # Reveal and voting act on the section of the phase.
    mod.page.get_by_role("button", name="Reveal notes").click()
    expect(page.locator(".board-notes")).to_contain_text("Support spotted the errors fast")
    mod.page.get_by_role("button", name="Open voting").click()

    # Enter on Vote keeps the focus on the button, so the next Tab goes on from there.
    vote = page.get_by_role("button", name=re.compile(r"^Vote for: Support spotted"))
    vote.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".votes-left")).to_have_attribute("data-left", "2")
    expect(vote).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".votes-left")).to_have_attribute("data-left", "1")
    page.keyboard.press("Enter")
    expect(page.locator(".votes-left")).to_have_attribute("data-left", "0")
    expect(vote).to_be_disabled()
    expect(vote).to_be_focused()


def test_two_tabs_of_one_participant_show_the_same_notes_and_votes_left(
    people: People, make_review
) -> None:  # type: ignore[no-untyped-def]
    review = make_review()
    mod = moderator_prepared(people, review)
    ana = people.join("participant-ana", review.invites["participant"], "Ana")
    go_to_meeting(ana)
    go_to_phase(mod, (mod, ana), 4, "Contributing factors")
    first = ana.page
    second = ana.context.new_page()  # same browser, same session
    second.on("pageerror", lambda e: ana.errors.append(str(e)))
    second.goto(first.url)
    expect(second.locator(".phase-current")).to_contain_text("Contributing factors")

    first.get_by_label("Your note").fill("Alert routing lives in two places")
    first.get_by_role("button", name="Add my note").click()
    expect(second.locator(".own-notes")).to_contain_text("Alert routing lives in two places")
    second.get_by_label("Your note").fill("The runbook link was dead")
    second.get_by_role("button", name="Add my note").click()
    expect(first.locator(".own-notes")).to_contain_text("The runbook link was dead")
    first.locator(".own-notes li", has_text="The runbook link").get_by_role(
        "button", name="Delete this note"
    ).click()
    expect(second.locator(".own-notes")).not_to_contain_text("The runbook link was dead")

    mod.page.get_by_role("button", name="Reveal notes").click()
    mod.page.get_by_role("button", name="Open voting").click()
    for page in (first, second):
        expect(page.locator(".votes-left")).to_have_attribute("data-left", "3")
    first.get_by_role("button", name=re.compile(r"^Vote for: Alert routing")).click()
    for page in (first, second):
        expect(page.locator(".votes-left")).to_have_attribute("data-left", "2")
    second.get_by_role("button", name=re.compile(r"^Take back a vote from: Alert")).click()
    for page in (first, second):
        expect(page.locator(".votes-left")).to_have_attribute("data-left", "3")


def test_one_browser_holds_several_reviews(people: People, make_review) -> None:  # type: ignore[no-untyped-def]
    first = make_review("Checkout errors after the Tuesday deploy")
    second = make_review("Search outage during the sale")
    mod = people.join("moderator", first.invites["moderator"], "Morgan")
    other = mod.context.new_page()  # a second tab of the same browser
    other.on("pageerror", lambda e: mod.errors.append(str(e)))
    other.goto(second.invites["moderator"])
    other.get_by_role("button", name="Join without a name").click()
    expect(other.locator("header.top [data-role]")).to_be_visible()
    expect(other.get_by_text("Search outage during the sale").first).to_be_visible()

    # The first tab, reloaded, is still in its own review and can act in it.
    mod.page.reload()
    expect(mod.page.get_by_text("Checkout errors after the Tuesday deploy").first).to_be_visible()
    mod.page.get_by_role("button", name="Start the meeting").click()
    expect(mod.page.locator("header [data-status='live']")).to_be_visible()
    # And so is the second.
    other.reload()
    other.get_by_role("button", name="Start the meeting").click()
    expect(other.locator("header [data-status='live']")).to_be_visible()


def add_event(page: Page, text: str, marker: str | None = None) -> None:
    page.get_by_role("button", name="Add an event").click()
    page.get_by_label("What happened").fill(text)
    if marker:
        page.get_by_label(marker).check()
    page.get_by_role("button", name="Add to timeline").click()
    expect(page.locator(".timeline .event", has_text=text)).to_be_visible()


def test_the_scribe_chooses_the_recap_timeline_and_the_recap_keeps_its_evidence(
    people: People, make_review, server
) -> None:  # type: ignore[no-untyped-def]
    review = make_review()
    token = httpx.post(server.url + "/api/join", json={"invite": review.invites["moderator"]})
    patched = httpx.patch(
        f"{server.url}/api/reviews/{review.id}",
        json={"evidence_links": [{"url": "https://tickets.example.com/INC-7", "title": "INC-7"}]},
        headers={"Authorization": f"Bearer {token.json()['token']}"},
    )
    assert patched.status_code == 200, patched.text
    mod = moderator_prepared(people, review)
    go_to_phase(mod, (mod,), 3, "Timeline walkthrough")
    add_event(mod.page, "Checkout alert fires", "First signal")
    add_event(mod.page, "Support asks in the wrong channel")
    add_event(mod.page, "Error rate back to normal", "Resolved")

    sam = people.join("scribe", review.invites["scribe"], "Sam")
    sam.page.get_by_role("link", name="Recap and actions").click()
    heading = sam.page.get_by_role("heading", name="Timeline in the recap")
    lane = sam.page.locator(".timeline", has=heading)

    def choice(text: str):  # type: ignore[no-untyped-def]
        return lane.locator(".event", has_text=text).get_by_label("In the recap")

    expect(choice("Checkout alert fires")).to_be_checked()  # marked: in by default
    expect(choice("Error rate back to normal")).to_be_checked()  # the recovery too
    expect(choice("Support asks in the wrong channel")).not_to_be_checked()
    choice("Checkout alert fires").uncheck()
    choice("Support asks in the wrong channel").check()
    # Another screen sees the choice at once (it lives in the shared timeline doc).
    expect(mod.page.locator(".timeline .event", has_text="Checkout alert fires")).to_have_attribute(
        "data-in-recap", "false"
    )

    sam.page.get_by_role("link", name="Final recap").click()
    recap = sam.page.locator(".recap")
    expect(recap).to_contain_text("Support asks in the wrong channel")
    expect(recap).to_contain_text("Error rate back to normal (Resolved)")
    expect(recap).not_to_contain_text("Checkout alert fires")
    link = recap.locator(".evidence-links").get_by_role("link", name="INC-7")
    expect(link).to_have_attribute("href", "https://tickets.example.com/INC-7")


def test_sign_off_is_for_the_wording_shown_beside_it(people: People, make_review) -> None:  # type: ignore[no-untyped-def]
    review = make_review()
    mod = moderator_prepared(people, review)
    ana = people.join("participant-ana", review.invites["participant"], "Ana")
    go_to_meeting(ana)
    sam = people.join("scribe", review.invites["scribe"], "Sam")
    sam.page.get_by_role("link", name="Recap and actions").click()
    go_to_phase(mod, (mod, ana), 7, "Recap and close")
    text = sam.page.get_by_label(SCRIBE_NOTES)
    text.fill("The alert went to a muted channel.")

    panel = ana.page.locator(".signoff")
    expect(panel.locator(".signoff-preview")).to_contain_text("The alert went to a muted channel.")
    panel.get_by_role("button", name="I confirm the recap wording").click()
    expect(panel.locator(".signoff-count")).to_have_attribute("data-count", "1")
    expect(panel.locator(".signers")).to_contain_text("Ana · this wording")

    # The scribe edits after the sign-off: Ana's now stands for an earlier wording.
    text.fill("The alert went to a muted channel for 25 minutes.")
    expect(panel.locator(".signoff-count")).to_have_attribute("data-count", "0")
    expect(panel.locator(".signoff-stale")).to_contain_text("Ana signed off")
    expect(panel.locator(".signers")).to_contain_text("Ana · an earlier wording")
    expect(panel.locator(".signoff-preview")).to_contain_text("for 25 minutes")
    panel.get_by_role("button", name="Confirm the new wording").click()
    expect(panel.locator(".signoff-count")).to_have_attribute("data-count", "1")
    expect(panel.locator(".signoff-stale")).to_have_count(0)

    # The draft of the final recap follows the scribe without a refresh.
    ana.page.get_by_role("link", name="Final recap").click()
    expect(ana.page.locator(".recap")).to_contain_text("for 25 minutes")
    text.fill("The alert went to a muted channel for 25 minutes; nobody was paged.")
    expect(ana.page.locator(".recap")).to_contain_text("nobody was paged")


def test_an_agenda_saved_as_a_template_starts_the_next_review(
    people: People, make_review
) -> None:  # type: ignore[no-untyped-def]
    first = make_review("Checkout errors after the Tuesday deploy")
    second = make_review("Checkout errors again, in March")
    mod = people.join("moderator", first.invites["moderator"], "Morgan")
    page = mod.page
    page.get_by_label("New phase").fill("Customer impact")
    page.get_by_role("button", name="Add phase").click()
    expect(page.get_by_label("Phase 8 title")).to_have_value("Customer impact")
    page.get_by_label("Save this agenda and questionnaire as").fill("Checkout review")
    page.get_by_role("button", name="Save as template").click()
    expect(page.get_by_label("Saved template")).to_contain_text("Checkout review")

    other = people.join("moderator-2", second.invites["moderator"], "Morgan")
    expect(other.page.get_by_label("Phase 8 title")).to_have_count(0)
    chooser = other.page.get_by_label("Saved template")
    chooser.select_option(label="Checkout review (8 phases, 85 min)")
    other.page.get_by_role("button", name="Use the saved template").click()
    expect(other.page.get_by_label("Phase 8 title")).to_have_value("Customer impact")


def test_a_refused_close_names_the_actions_not_their_ids(
    people: People, make_review, server
) -> None:  # type: ignore[no-untyped-def]
    review = make_review()
    mod = moderator_prepared(people, review)
    scribe = httpx.post(server.url + "/api/join", json={"invite": review.invites["scribe"]})
    action = httpx.post(
        f"{server.url}/api/reviews/{review.id}/actions",
        json={"what": "Improve communication", "owner": "the team"},
        headers={"Authorization": f"Bearer {scribe.json()['token']}"},
    )
    assert action.status_code == 201, action.text
    mod.page.get_by_role("link", name="Recap and actions").click()
    mod.page.get_by_role("button", name="Close the meeting and freeze the recap").click()
    error = mod.page.locator(".close-panel .error")
    expect(error).to_contain_text("“Improve communication”")
    expect(error).not_to_contain_text(action.json()["id"])
    expect(error).not_to_contain_text("/api")
    expect(mod.page.locator("header [data-status='live']")).to_be_visible()  # not closed
