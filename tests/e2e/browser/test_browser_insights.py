"""Learning across reviews in the browser: the team's Insights tab.

Two reviews are run and closed over the API (the meeting itself has its own browser
tests): themes with categories and votes, a timeline with first signal, first response
and escalation, actions with owners and kinds, and people's names, an email and a chat
handle in the timeline. The team admin then opens Insights: the charts are drawn
(pixels on the canvas) and their tables hold the hand-counted figures; switching the
period changes them; a recurring theme is confirmed, a learning brief is generated from
it (its preview hides every name, email and handle), a replacement is undone and applied
again, the text edited, one replacement added, the .md downloaded through the page and
the brief published; a theme is split out of the group, and a quarterly review of the
period is started. No page hits the Content-Security-Policy (Chart.js draws on canvas).
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
from playwright.sync_api import Locator, Page, expect

from conftest import ROOT, SCREENSHOTS, People, Person
from support.server import ServerProcess

DOCS_VIEW = {"width": 1280, "height": 800}
TEAM = "Payments platform"
RUNBOOK = "Checkout rollback runbook is out of date"
RUNBOOK_AGAIN = "The checkout rollback runbook was out of date"
EDITED_LINE = "We will run the rollback drill in the first week of every quarter."
STRANGER = "Zed Quillfeather"
SECRETS = ("Priya Sharma", "Jonas Berg", "priya.sharma@example.org", "@jonas.berg", "Morgan")


@dataclass
class Seeded:
    title: str
    themes: list[tuple[str, str, int]]  # title, category, votes
    events: list[tuple[str, str, str]]  # minutes after the signal, text, markers
    actions: list[tuple[str, str, str]]  # what, owner, kind


REVIEWS = [
    Seeded(
        "Checkout errors after the Tuesday deploy",
        [(RUNBOOK, "process-gap", 3), ("Paging went to an old rota", "information-gap", 1)],
        [
            ("0", "Error rate alert fired in #payments-alerts", "first-signal"),
            ("10", "Priya Sharma acknowledged the page", "first-response"),
            ("40", "Priya Sharma asked @jonas.berg to join the call", "escalation-delay"),
            ("55", "Rollback finished; priya.sharma@example.org posted the summary", ""),
        ],
        [
            ("Rewrite the checkout rollback runbook", "Priya Sharma", "documentation-ownership"),
            ("Route checkout alerts to the paging service", "Jonas Berg", "preventive-control"),
        ],
    ),
    Seeded(
        "Payment timeouts on Friday evening",
        [
            (RUNBOOK_AGAIN, "process-gap", 2),
            ("Nobody owned the vendor escalation", "role-ambiguity", 2),
        ],
        [
            ("0", "Timeout alert fired", "first-signal"),
            ("45", "Jonas Berg started looking at the gateway", "first-response"),
        ],
        [("Name an owner for vendor escalations", "Jonas Berg", "documentation-ownership")],
    ),
]

# Hand-counted from REVIEWS.
CATEGORY_ROWS = {  # themes, reviews, votes
    "Process gap": ["2", "2", "5"],
    "Role ambiguity": ["1", "1", "2"],
    "Timing pressure": ["0", "0", "0"],
    "Information gap": ["1", "1", "1"],
    "Tooling": ["0", "0", "0"],
    "Other": ["0", "0", "0"],
}
FIGURES = (
    "categories",
    "category-trend",
    "follow-through-by-kind",
    "follow-through-by-owner",
    "timeline-distribution",
    "timeline",
)


class ReviewApi:
    """One seeded review: a session per role, over HTTP."""

    def __init__(self, http: httpx.Client, team: str, token: str, title: str) -> None:
        self.http = http
        created = http.post(f"/api/teams/{team}/reviews", json={"title": title},
                            headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert created.status_code == 201, created.text
        self.id = created.json()["id"]
        self.tokens: dict[str, str] = {}
        for role, name in (("moderator", "Morgan"), ("scribe", "Sam"), ("participant", "Ana")):
            joined = http.post(
                "/api/join", json={"invite": created.json()["invites"][role], "name": name}
            )
            assert joined.status_code == 200, joined.text
            self.tokens[role] = joined.json()["token"]

    def __call__(self, who: str, method: str, path: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        answer = self.http.request(
            method, f"/api/reviews/{self.id}{path}", json=body, headers=headers
        )
        assert answer.status_code in (200, 201), (method, path, answer.status_code, answer.text)
        return answer.json()


def seed_closed_review(http: httpx.Client, team: str, token: str, seeded: Seeded) -> str:
    api = ReviewApi(http, team, token, seeded.title)
    api(
        "moderator",
        "PATCH",
        "",
        {"settings": {"hide_counts_until_closed": False, "votes_per_person": 10}},
    )
    api("moderator", "POST", "/status", {"status": "live"})
    start = "2026-03-03T09:00:00Z"
    rows = ["time,text,source,link,markers"]
    for minutes, text, markers in seeded.events:
        hh, mm = divmod(int(minutes), 60)
        rows.append(f"{start[:11]}{9 + hh:02d}:{mm:02d}:00Z,{text},chat,,{markers}")
    api(
        "participant",
        "POST",
        "/timeline/import",
        {"filename": "timeline.csv", "content": "\n".join(rows) + "\n"},
    )
    themes = []
    for title, category, _ in seeded.themes:
        themes.append(
            api("moderator", "POST", "/themes", {"title": title, "category": category})["id"]
        )
    api("moderator", "POST", "/voting/open", {"section": "contributing-factor"})
    voters = ("moderator", "scribe", "participant")
    for theme_id, (_, _, votes) in zip(themes, seeded.themes, strict=True):
        for who in voters[:votes]:
            api(who, "POST", "/votes", {"target": theme_id})
    api("moderator", "POST", "/voting/close", {"section": "contributing-factor"})
    soon = (date.today() + timedelta(days=30)).isoformat()
    people = {p["name"]: p["id"] for p in api("moderator", "GET", "/people")["people"]}
    for what, owner, kind in seeded.actions:
        if owner not in people:
            people[owner] = api("moderator", "POST", "/people", {"name": owner})["id"]
        action = {"what": what, "owner_id": people[owner], "due": soon, "kind": kind,
                  "verify": "Checked at the next drill"}  # fmt: skip
        api("moderator", "POST", "/actions", action)
    api("moderator", "POST", "/close", {})
    return str(api.id)


def docs_shot(person: Person, name: str) -> None:
    """A 1280x800 picture for the docs; refreshed on request so a run leaves the tree clean."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    person.page.screenshot(path=str(path))
    target = ROOT / "docs" / f"{name}.png"
    if not target.exists() or os.environ.get("DEBRIEF_UPDATE_DOCS_SCREENSHOT") == "1":
        shutil.copyfile(path, target)


