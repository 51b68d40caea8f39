"""Grouping notes into themes by drag and drop, with the mouse and with the keyboard alone
(issue 11), on a board of 35 notes. Only the moderator groups; every screen follows."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Locator, Page, expect

from conftest import People, Person, go_to_meeting, moderator_prepared

NOTE_COUNT = 35


def theme(page: Page, title: str) -> Locator:
    return page.locator(".theme", has=page.get_by_role("heading", name=title, exact=True))


def drag(page: Page, source: Locator, into: Locator, at: Locator | None = None) -> None:
    """Drag `source` into the list `into` (aiming at `at`, by default the list itself) with
    real pointer events: SortableJS runs on its pointer fallback, not the HTML5 drag API.
    The release waits until the list shows where the card would land, as a person does."""
    target = at or into
    source.scroll_into_view_if_needed()
    start = source.bounding_box()
    assert start, "the dragged card must be on screen"
    x, y = start["x"] + start["width"] / 2, start["y"] + min(start["height"] / 2, 12)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 8, y + 8, steps=4)
    end = target.bounding_box()
    assert end, "the drop target must be on screen"
    # Off the exact middle: on a card's midline SortableJS cannot tell before from after.
    page.mouse.move(end["x"] + end["width"] / 3, end["y"] + end["height"] / 3, steps=12)
    expect(into.locator("> .dnd-placeholder")).to_have_count(1)
    page.mouse.up()


def add_notes_over_http(server_url: str, invite: str, count: int) -> list[str]:
    joined = httpx.post(server_url + "/api/join", json={"invite": invite, "name": "Bo"})
    assert joined.status_code in (200, 201), joined.text
    body = joined.json()
    headers = {"Authorization": f"Bearer {body['token']}"}
    texts = [f"Factor {i:02d}: the runbook step {i} was unclear" for i in range(count)]
    with httpx.Client(base_url=server_url, headers=headers) as client:
        for text in texts:
            answer = client.post(
                f"/api/reviews/{body['review_id']}/notes",
                json={"kind": "contributing-factor", "text": text},
            )
            assert answer.status_code == 201, answer.text
    return texts


def test_moderator_groups_35_notes_by_mouse_and_keyboard(
    people: People, make_review, server
) -> None:  # type: ignore[no-untyped-def]
    review = make_review()
    mod = moderator_prepared(people, review)
    mod.page.set_viewport_size({"width": 1366, "height": 1500})
    ana = people.join("participant-ana", review.invites["participant"], "Ana")
    go_to_meeting(ana)
    everyone: tuple[Person, ...] = (mod, ana)
    mod.page.get_by_role("button", name=re.compile(r"^Go to phase 4:")).click()
    for p in everyone:
        expect(p.page.locator(".phase-current")).to_contain_text("Contributing factors")
    add_notes_over_http(server.url, review.invites["participant"], NOTE_COUNT)
    expect(mod.page.locator(".notes-status")).to_have_attribute("data-pending", str(NOTE_COUNT))

    page = mod.page
    page.get_by_role("button", name="Reveal notes").click()
    for p in everyone:
        expect(p.page.locator(".board-notes > .note")).to_have_count(NOTE_COUNT)
    for title in ("Runbooks", "Paging"):
        page.get_by_label("New theme").fill(title)
        page.get_by_role("button", name="Add theme").click()
        expect(theme(page, title)).to_be_visible()
    runbooks, paging = theme(page, "Runbooks"), theme(page, "Paging")
    ungrouped = page.locator(".board-notes")
    # Only the moderator's board moves; the participant's stays as it was.
    expect(ana.page.locator(".theme")).to_have_count(2)
    expect(ana.page.locator(".movable, .note[tabindex], .theme[tabindex]")).to_have_count(0)

    # Mouse: the first note not in a theme goes onto "Runbooks".
    runbooks.scroll_into_view_if_needed()
    page.locator(".themes").evaluate("el => el.scrollIntoView({block: 'start'})")
    first = ungrouped.locator("> .note").first
    by_mouse = first.locator(".note-text").inner_text()
    drag(page, first, runbooks.locator(".theme-notes"))
    for p in everyone:
        expect(theme(p.page, "Runbooks").locator(".note")).to_have_text([by_mouse])
        expect(p.page.locator(".board-notes > .note")).to_have_count(NOTE_COUNT - 1)

    # Keyboard only: pick a note up, walk to "Paging", drop it there.
    note = ungrouped.locator("> .note").first
    by_keys = note.locator(".note-text").inner_text()
    note.focus()
    page.keyboard.press("Space")
    live = page.locator(".move-announcement")
    expect(live).to_contain_text("Picked up note")
    expect(live).to_contain_text(
        "use arrow keys to choose a theme, Enter to drop, Escape to cancel"
    )
    expect(note).to_have_class(re.compile(r"\bdnd-carried\b"))
    expect(ungrouped).to_have_class(re.compile(r"\bdnd-target\b"))  # where it is now
    # Arrow keys walk the themes in the order shown, then "Not in a theme yet".
    order = page.locator(".theme h3").all_inner_texts()
    for title in order[: order.index("Paging") + 1]:
        page.keyboard.press("ArrowDown")
        expect(theme(page, title)).to_have_class(re.compile(r"\bdnd-target\b"))
    expect(page.locator(".dnd-target")).to_have_count(1)
    expect(live).to_contain_text("Over the theme “Paging”")
    page.keyboard.press("Enter")
    moved = paging.locator(".note", has_text=by_keys)
    expect(moved).to_be_focused()  # the focus follows the note to its new place
    for p in everyone:
        expect(theme(p.page, "Paging").locator(".note")).to_have_text([by_keys])
    expect(live).to_contain_text("Moved note")

    # Escape puts a picked-up note back untouched.
    other = ungrouped.locator("> .note").first
    other.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowUp")
    expect(theme(page, order[-1])).to_have_class(re.compile(r"\bdnd-target\b"))
    page.keyboard.press("Escape")
    expect(live).to_contain_text("Cancelled")
    expect(page.locator(".dnd-target, .dnd-carried")).to_have_count(0)
    expect(paging.locator(".note")).to_have_count(1)

    # Mouse: "Paging" dropped onto "Runbooks" merges it, once confirmed.
    drag(page, paging.locator(".theme-head h3"), runbooks.locator(".theme-notes"))
    confirm = page.get_by_role("group", name="Confirm the merge")
    expect(confirm).to_contain_text("Merge “Paging” into “Runbooks”?")
    expect(ana.page.locator(".theme")).to_have_count(2)  # nothing happens before the yes
    confirm.get_by_role("button", name="Yes, merge them").click()
    for p in everyone:
        expect(p.page.locator(".theme")).to_have_count(1)
        expect(theme(p.page, "Runbooks").locator(".note")).to_have_count(2)

    # Mouse: a note taken out of its theme again.
    taken_out = runbooks.locator(".note", has_text=by_mouse)
    drag(page, taken_out, ungrouped, ungrouped.locator("> .note").first)
    for p in everyone:
        expect(theme(p.page, "Runbooks").locator(".note")).to_have_text([by_keys])
        expect(p.page.locator(".board-notes > .note")).to_have_count(NOTE_COUNT - 1)
        expect(p.page.locator(".board-notes")).to_contain_text(by_mouse)
