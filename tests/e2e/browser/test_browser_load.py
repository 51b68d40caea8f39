"""Opening a meeting: the view says when it is usable, fetches only the meeting's code, and
starts its connections before that code has loaded."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, Request, Route, WebSocket, WebSocketRoute, expect

from conftest import People, Person, Review, go_to_meeting, go_to_phase, moderator_prepared

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
        ["room", 1, True],
        ["timeline", 1, True],
        ["recap", 1, True],
    ]
    # What Ana writes after the sync still reaches the others, and theirs reaches her.
    add_event(ana, "Ana's event after a quiet first sync")
    expect(mod.page.locator(".timeline")).to_contain_text("Ana's event after a quiet first sync")
    add_event(mod, "The moderator's answer")
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


# boot.js (web/src/boot) opens the review's sockets before the app has loaded; has every
# one of them received its doc's content (a sync step 2), still waiting for the app?
ALL_DOCS_CAME_EARLY = """() => {
  const early = window.__debriefEarly
  const isStep2 = (m) => { const b = new Uint8Array(m.data); return b[0] === 0 && b[1] === 1 }
  return !!early && early.sockets.size === 3 &&
    [...early.sockets.values()].every((s) => s.messages.some(isStep2))
}"""


def add_event(person: Person, text: str) -> None:
    person.page.get_by_role("button", name="Add an event").click()
    person.page.get_by_label("What happened").fill(text)
    person.page.get_by_role("button", name="Add to timeline").click()


def meeting_with_an_event(people: People, review: Review, text: str) -> tuple[Person, Person]:
    """The moderator in the meeting with one timeline event; Ana joined (her page open)."""
    mod = moderator_prepared(people, review)
    go_to_meeting(mod)
    add_event(mod, text)
    return mod, people.join("participant", review.invites["participant"], "Ana")


def is_doc_answer(payload: bytes | str) -> bool:
    """A sync step 2 carrying a doc's content (more than an empty doc's few bytes)."""
    return isinstance(payload, bytes) and payload[:2] == b"\x00\x01" and len(payload) > 64


def open_with_the_app_held(page: Page, url: str, until: str) -> None:
    """Open ``url`` and hold the app's code back until ``until`` is true in the page."""
    held: list[Route] = []
    page.route("**/assets/app.js", lambda route: held.append(route))
    page.goto(url, wait_until="commit")
    page.wait_for_function(until)
    assert len(held) == 1
    held[0].continue_()
    page.unroute("**/assets/app.js")


def test_a_meeting_link_fetches_the_docs_before_the_app_has_loaded(
    people: People, make_review: Callable[..., Review]
) -> None:
    review = make_review()
    mod, ana = meeting_with_an_event(people, review, "Error rate passes 2 %")
    page = ana.page
    sockets: list[WebSocket] = []
    big_answers: dict[str, int] = {}  # per socket: doc-sized sync step 2 frames

    def watch(ws: WebSocket) -> None:
        sockets.append(ws)

        def frame(payload: bytes | str) -> None:
            if is_doc_answer(payload):
                big_answers[ws.url] = big_answers.get(ws.url, 0) + 1

        ws.on("framereceived", frame)

    page.on("websocket", watch)
    # A new page load: boot.js runs; the app's code comes once the docs are in.
    open_with_the_app_held(page, page.url, ALL_DOCS_CAME_EARLY)

    expect(page.locator("main.meeting[data-ready='true']")).to_be_visible()
    expect(page.locator(".timeline")).to_contain_text("Error rate passes 2 %")
    expect(page.get_by_label("Your note")).to_be_enabled()
    base = people.server.url.replace("http", "ws", 1)
    docs = [f"{base}/ws/{review.id}/{doc}" for doc in ("room", "timeline", "recap")]
    # The app took boot.js's three sockets and its question instead of making its own.
    assert sorted(page.evaluate("() => window.__debriefEarly.taken")) == sorted(
        [*docs, f"/api/reviews/{review.id}"]
    )
    assert sorted(ws.url for ws in sockets) == sorted(f"{d}?sync=full" for d in docs)
    page.wait_for_function("() => window.debrief.state() === 'online'")
    # Nobody's doc came twice (the provider asks for what it lacks once the doc is in).
    assert max(big_answers.values()) == 1, big_answers
    # Edits go both ways over the connections the app took.
    add_event(ana, "Ana's event over an early socket")
    expect(mod.page.locator(".timeline")).to_contain_text("Ana's event over an early socket")
    add_event(mod, "The moderator's answer")
    expect(page.locator(".timeline")).to_contain_text("The moderator's answer")


