"""Follow-through in the browser: a team, two reviews, and actions that live on.

A team admin creates the team and two reviews in the UI, closes the first with three
actions (meeting steps over the API where the UI path is long and tested elsewhere),
an owner posts evidence from their personal link, the moderator verifies it, the
second review walks the two other actions in its open-actions phase while the owner
updates one live, and the team page shows the counts and the overdue action.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from conftest import ROOT, SCREENSHOTS, People, Person, Review
from support.server import ServerProcess

DOCS_VIEW = {"width": 1280, "height": 800}
FIRST = "Checkout errors after the Tuesday deploy"
SECOND = "Monthly follow-up of payments actions"
ROUTE_ALERTS = "Route checkout alerts to the paging service instead of the team channel"
CHECKLIST = "Give the deploy checklist one named owner in the runbook"
ROLLBACK = "Add a one-command rollback for the checkout service"
EVIDENCE_URL = "https://tickets.example.org/OPS-812"


def docs_shot(person: Person, name: str) -> None:
    """A 1280x800 picture for the docs; refreshed on request so a run leaves the tree clean."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    person.page.evaluate("window.scrollTo(0, 0)")
    person.page.screenshot(path=str(path))
    target = ROOT / "docs" / f"{name}.png"
    if not target.exists() or os.environ.get("DEBRIEF_UPDATE_DOCS_SCREENSHOT") == "1":
        shutil.copyfile(path, target)


def review_id_of(page: Page) -> str:
    match = re.search(r"/r/([^/]+)", page.url)
    assert match, page.url
    return match.group(1)


def new_review(admin: Person, team_url: str, title: str, *, carry_over: bool) -> str:
    """The team page's "New review": created, joined as moderator, on its Prepare view."""
    page = admin.page
    page.goto(team_url)
    page.get_by_label("What are we reviewing?").fill(title)
    if carry_over:
        page.get_by_label(re.compile("Start by reviewing open actions")).check()
    page.get_by_role("button", name="Create and prepare as moderator").click()
    expect(page.locator("header.top [data-role='moderator']")).to_be_visible()
    expect(page.locator("h1.review-title")).to_have_text(title)
    return review_id_of(page)


def invites(admin: Person, review_id: str) -> dict[str, str]:
    """The review's invite links, read with the moderator's own browser session."""
    answer = admin.context.request.get(f"/api/reviews/{review_id}/invites")
    assert answer.ok, answer.text()
    return {i["role"]: i["url"] for i in answer.json()["invites"] if not i["revoked"]}


class Api:
    """The moderator's commands over HTTP, as a second moderator session."""

    def __init__(self, server: ServerProcess, review_id: str, invite: str) -> None:
        self.http = httpx.Client(base_url=server.url, timeout=15)
        joined = self.http.post("/api/join", json={"invite": invite, "name": "Morgan"})
        assert joined.status_code == 200, joined.text
        self.headers = {"Authorization": f"Bearer {joined.json()['token']}"}
        self.base = f"/api/reviews/{review_id}"

    def __call__(self, method: str, path: str, body: Any = None) -> Any:
        answer = self.http.request(method, self.base + path, json=body, headers=self.headers)
        assert answer.status_code in (200, 201), (method, path, answer.status_code, answer.text)
        return answer.json()


