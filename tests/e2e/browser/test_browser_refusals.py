"""Who may change a timeline event, and what a page does when the server refuses a write.

Participants change only the events they added; the moderator changes any. A write the
server refuses (here: a participant's page deleting someone else's event behind the UI's
back, through the docs the app exposes as `window.debrief`) shows a plain notice, and the
page drops its copy of the doc for the server's, so it keeps working afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import ConsoleMessage, Locator, Page, expect

from conftest import People, Person, Review, go_to_meeting, moderator_prepared

EDIT = re.compile(r"^Edit")
DELETE = re.compile(r"^Delete")


def add_event(page: Page, text: str) -> None:
    page.get_by_role("button", name="Add an event").click()
    page.get_by_label("What happened").fill(text)
    page.get_by_role("button", name="Add to timeline").click()


def event(person: Person, text: str) -> Locator:
    return person.page.locator(".timeline .event", has_text=text)


def record_console(person: Person) -> list[str]:
    """Warnings and errors a page prints (y-websocket's own refusal handler warns)."""
    seen: list[str] = []

    def keep(message: ConsoleMessage) -> None:
        if message.type in ("warning", "error"):
            seen.append(f"{message.type}: {message.text}")

    person.page.on("console", keep)
    return seen


def test_own_events_only_and_a_refused_write_resyncs(
    people: People, make_review: Callable[[], Review]
) -> None:
    review = make_review()
    mod = moderator_prepared(people, review)
    ana = people.join("participant-ana", review.invites["participant"], "Ana")
    ben = people.join("participant-ben", review.invites["participant"], "Ben")
    everyone = (mod, ana, ben)
    consoles = {p.label: record_console(p) for p in everyone}
    for p in (ana, ben):
        go_to_meeting(p)

    add_event(ana.page, "Ana: the alert fired in a muted channel")
    add_event(ben.page, "Ben: the rollback script needed a manual step")
    add_event(ben.page, "Ben: the status page was updated late")
    for p in everyone:
        for text in ("Ana: the alert", "Ben: the rollback", "Ben: the status page"):
            expect(event(p, text)).to_be_visible()

    # A participant sees Edit and Delete on their own event only.
    for button in (EDIT, DELETE):
        expect(event(ana, "Ana: the alert").get_by_role("button", name=button)).to_be_visible()
        expect(event(ana, "Ben: the rollback").get_by_role("button", name=button)).to_have_count(0)
        expect(event(ben, "Ben: the rollback").get_by_role("button", name=button)).to_be_visible()
        expect(event(ben, "Ana: the alert").get_by_role("button", name=button)).to_have_count(0)
        for text in ("Ana: the alert", "Ben: the rollback"):
            expect(event(mod, text).get_by_role("button", name=button)).to_be_visible()

    # The moderator deletes someone else's event, after a confirm step; every screen follows.
    late = event(mod, "Ben: the status page")
    late.get_by_role("button", name=DELETE).click()
    late.get_by_role("button", name="Keep it").click()
    expect(late.get_by_role("button", name=DELETE)).to_be_visible()
    late.get_by_role("button", name=DELETE).click()
    late.get_by_role("button", name="Yes, delete it").click()
    for p in everyone:
        expect(event(p, "Ben: the status page")).to_have_count(0)
        expect(event(p, "Ben: the rollback")).to_be_visible()

    # Ana's page deletes Ben's event behind the UI's back: the server refuses it.
    bens = event(ana, "Ben: the rollback").get_attribute("data-event-id")
    assert bens
    ana.page.evaluate("id => window.debrief.docs.timeline.getMap('events').delete(id)", bens)
    notice = ana.page.locator(".refusal[data-doc='timeline']")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Your last change to the timeline was not saved")
    expect(notice).to_contain_text("only its author may change it")  # the server's reason
    # Ana's page dropped its copy for the server's: the event is back, on a fresh doc.
    expect(event(ana, "Ben: the rollback")).to_be_visible()
    assert ana.page.evaluate("window.debrief.generation()") == 1
    for p in (mod, ben):
        expect(event(p, "Ben: the rollback")).to_be_visible()
    ana.shot("refused-write-notice")
    notice.get_by_role("button", name="Dismiss").click()
    expect(notice).to_have_count(0)

    # The page stays usable: what Ana adds next reaches the others, and her own event
    # still offers her Edit and Delete.
    add_event(ana.page, "Ana: the on-call rota pointed at last month")
    for p in everyone:
        expect(event(p, "Ana: the on-call rota")).to_be_visible()
    expect(event(ana, "Ana: the on-call rota").get_by_role("button", name=DELETE)).to_be_visible()
    expect(event(ana, "Ben: the rollback").get_by_role("button", name=DELETE)).to_have_count(0)
    # Ana edits her own event on the fresh doc: accepted, seen by Ben.
    own = event(ana, "Ana: the alert")
    own.get_by_role("button", name=EDIT).click()
    ana.page.locator(".timeline .event.editing").get_by_label("What happened").fill(
        "Ana: the alert fired in a channel nobody watched"
    )
    ana.page.get_by_role("button", name="Save event").click()
    expect(event(ben, "nobody watched")).to_be_visible()
    expect(ana.page.locator(".refusal")).to_have_count(0)
    assert ana.page.evaluate("window.debrief.generation()") == 1

    # Nobody's console shows a permission warning: the app handles refusals itself, and
    # normal use (echoes of observers' and others' sync messages) is never refused.
    permission = {
        label: [m for m in seen if "ermission" in m or "not saved" in m]
        for label, seen in consoles.items()
    }
    assert not any(permission.values()), permission


def test_a_paste_past_the_followups_limit_is_cut_with_a_notice(
    people: People, make_review: Callable[[], Review]
) -> None:
    review = make_review()
    mod = moderator_prepared(people, review)
    sam = people.join("scribe", review.invites["scribe"], "Sam")
    sam.context.grant_permissions(["clipboard-read", "clipboard-write"])
    consoles = {p.label: record_console(p) for p in (mod, sam)}
    followups = sam.page.get_by_label("Follow-ups (one per line)")
    expect(followups).to_have_attribute("maxlength", "20000")
    expect(sam.page.get_by_label("Scribe\u2019s notes")).to_have_attribute("maxlength", "100000")

    pasted = "Ask the payments team to review the retry budget.\n" * 410  # 20,500 characters
    sam.page.evaluate("text => navigator.clipboard.writeText(text)", pasted)
    followups.click()
    sam.page.keyboard.press("Control+V")
    expect(sam.page.locator(".paste-cut")).to_contain_text("only the first 20,000 characters")
    assert len(followups.input_value()) == 20_000

    # The cut text fits what the server takes: no refusal, and the moderator gets all of it.
    mod.page.get_by_role("link", name="Recap and actions").click()
    mod_followups = mod.page.get_by_label("Follow-ups (one per line)")
    expect(mod_followups).to_have_value(pasted[:20_000])
    expect(sam.page.locator(".refusal")).to_have_count(0)
    sam.page.locator(".paste-cut").get_by_role("button", name="Dismiss").click()
    expect(sam.page.locator(".paste-cut")).to_have_count(0)
    assert not any(consoles.values()), consoles
