"""The notes board as people use it (issue 11): a draft stays in its own section, across
tab changes and reloads; the moderator's board follows the phase again once it moves on;
the keyboard works (arrow keys along the tabs, Ctrl+Enter sends, focus stays on a button
after Enter)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from conftest import People, Person, go_to_meeting, moderator_prepared


def tab(page: Page, label: str):  # type: ignore[no-untyped-def]
    return page.get_by_role("tab", name=re.compile(rf"^{re.escape(label)}"))


def go_to_phase(mod: Person, everyone: tuple[Person, ...], number: int, title: str) -> None:
    mod.page.get_by_role("button", name=re.compile(rf"^Go to phase {number}:")).click()
    for p in everyone:
        expect(p.page.locator(".phase-current")).to_contain_text(title)


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