def test_actions_live_on_after_the_meeting(people: People, server: ServerProcess) -> None:
    admin = people.open("team-admin", viewport=DOCS_VIEW)
    page = admin.page

    # The admin creates the team on the start page and lands on its page, as admin.
    page.goto("/")
    page.get_by_label("Team name").fill("Payments platform")
    page.get_by_label("Your name", exact=True).fill("Morgan")
    page.get_by_role("button", name="Create the team").click()
    expect(page.locator("h1.team-name")).to_have_text("Payments platform")
    expect(page.locator("[data-team-role='admin']")).to_be_visible()
    team_url = page.url
    assert re.search(r"/t/[^/]+$", team_url), team_url

    # Two reviews, the second starting with the team's open actions.
    first = new_review(admin, team_url, FIRST, carry_over=False)
    second = new_review(admin, team_url, SECOND, carry_over=True)
    page.goto(team_url)
    rows = page.locator(".review-row")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text(SECOND)  # newest first
    page.get_by_label("Search titles and scope").fill("tuesday")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(FIRST)
    page.get_by_label("Search titles and scope").fill("")
    expect(rows).to_have_count(2)

    # The first review runs: live, three actions, one owner picked in the editor.
    api = Api(server, first, invites(admin, first)["moderator"])
    api("POST", "/status", {"status": "live"})
    page.goto(f"/r/{first}/scribe")
    page.get_by_role("button", name="Add an action").click()
    action = page.locator(".action").first
    action.get_by_label("What changes").fill(ROUTE_ALERTS)
    owner = action.get_by_label("Owner (one person)")
    owner.fill("Priya")
    action.get_by_role("option", name=re.compile("Add \u201cPriya\u201d")).click()
    expect(action.locator(".owner-linked")).to_be_visible()
    expect(owner).to_have_value("Priya")
    soon = (date.today() + timedelta(days=14)).isoformat()
    action.get_by_label("Due date").fill(soon)
    action.get_by_label("How we will check it is done").fill(
        "A test alert on the staging checkout pages the on-call phone"
    )
    action.get_by_label("Kind").select_option("preventive-control")
    expect(action.locator(".badge")).to_have_text("Ready")
    directory = {p["name"]: p["id"] for p in api("GET", "/people")["people"]}
    assert "Priya" in directory
    jonas = api("POST", "/people", {"name": "Jonas"})["id"]
    past = (date.today() - timedelta(days=3)).isoformat()
    for what, owner_id, due, verify in (
        (CHECKLIST, directory["Priya"], past, "The runbook names the owner on its first line"),
        (ROLLBACK, jonas, soon, "A rollback drill on staging takes under five minutes"),
    ):
        api("POST", "/actions", {"what": what, "owner_id": owner_id, "due": due,
                                 "verify": verify, "kind": "preventive-control"})  # fmt: skip
    expect(page.locator(".action")).to_have_count(3)
    second_action = page.locator(".action").nth(1)  # in the order they were added
    expect(second_action.get_by_label("What changes")).to_have_value(CHECKLIST)
    expect(second_action.get_by_label("Owner (one person)")).to_have_value("Priya")

    # Closed in the UI: the past due date needs a reason, then the recap freezes.
    page.get_by_label("Why close with action items that still need work?").fill(
        "The checklist owner is agreed; the date slipped while we talked."
    )
    page.get_by_role("button", name="Close the meeting and freeze the recap").click()
    expect(page.locator("header [data-status='closed']")).to_be_visible()
    page.get_by_role("link", name="Final recap", exact=True).click()
    table = page.locator(".actions-table")
    expect(table.get_by_role("columnheader", name="Status now")).to_be_visible()
    expect(table.locator(".status-cell")).to_have_count(3)
    for text in (ROUTE_ALERTS, CHECKLIST, ROLLBACK):
        expect(
            table.locator("tr", has_text=text).locator("[data-action-status='open']")
        ).to_be_visible()

    # The admin hands Priya her personal link from the team's people.
    page.goto(team_url + "/people")
    link = page.get_by_role("textbox", name="Personal link of Priya")
    expect(link).to_have_value(re.compile(r"/p/"))
    priya_link = link.input_value()

    # Priya marks the alert routing done, with evidence; she cannot verify it herself.
    priya = people.open("owner-priya", viewport=DOCS_VIEW)
    priya.page.goto(priya_link)
    expect(priya.page.locator("h1.person-name")).to_have_text("Actions of Priya")
    expect(priya.page.locator("#mine-overdue")).to_contain_text(CHECKLIST)
    mine = priya.page.locator(".followup", has_text=ROUTE_ALERTS)
    mine.get_by_role("button", name="Mark done\u2026").click()
    expect(mine).to_contain_text("How we said we would check")
    mine.get_by_label("Evidence link").fill(EVIDENCE_URL)
    mine.get_by_label("Or describe the evidence").fill(
        "Test alert paged the on-call phone at 14:02"
    )
    mine.get_by_role("button", name="Mark done with this evidence").click()
    waiting = priya.page.locator("#mine-done .followup", has_text=ROUTE_ALERTS)
    expect(waiting).to_contain_text(EVIDENCE_URL)
    expect(priya.page.get_by_role("button", name="Verify")).to_have_count(0)
    docs_shot(priya, "screenshot-person")

    # The moderator sees the evidence beside the agreed wording and verifies it.
    page.goto(f"/r/{first}/recap")
    row = page.locator(".actions-table tr", has_text=ROUTE_ALERTS)
    expect(row.locator("[data-action-status='done']")).to_be_visible()
    expect(row).to_contain_text(EVIDENCE_URL)
    row.get_by_role("button", name="Verify the evidence").click()
    expect(row.locator("[data-action-status='verified']")).to_be_visible()
    expect(row).to_contain_text("Verified by Morgan")

    # The second review opens with the team's two open actions; Ana joins it.
    mod_api = Api(server, second, invites(admin, second)["moderator"])
    participant_invite = invites(admin, second)["participant"]
    page.goto(f"/r/{second}/prepare")
    page.get_by_role("button", name="Start the meeting").click()
    expect(page.locator("header [data-status='live']")).to_be_visible()
    ana = people.join("participant-ana", participant_invite, "Ana")
    go_to_open_actions(admin, mod_api)
    for p in (admin, ana):
        panel = p.page.locator(".open-actions")
        expect(panel).to_contain_text(CHECKLIST)
        expect(panel).to_contain_text(ROLLBACK)
        expect(panel).not_to_contain_text(ROUTE_ALERTS)

    # Priya moves the checklist on from her own page; both screens follow without a reload.
    priya.page.reload()
    late = priya.page.locator(".followup", has_text=CHECKLIST)
    late.get_by_text("Add a note to the next change").click()
    late.get_by_label("Note (optional)").fill("Draft runbook change is in review")
    late.get_by_role("button", name="Mark in progress").click()
    expect(
        priya.page.locator(".followup[data-status='in-progress']", has_text=CHECKLIST)
    ).to_be_visible()
    for p in (admin, ana):
        item = p.page.locator(".open-actions li[data-gid]", has_text=CHECKLIST)
        expect(item.locator("[data-action-status='in-progress']")).to_be_visible()
    docs_shot(admin, "screenshot-open-actions")
    late = priya.page.locator(".followup", has_text=CHECKLIST)
    late.get_by_role("button", name="Show the history").click()
    expect(late.locator(".history li")).to_have_count(1)
    expect(late.locator(".history")).to_contain_text("Draft runbook change is in review")

    # The team page: counts, and the overdue checklist (in progress, still late).
    page.goto(team_url)
    counts = page.locator(".team-counts")
    expect(counts.locator("[data-count='overdue']")).to_have_attribute("data-value", "1")
    expect(counts.locator("[data-count='actions-verified']")).to_have_attribute("data-value", "1")
    expect(counts.locator("[data-count='actions-pending']")).to_have_attribute("data-value", "2")
    expect(counts.locator("[data-count='reviews-closed']")).to_have_attribute("data-value", "1")
    expect(counts.locator("[data-count='reviews-live']")).to_have_attribute("data-value", "1")
    overdue = page.locator("#overdue-list .followup")
    expect(overdue).to_have_count(1)
    expect(overdue.first).to_contain_text(CHECKLIST)
    expect(overdue.first).to_contain_text("Overdue")
    expect(page.locator("#pending-list .followup")).to_have_count(2)
    docs_shot(admin, "screenshot-team")

    # A member joins from the member link: sees the team, administers nothing.
    page.get_by_role("link", name="Team links").click()
    member_link = page.get_by_role("textbox", name="Team member link").first.input_value()
    assert "/tj/" in member_link
    sam = people.open("team-member")
    sam.page.goto(member_link)
    sam.page.get_by_label("Your name").fill("Sam")
    sam.page.get_by_role("button", name="Join the team").click()
    expect(sam.page.locator("h1.team-name")).to_have_text("Payments platform")
    expect(sam.page.locator("[data-team-role='member']")).to_be_visible()
    expect(sam.page.locator(".review-row")).to_have_count(2)
    expect(sam.page.get_by_role("link", name="Team links")).to_have_count(0)
    expect(sam.page.get_by_role("button", name="Delete\u2026")).to_have_count(0)
    expect(sam.page.locator("#overdue-list .followup")).to_have_count(1)
    expect(sam.page.locator("#overdue-list").get_by_role("button")).to_have_count(0)
    sam.page.get_by_role("link", name="Actions", exact=True).click()
    sam.page.get_by_label("I am").select_option(label="Priya")
    expect(sam.page.locator("#my-list .followup")).to_have_count(2)
    expect(sam.page.locator("#my-list [data-action-status='verified']")).to_have_count(1)
    sam.page.get_by_role("link", name="People", exact=True).click()
    sam.page.get_by_label("Name", exact=True).fill("Lee Wong")
    sam.page.get_by_label("Handle (optional)").fill("@lee")
    sam.page.get_by_role("button", name="Add to the team").click()
    expect(sam.page.locator(".person-row", has_text="Lee Wong")).to_contain_text("@lee")
    expect(sam.page.locator(".person-row")).to_have_count(3)
    expect(sam.page.get_by_role("textbox", name=re.compile("Personal link"))).to_have_count(0)

    # The admin deletes the second review for good, after typing its exact title.
    ana.page.goto("about:blank")  # its socket closes with the review; no page is left on it
    page.goto(team_url)
    row = page.locator(".review-row", has_text=SECOND)
    row.get_by_role("button", name="Delete\u2026").click()
    confirm = row.get_by_label(re.compile("Type the title"))
    forever = row.get_by_role("button", name="Delete for good")
    confirm.fill(SECOND.lower())
    expect(forever).to_be_disabled()
    confirm.fill(SECOND)
    forever.click()
    expect(page.locator(".review-row")).to_have_count(1)
    expect(counts.locator("[data-count='reviews-live']")).to_have_attribute("data-value", "0")
    gone = admin.context.request.get(f"/api/reviews/{second}")
    assert gone.status in (401, 403, 404), gone.status


