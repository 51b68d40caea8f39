"""User text stays text, and observers cannot change anything through the UI."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import expect

from conftest import People, Review, go_to_meeting, moderator_prepared

PAYLOAD = "<img src=x onerror=alert(1)>"
VIEW_ONLY = ("Print", "Refresh", "Join the meeting")


def test_markup_in_notes_and_events_is_shown_as_text(
    people: People, make_review: Callable[[], Review]
) -> None:
    review = make_review()
    mod = moderator_prepared(people, review)
    eve = people.join("participant-eve", review.invites["participant"], "<b>Eve</b>")
    kim = people.join("participant-kim", review.invites["participant"], "Kim")
    for p in (mod, eve, kim):
        go_to_meeting(p)
    expect(eve.page.locator("header")).to_contain_text("<b>Eve</b>")

    eve.page.get_by_role("button", name="Add an event").click()
    eve.page.get_by_label("What happened").fill(PAYLOAD)
    eve.page.get_by_label("Evidence link (optional)").fill("https://example.org/log?q=<script>")
    eve.page.get_by_role("button", name="Add to timeline").click()
    eve.page.get_by_label("Your note").fill(PAYLOAD)
    eve.page.get_by_role("button", name="Add my note").click()
    expect(eve.page.locator(".own-notes .note-text")).to_have_text(PAYLOAD)

    mod.page.get_by_role("button", name="Reveal notes").click()
    for p in (mod, eve, kim):
        expect(p.page.locator(".timeline .event-text")).to_have_text(PAYLOAD)
        expect(p.page.locator(".board-notes .note-text")).to_have_text(PAYLOAD)
        assert p.page.locator("main img").count() == 0
        assert p.page.locator("main script").count() == 0
    kim.shot("11-markup-as-text")
    # No dialog opened anywhere: the `people` fixture fails the test otherwise.


def test_observer_cannot_change_anything(people: People, make_review: Callable[[], Review]) -> None:
    review = make_review()
    mod = moderator_prepared(people, review)
    ana = people.join("participant", review.invites["participant"], "Ana")
    go_to_meeting(ana)
    ana.page.get_by_role("button", name="Add an event").click()
    ana.page.get_by_label("What happened").fill("Payment provider starts timing out")
    ana.page.get_by_role("button", name="Add to timeline").click()
    ana.page.get_by_label("Your note").fill("Timeouts were not alerting")
    ana.page.get_by_role("button", name="Add my note").click()
    mod.page.get_by_role("button", name="Reveal notes").click()
    mod.page.get_by_role("button", name="Open voting").click()
    mod.page.get_by_role("group", name="Timer controls").get_by_role("button", name="Start").click()

    obs = people.join("observer", review.invites["observer"], "Olu")
    page = obs.page
    expect(page.locator("header [data-role='observer']")).to_be_visible()
    expect(page.get_by_text("You are observing")).to_be_visible()
    expect(page.locator(".timeline .event")).to_contain_text("Payment provider starts timing out")
    expect(page.locator(".board-notes")).to_contain_text("Timeouts were not alerting")
    expect(page.locator(".timer")).to_have_attribute("data-status", "running")
    obs.shot("12-observer")

    views = page.get_by_role("navigation", name="Views")
    expect(views.get_by_role("link")).to_have_text(["Pre-read", "Meeting", "Final recap"])
    for name in (
        "Add an event",
        "Call ELMO",
        "Raise my hand",
        "Add my note",
        "Reveal notes",
        "Close voting",
        "Pause",
        "I confirm the recap wording",
    ):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^Vote for"))).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^Go to phase"))).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^Edit"))).to_have_count(0)

    def assert_nothing_editable() -> None:
        main = page.locator("main")
        expect(main.locator("textarea:not([readonly]):not([disabled])")).to_have_count(0)
        expect(main.locator("input:not([readonly]):not([disabled])")).to_have_count(0)
        expect(main.locator("select:not([disabled])")).to_have_count(0)
        # The only buttons left change what is shown: tabs, printing, going to a view.
        for button in main.get_by_role("button").all():
            role = button.get_attribute("role")
            assert role == "tab" or button.inner_text() in VIEW_ONLY, button.inner_text()

    assert_nothing_editable()
    # The scribe's workspace is not offered; its address falls back to the meeting.
    page.goto(f"/r/{review.id}/scribe")
    expect(page.locator(".meeting-grid")).to_be_visible()
    assert_nothing_editable()
    page.get_by_role("link", name="Pre-read").click()
    expect(page.get_by_role("heading", name="What we are reviewing")).to_be_visible()
    expect(page.get_by_role("heading", name="Your answers before the meeting")).to_have_count(0)
    assert_nothing_editable()
    page.get_by_role("link", name="Final recap").click()
    expect(page.get_by_text("Draft recap: the meeting is not closed yet.")).to_be_visible()
    assert_nothing_editable()
