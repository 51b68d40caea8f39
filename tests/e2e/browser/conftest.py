"""Browser tests: Debian's Chromium driven by Python Playwright against a real server.

The server (tests/conftest.py `server`) serves the built web app from web/dist, so the
app must be built first (`make test` does it). Playwright's own browser download is
never used: we launch /usr/bin/chromium.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from support.server import ROOT, ServerProcess

CHROMIUM = os.environ.get("DEBRIEF_CHROMIUM", "/usr/bin/chromium")
DIST_INDEX = ROOT / "web" / "dist" / "index.html"
SCREENSHOTS = ROOT / "tests" / "e2e" / "screenshots"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}

SCRIBE_NOTES = "Scribe\u2019s notes"  # label of the recap editor
HIDDEN_COUNT = "\u2013"  # what a vote count shows while counts are hidden

expect.set_options(timeout=15_000)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).parent == here:
            item.add_marker(pytest.mark.browser)


# Module scope, not session: sync Playwright keeps its event loop running while it is
# open, and pytest-asyncio cannot start the async tests of other modules meanwhile.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not DIST_INDEX.exists():
        pytest.fail("the web app is not built: run `make web` (cd web && npm ci && npm run build)")
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: run scripts/test-deps (installs Debian's chromium)"
        )
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass(eq=False)
class Person:
    """One browser context (its own cookie jar) with one page."""

    label: str
    context: BrowserContext
    page: Page
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@dataclass
class Review:
    id: str
    title: str
    invites: dict[str, str]


class People:
    """Opens browser contexts and checks, at the end, that no page raised or alerted."""

    def __init__(self, browser: Browser, server: ServerProcess) -> None:
        self.browser = browser
        self.server = server
        self.people: list[Person] = []

    def open(
        self, label: str, viewport: dict[str, int] | None = None, init_script: str = ""
    ) -> Person:
        context = self.browser.new_context(
            base_url=self.server.url, viewport=viewport or LAPTOP, accept_downloads=True
        )
        context.set_default_timeout(15_000)
        if init_script:
            context.add_init_script(init_script)
        page = context.new_page()
        person = Person(label, context, page)
        page.on("dialog", lambda d: (person.dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: person.errors.append(str(e)))
        self.people.append(person)
        return person

    def join(self, label: str, invite: str, name: str = "", **kw: Any) -> Person:
        """Open an invite link and join with `name` (or without one)."""
        person = self.open(label, **kw)
        page = person.page
        page.goto(invite)
        expect(page.get_by_role("heading", name="Join the review")).to_be_visible()
        if name:
            page.get_by_label("Display name (optional)").fill(name)
            page.get_by_role("button", name="Join with this name").click()
        else:
            page.get_by_role("button", name="Join without a name").click()
        expect(page.locator("header.top [data-role]")).to_be_visible()
        return person

    def close(self) -> None:
        for person in self.people:
            person.context.close()


@pytest.fixture
def people(browser: Browser, server: ServerProcess) -> Iterator[People]:
    crowd = People(browser, server)
    try:
        yield crowd
    finally:
        crowd.close()
    problems = {p.label: p.errors for p in crowd.people if p.errors}
    assert not problems, f"uncaught errors in the pages: {problems}"
    alerts = {p.label: p.dialogs for p in crowd.people if p.dialogs}
    assert not alerts, f"pages opened dialogs: {alerts}"


@pytest.fixture
def make_review(server: ServerProcess) -> Callable[[str], Review]:
    """Create a review over HTTP (the Start page itself is covered by the meeting test)."""

    def create(title: str = "Checkout errors after the Tuesday deploy") -> Review:
        answer = httpx.post(server.url + "/api/reviews", json={"title": title})
        assert answer.status_code == 201, answer.text
        body = answer.json()
        return Review(body["id"], body["title"], body["invites"])

    return create


def moderator_prepared(people: People, review: Review) -> Person:
    """The moderator joins and starts the meeting at its first phase."""
    mod = people.join("moderator", review.invites["moderator"], "Morgan")
    page = mod.page
    expect(page.get_by_role("button", name="Start the meeting")).to_be_visible()
    page.get_by_role("button", name="Start the meeting").click()
    expect(page.locator("header [data-status='live']")).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^Go to phase 1:")).click()
    expect(page.locator(".phase-current")).to_contain_text("Opening")
    return mod


def go_to_meeting(person: Person) -> None:
    person.page.get_by_role("link", name="Meeting", exact=True).click()
    expect(person.page.locator(".meeting-grid")).to_be_visible()


def go_to_phase(mod: Person, everyone: tuple[Person, ...], number: int, title: str) -> None:
    """The moderator moves the meeting on; every screen follows."""
    mod.page.get_by_role("button", name=re.compile(rf"^Go to phase {number}:")).click()
    for p in everyone:
        expect(p.page.locator(".phase-current")).to_contain_text(title)