def drawn(canvas: Locator) -> int:
    """How many pixels of the canvas are painted (0: the chart was not drawn)."""
    return int(
        canvas.evaluate(
            """(c) => {
              const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data
              let n = 0
              for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++
              return n
            }"""
        )
    )


def figure(page: Page, name: str) -> Locator:
    return page.locator(f"section.figure[data-figure='{name}']")


def table_of(page: Page, name: str) -> dict[str, list[str]]:
    """A figure's table view, row label -> cells (switches the figure to its table)."""
    box = figure(page, name)
    toggle = box.get_by_role("button", name="Show as table")
    if toggle.count():
        toggle.click()
    expect(box.locator("table.figure-table")).to_be_visible()
    rows: dict[str, list[str]] = {}
    for row in box.locator("tbody tr").all():
        rows[row.locator("th").inner_text()] = [c.inner_text() for c in row.locator("td").all()]
    box.get_by_role("button", name="Show as chart").click()
    expect(box.locator("canvas")).to_be_visible()
    return rows


def test_insights_charts_themes_and_a_learning_brief(people: People, server: ServerProcess) -> None:
    admin = people.open("team-admin", viewport=DOCS_VIEW)
    page = admin.page
    csp_refusals: list[str] = []
    page.on(
        "console",
        lambda m: csp_refusals.append(m.text) if "Content Security Policy" in m.text else None,
    )

    page.goto("/")
    page.get_by_label("Team name").fill(TEAM)
    page.get_by_label("Your name", exact=True).fill("Morgan")
    page.get_by_role("button", name="Create the team").click()
    expect(page.locator("h1.team-name")).to_have_text(TEAM)
    team_url = page.url
    team_id = team_url.rstrip("/").rsplit("/", 1)[1]
    links = admin.context.request.get(f"/api/teams/{team_id}/links")
    assert links.ok, links.text()
    admin_link = next(
        link["url"]
        for link in links.json()["links"]
        if link["role"] == "admin" and not link["revoked"]
    )

    with httpx.Client(base_url=server.url, timeout=30) as http:
        joined = http.post("/api/teams/join", json={"link": admin_link, "name": "Morgan"})
        assert joined.status_code == 200, joined.text
        token = joined.json()["token"]
        http.cookies.clear()
        for seeded in REVIEWS:
            seed_closed_review(http, team_id, token, seeded)

    # The Insights tab, on its default period (the last 90 days): the reviews closed now.
    page.goto(team_url)
    page.get_by_role("link", name="Insights").click()
    expect(page).to_have_url(re.compile(r"/insights$"))
    expect(page.get_by_label("Period", exact=True)).to_have_value("last-quarter")
    summary = page.locator("[data-loading='false']", has_text="closed review")
    expect(summary).to_contain_text("2 closed reviews in this period.")
    for name in FIGURES:
        canvas = figure(page, name).locator("canvas")
        expect(canvas).to_be_visible()
        page.wait_for_function("(c) => c.width > 0", arg=canvas.element_handle())
        assert drawn(canvas) > 500, f"the {name} chart has nothing on it"

    categories = table_of(page, "categories")
    assert categories == CATEGORY_ROWS
    by_owner = table_of(page, "follow-through-by-owner")
    assert by_owner["Jonas Berg"][0] == "2" and by_owner["Priya Sharma"][0] == "1"  # created
    by_kind = table_of(page, "follow-through-by-kind")
    assert by_kind["Documentation ownership"][0] == "2" and by_kind["Preventive control"][0] == "1"
    spread = table_of(page, "timeline-distribution")
    assert spread["under 15 min"] == ["1", "0"]  # 10 minutes to the first response
    assert spread["30-60 min"] == ["1", "1"]  # 45 to a response, 40 to an escalation
    per_review = table_of(page, "timeline")
    assert per_review[REVIEWS[0].title] == ["10", "40"]
    assert per_review[REVIEWS[1].title] == ["45", "\u2013"]
    expect(page.locator("[data-count='created']")).to_have_attribute("data-value", "3")
    page.evaluate("window.scrollTo(0, 0)")
    docs_shot(admin, "screenshot-insights")

    # A period before any of these reviews: the figures empty out, and come back.
    page.get_by_label("Period", exact=True).select_option("custom")
    page.get_by_label("From", exact=True).fill("2025-01-01")
    page.get_by_label("Until", exact=True).fill("2025-03-31")
    page.get_by_role("button", name="Show this period").click()
    expect(summary).to_contain_text("0 closed reviews in this period.")
    expect(figure(page, "categories")).to_have_attribute("data-points", "0")
    expect(figure(page, "categories")).to_contain_text("Nothing to show for this period.")
    page.get_by_label("Period", exact=True).select_option("last-30")
    expect(summary).to_contain_text("2 closed reviews in this period.")
    expect(figure(page, "categories")).to_have_attribute("data-points", "6")
    assert table_of(page, "categories")["Process gap"] == ["2", "2", "5"]

    # The runbook theme came back in both reviews: suggested, then confirmed.
    group = page.locator(".theme-group", has_text=RUNBOOK_AGAIN)
    expect(group).to_have_attribute("data-state", "suggested")
    expect(group.locator("[data-count='reviews']")).to_have_attribute("data-value", "2")
    expect(group.locator("[data-count='votes']")).to_have_attribute("data-value", "5")
    group.get_by_role("button", name="Confirm this group").click()
    group = page.locator(".theme-group[data-state='confirmed']", has_text=RUNBOOK_AGAIN)
    expect(group).to_be_visible()
    expect(page.locator("#friction li").first).to_contain_text("2 reviews")

    # A learning brief from it. The team edits the text as written; the preview, which
    # every export holds, has the names, the email and the handle replaced.
    group.get_by_role("button", name="Write a learning brief").click()
    editor = page.locator(".brief")
    expect(editor).to_be_visible()
    text = page.get_by_label("The brief as written (Markdown)")
    preview = editor.locator("pre.brief-preview")
    expect(text).not_to_have_value("")
    written, shown = text.input_value(), preview.inner_text()
    named = [s for s in SECRETS if s in written]
    assert named, f"the draft names nobody, so nothing is tested: {written}"
    for secret in named:
        assert secret not in shown, secret
        expect(editor.locator(".replacement-original", has_text=secret).first).to_be_visible()

    # Undo one replacement: the name shows in the preview; apply it again: gone.
    first = editor.locator(".replacement[data-undone='false']").first
    original = first.locator(".replacement-original").inner_text()
    rid = first.get_attribute("data-replacement-id")
    first.get_by_role("button", name=re.compile("^Undo")).click()
    again = editor.locator(f".replacement[data-replacement-id='{rid}']")
    expect(again).to_have_attribute("data-undone", "true")
    expect(preview).to_contain_text(original)
    again.get_by_role("button", name=re.compile("^Replace .* again")).click()
    expect(again).to_have_attribute("data-undone", "false")
    expect(preview).not_to_contain_text(original)

    # Edit the text, then replace a name no check could know.
    text.fill(text.input_value() + "\n\n" + EDITED_LINE + " " + STRANGER + " helped.\n")
    editor.get_by_role("button", name="Save the text").click()
    expect(preview).to_contain_text(EDITED_LINE)
    expect(preview).to_contain_text(STRANGER)
    editor.get_by_label("Also replace").fill(STRANGER)
    editor.get_by_label("with", exact=True).fill("the vendor's engineer")
    editor.get_by_role("button", name="Add this replacement").click()
    expect(editor.locator(".replacement-original", has_text=STRANGER)).to_be_visible()
    expect(preview).not_to_contain_text(STRANGER)

    # Download the .md through the page: the edit is in, no name is.
    download_link = editor.get_by_role("link", name="Download .md")
    with page.expect_download() as info:
        download_link.click()
    saved = info.value.path()
    assert saved is not None
    markdown = saved.read_text(encoding="utf-8")
    assert EDITED_LINE in markdown and "vendor's engineer helped" in markdown
    for secret in (*SECRETS, STRANGER):
        assert secret not in markdown, secret

    editor.get_by_role("button", name="Publish the brief").click()
    expect(editor).to_have_attribute("data-status", "published")

    # Back at the themes, one theme is split out of the group: it stays out.
    page.get_by_role("button", name="Back to the themes").click()
    group = page.locator(".theme-group[data-state='confirmed']")
    expect(group.locator(".group-themes li")).to_have_count(2)
    group.locator("li", has_text=RUNBOOK_AGAIN).get_by_role("checkbox").check()
    group.get_by_role("button", name="Split out the ticked theme").click()
    expect(group.locator(".group-themes li")).to_have_count(1)
    expect(group).not_to_contain_text(RUNBOOK_AGAIN)
    page.reload()
    expect(page.locator(".theme-group[data-state='confirmed']")).not_to_contain_text(RUNBOOK_AGAIN)

    # A quarterly review of the period: created, joined as moderator, on its preparation.
    page.get_by_role("button", name=re.compile("^Start a quarterly review of 2 reviews")).click()
    expect(page.locator("header.top [data-role='moderator']")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/r/[^/]+/prepare$"))

    assert not csp_refusals, csp_refusals
