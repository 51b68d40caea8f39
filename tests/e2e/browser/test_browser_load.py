"""Opening a meeting: the view says when it is usable, and fetches only the meeting's code."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Request, expect

from conftest import People, Review, moderator_prepared

# Chunks (web/build.mjs) a participant's meeting never needs: the other views and pages,
# and SortableJS (only the moderator's board is movable).
NOT_FOR_THE_MEETING = ("other-pages-", "other-views-", "sortable")


def test_meeting_marks_itself_ready_and_loads_only_its_code(
    people: People, make_review: Callable[..., Review]
) -> None:
    review = make_review()
    moderator_prepared(people, review)
    ana = people.join("participant", review.invites["participant"], "Ana")
    page = ana.page
    scripts: list[str] = []

    def note(request: Request) -> None:
        if request.resource_type == "script":
            scripts.append(request.url.rsplit("/", 1)[-1])

    page.on("request", note)
    page.reload()
    expect(page.locator("main.meeting[data-ready='true']")).to_be_visible()
    expect(page.get_by_label("Your note")).to_be_enabled()
    marks = "performance.getEntriesByName('debrief:meeting-ready').length"
    page.wait_for_function(f"() => {marks} === 1")
    assert "app.js" in scripts
    assert not [s for s in scripts if s.startswith(NOT_FOR_THE_MEETING)], scripts
