"""On a phone the work of the current phase comes first, and "votes left" stays in view
while voting (issue 11: the timeline used to start ~2,080 px down, the notes ~3,290)."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Locator, Page, expect

from conftest import PHONE, People, Review, go_to_meeting, go_to_phase, moderator_prepared


def top_in_first_screen(page: Page, locator: Locator) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    box = locator.bounding_box()
    assert box is not None
    assert box["y"] < PHONE["height"], f"starts {box['y']:.0f} px down, below the first screen"


def in_view(page: Page, locator: Locator) -> bool:
    box = locator.bounding_box()
    return box is not None and 0 <= box["y"] and box["y"] + box["height"] <= PHONE["height"]


def test_the_phase_work_comes_first_on_a_phone(
    people: People, make_review: Callable[[], Review]
) -> None:
    review = make_review()
    mod = moderator_prepared(people, review)
    ana = people.join("participant-phone", review.invites["participant"], "Ana", viewport=PHONE)
    go_to_meeting(ana)
    page = ana.page
    everyone = (mod, ana)

    go_to_phase(mod, everyone, 3, "Timeline walkthrough")
    top_in_first_screen(page, page.locator(".timeline"))

    go_to_phase(mod, everyone, 4, "Contributing factors")
    top_in_first_screen(page, page.locator(".notes-board"))
    for number in range(8):
        page.get_by_label("Your note").fill(f"Contributing factor {number}, written on a phone")
        page.get_by_role("button", name="Add my note").click()
        expect(page.locator(".own-notes li")).to_have_count(number + 1)
    mod.page.get_by_role("button", name="Reveal notes").click()
    mod.page.get_by_role("button", name="Open voting").click()
    expect(page.locator(".votes-left")).to_have_attribute("data-left", "3")
    ana.shot("15-phone-voting")

    # Scrolled down to the last note, the count of votes left is still on screen.
    page.locator(".board-notes .note").last.scroll_into_view_if_needed()
    assert in_view(page, page.locator(".board-notes .note").last)
    assert in_view(page, page.locator(".votes-left"))