def test_closing_without_actions_needs_a_reason(
    people: People, make_review: Callable[[str], Review], server: ServerProcess
) -> None:
    review = make_review("Quiet week on the payments queue")
    Api(server, review.id, review.invites["moderator"])("POST", "/status", {"status": "live"})
    mod = people.join("moderator", review.invites["moderator"], "Morgan")
    mod.page.get_by_role("link", name="Recap and actions").click()
    close = mod.page.get_by_role("button", name="Close the meeting and freeze the recap")
    expect(close).to_be_disabled()
    mod.page.get_by_label("This review has no actions. Why close it without any?").fill(
        "Nothing to change: the queue behaved as designed and the alert was a drill."
    )
    close.click()
    expect(mod.page.locator("header [data-status='closed']")).to_be_visible()
    mod.page.get_by_role("link", name="Final recap", exact=True).click()
    recap = mod.page.locator(".recap")
    expect(recap).to_contain_text("No action was agreed.")
    expect(recap).to_contain_text("Closed without actions, because:")
    expect(recap).to_contain_text("the alert was a drill")


def go_to_open_actions(mod: Person, api: Api) -> None:
    """The moderator opens the open-actions phase from the phase bar."""
    mod.page.get_by_role(
        "button", name=re.compile(r"^Go to phase \d+: .*open actions", re.I)
    ).click()
    expect(mod.page.locator(".phase-current")).to_contain_text(re.compile("open actions", re.I))
    del api  # the phase is reached in the UI; the API session stays for later steps