EMPTY_STEP1 = b"\x00\x00\x01\x00"  # y-websocket's sync step 1 from a client with an empty doc


def test_an_app_that_takes_the_sockets_before_the_docs_arrive_asks_for_nothing_twice(
    people: People, make_review: Callable[..., Review]
) -> None:
    review = make_review()
    _, ana = meeting_with_an_event(people, review, "Queue depth passes 10k")
    page = ana.page
    # Between the server and boot.js's sockets: the server's messages wait here until
    # the app has taken the sockets (they are open, nothing has come through yet).
    routes: list[WebSocketRoute] = []
    waiting: dict[str, list[bytes | str]] = {}
    sent_by_page: dict[str, list[bytes | str]] = {}
    doc_answers: dict[str, int] = {}

    def route(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()
        routes.append(ws)
        waiting[ws.url] = []
        sent_by_page[ws.url] = []

        def from_server(message: bytes | str) -> None:
            if is_doc_answer(message):
                doc_answers[ws.url] = doc_answers.get(ws.url, 0) + 1
            if ws.url in waiting:
                waiting[ws.url].append(message)
            else:
                ws.send(message)

        def from_page(message: bytes | str) -> None:
            sent_by_page[ws.url].append(message)
            server.send(message)

        server.on_message(from_server)
        ws.on_message(from_page)

    page.route_web_socket(re.compile(r"/ws/.*\?sync=full$"), route)
    page.goto(page.url, wait_until="commit")
    page.wait_for_function("() => window.__debriefEarly && window.__debriefEarly.taken.length >= 3")
    assert len(routes) == 3
    for ws in routes:
        for message in waiting.pop(ws.url):
            ws.send(message)

    expect(page.locator("main.meeting[data-ready='true']")).to_be_visible()
    expect(page.locator(".timeline")).to_contain_text("Queue depth passes 10k")
    page.wait_for_function("() => window.debrief.state() === 'online'")
    # The provider heard of the open only once its doc was in, so it did not ask for the
    # room or the timeline (the docs with content) with an empty doc: neither came twice.
    # (The recap is still empty, and its provider's request rightly says so.)
    with_content = [url for url in sent_by_page if not url.split("?")[0].endswith("/recap")]
    assert sorted(doc_answers) == sorted(with_content)
    assert set(doc_answers.values()) == {1}, doc_answers
    assert all(EMPTY_STEP1 not in sent_by_page[url] for url in with_content), sent_by_page


def test_early_connections_the_app_never_takes_are_closed(
    people: People, make_review: Callable[..., Review]
) -> None:
    review = make_review()
    moderator_prepared(people, review)
    ana = people.join("participant", review.invites["participant"], "Ana")
    page = ana.page
    sockets: list[WebSocket] = []
    page.on("websocket", lambda ws: sockets.append(ws))
    page.route("**/assets/app.js", lambda route: route.abort())  # the app never runs
    page.goto(page.url, wait_until="commit")
    page.wait_for_function(ALL_DOCS_CAME_EARLY)
    assert len(sockets) == 3
    for ws in sockets:  # boot.js gives up on them after 10 s
        if not ws.is_closed():
            ws.wait_for_event("close", timeout=30_000)
    assert page.evaluate("() => window.__debriefEarly.sockets.size") == 0


def test_only_a_review_address_opens_early_connections(
    people: People, make_review: Callable[..., Review]
) -> None:
    review = make_review()
    start = people.open("visitor")
    start.page.goto("/")
    expect(start.page.get_by_role("heading", level=1)).to_be_visible()
    assert start.page.evaluate("() => window.__debriefEarly === undefined")
    # Without a session the early sockets are refused like any other, and the page says why.
    stranger = people.open("stranger")
    started = "() => !!window.__debriefEarly && window.__debriefEarly.sockets.size === 3"
    open_with_the_app_held(stranger.page, f"/r/{review.id}/meeting", started)
    expect(stranger.page.get_by_role("alert")).to_contain_text("no session for this review")
    assert stranger.page.evaluate("() => window.__debriefEarly.taken.length") == 4
