"""A participant's network drops; what they write meanwhile arrives once they are back."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import ConsoleMessage, Page, expect

from conftest import PHONE, SCRIBE_NOTES, People, Review, go_to_meeting, moderator_prepared

OWN_PRESENCE_CLOCK = """() => {
  const awareness = window.debrief.providers.room.awareness
  return awareness.meta.get(awareness.clientID).clock
}"""


def add_event(page: Page, text: str) -> None:
    page.get_by_role("button", name="Add an event").click()
    page.get_by_label("What happened").fill(text)
    page.get_by_role("button", name="Add to timeline").click()


def warnings_of(page: Page) -> list[str]:
    """What a page prints as warnings and errors (y-websocket warns on every refusal)."""
    seen: list[str] = []

    def keep(message: ConsoleMessage) -> None:
        if message.type in ("warning", "error"):
            seen.append(message.text)

    page.on("console", keep)
    return seen


def test_edits_made_offline_arrive_after_reconnect(
    people: People, make_review: Callable[[], Review]
) -> None:
    review = make_review()
    mod = moderator_prepared(people, review)
    ana = people.join("participant-offline", review.invites["participant"], "Ana", viewport=PHONE)
    ben = people.join("participant-online", review.invites["participant"], "Ben")
    sam = people.join("scribe", review.invites["scribe"], "Sam")
    consoles = {p.label: warnings_of(p.page) for p in (mod, ana, ben, sam)}
    # Sam stays on the recap page, yet is announced at once: other Yjs clients only take a
    # state whose clock is above 0, and a fresh awareness sits at 0 until it renews (15 s).
    sam.page.wait_for_function("() => window.debrief !== undefined")
    assert sam.page.evaluate(OWN_PRESENCE_CLOCK) >= 1
    for p in (ana, ben):
        go_to_meeting(p)
    expect(ana.page.locator(".link-state")).to_have_attribute("data-state", "online")
    expect(mod.page.locator(".presence")).to_contain_text("Ana")
    ana.shot("13-meeting-phone")

    ana.context.set_offline(True)
    expect(ana.page.locator(".link-state")).to_have_attribute("data-state", "offline")
    expect(ana.page.get_by_role("alert").filter(has_text="You are offline")).to_be_visible()
    add_event(ana.page, "Written while the train was in a tunnel")
    expect(ana.page.locator(".timeline")).to_contain_text("Written while the train was in a tunnel")
    # Meanwhile the others keep working too.
    add_event(ben.page, "Written by Ben while Ana was away")
    sam.page.get_by_label(SCRIBE_NOTES).fill("Recap started while Ana was offline.")
    ana.shot("14-offline")
    expect(ben.page.locator(".timeline")).not_to_contain_text("train was in a tunnel")

    ana.context.set_offline(False)
    expect(ana.page.locator(".link-state")).to_have_attribute("data-state", "online")
    # Back in "Here now" at once, not after the old connection times out.
    expect(mod.page.locator(".presence")).to_contain_text("Ana")
    expect(ben.page.locator(".presence")).to_contain_text("Here now (4)")
    for p in (mod, ben):
        expect(p.page.locator(".timeline")).to_contain_text(
            "Written while the train was in a tunnel"
        )
    expect(ana.page.locator(".timeline")).to_contain_text("Written by Ben while Ana was away")
    # The scribe's text reached Ana's copy of the recap doc as well.
    ana.page.get_by_role("link", name="Final recap").click()
    expect(ana.page.locator(".recap")).to_contain_text("Recap started while Ana was offline.")
    # Normal use, a reconnect included, draws no refusal from the server.
    refusals = {
        label: [text for text in seen if re.search(r"permission|denied|belongs to", text, re.I)]
        for label, seen in consoles.items()
    }
    assert not any(refusals.values()), refusals
