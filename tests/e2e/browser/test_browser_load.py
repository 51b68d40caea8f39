"""Opening a meeting: the view says when it is usable, and fetches only the meeting's code."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Request, expect

from conftest import People, Review, go_to_meeting, go_to_phase, moderator_prepared

# Chunks (web/build.mjs) a participant's meeting never needs: the other views and pages,
# and SortableJS (only the moderator's board is movable).
NOT_FOR_THE_MEETING = ("other-pages-", "other-views-", "sortable")
SHORT = {"width": 1280, "height": 240}  # short, so the timeline is several screens down


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


# Per doc: is its provider the one listener for 'update' (so Yjs encodes only our own
# edits), and is it listening again after the first sync (so those edits are sent)?
PROVIDERS_LISTEN = """() => ['room', 'timeline', 'recap'].map((name) => {
  const listeners = window.debrief.docs[name]._observers.get('update')
  const handler = window.debrief.providers[name]._updateHandler
  return [name, listeners ? listeners.size : 0, !!listeners && listeners.has(handler)]
})"""


def test_the_first_sync_is_applied_quietly_and_edits_still_go_out(
    people: People, make_review: Callable[..., Review]
) -> None:
    review = make_review()
    mod = moderator_prepared(people, review)
    go_to_meeting(mod)
    ana = people.join("participant", review.invites["participant"], "Ana")
    expect(ana.page.get_by_label("Your note")).to_be_enabled()
    ana.page.wait_for_function("() => ['room', 'timeline', 'recap'].every(window.debrief.synced)")
    assert ana.page.evaluate(PROVIDERS_LISTEN) == [
        ["room", 1, True], ["timeline", 1, True], ["recap", 1, True]
    ]
    # What Ana writes after the sync still reaches the others, and theirs reaches her.
    ana.page.get_by_role("button", name="Add an event").click()
    ana.page.get_by_label("What happened").fill("Ana's event after a quiet first sync")
    ana.page.get_by_role("button", name="Add to timeline").click()
    expect(mod.page.locator(".timeline")).to_contain_text("Ana's event after a quiet first sync")
    mod.page.get_by_role("button", name="Add an event").click()
    mod.page.get_by_label("What happened").fill("The moderator's answer")
    mod.page.get_by_role("button", name="Add to timeline").click()
    expect(ana.page.locator(".timeline")).to_contain_text("The moderator's answer")


# Is the first timeline event drawn (laid out and painted), or skipped by the browser
# because its panel is far below the viewport (content-visibility: auto)?
FIRST_EVENT_DRAWN = """() => document.querySelector('.timeline .event')
  .checkVisibility({contentVisibilityAuto: true})"""


def test_a_timeline_far_below_the_board_is_drawn_only_on_the_way_to_it(
    people: People, make_review: Callable[..., Review]
) -> None:
    review = make_review()
    mod = moderator_prepared(people, review)
    csv = "time,text,source\n" + "".join(
        f"2026-11-24T14:{i:02d}:00Z,Event number {i},chat\n" for i in range(40)
    )
    imported = mod.page.request.post(
        f"/api/reviews/{review.id}/timeline/import",
        data={"content": csv, "filename": "timeline.csv"},
        headers={"Origin": people.server.url},
    )
    assert imported.ok, imported.text()
    go_to_meeting(mod)
    go_to_phase(mod, (mod,), 4, "Contributing factors")  # a notes phase: the board first
    ana = people.join("participant", review.invites["participant"], "Ana", viewport=SHORT)
    page = ana.page
    expect(page.locator("main.meeting[data-ready='true']")).to_be_visible()
    expect(page.locator(".timeline .event")).to_have_count(40)
    below = page.evaluate(
        "() => document.querySelector('.timeline').getBoundingClientRect().top / innerHeight"
    )
    # Chromium draws such content well ahead of the scroll position (it drew a timeline
    # 1.35 screens below the window's bottom edge, and skipped one 4.9 screens below)
    assert below > 3, below

    assert page.evaluate(FIRST_EVENT_DRAWN) is False
    page.locator(".timeline").scroll_into_view_if_needed()
    page.wait_for_function(FIRST_EVENT_DRAWN)
    expect(page.locator(".timeline .event").first).to_contain_text("Event number 0")
