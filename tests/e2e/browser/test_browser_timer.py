"""The shared timer: server time on every screen, and a sound plus a visible cue at zero."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from conftest import People, Review, go_to_meeting, moderator_prepared
from support.server import ServerProcess

SKEW_MS = 5 * 60 * 1000
# This laptop's clock runs five minutes ahead.
SKEWED_CLOCK = f"""
(() => {{
  const realNow = Date.now.bind(Date)
  Date.now = () => realNow() + {SKEW_MS}
}})();
"""
# Count the tones the page plays, without needing speakers.
COUNT_TONES = """
(() => {
  window.__tones = 0
  const original = AudioContext.prototype.createOscillator
  AudioContext.prototype.createOscillator = function () {
    window.__tones += 1
    return original.call(this)
  }
})();
"""


def test_timer_is_in_server_time_and_signals_zero(
    people: People, make_review: Callable[[], Review], server: ServerProcess
) -> None:
    review = make_review()
    mod = moderator_prepared(people, review)
    steady = people.join(
        "participant", review.invites["participant"], "Ana", init_script=COUNT_TONES
    )
    skewed = people.join("participant-skewed", review.invites["participant"], "Ben",
                         init_script=SKEWED_CLOCK + COUNT_TONES)  # fmt: skip
    for p in (steady, skewed):
        go_to_meeting(p)

    controls = mod.page.get_by_role("group", name="Timer controls")
    controls.get_by_role("button", name="Start").click()
    for p in (steady, skewed):
        expect(p.page.locator(".timer")).to_have_attribute("data-status", "running")
    # Read both screens; without the offset the skewed one would be five minutes off.
    left = [float(p.page.locator(".timer-face").get_attribute("data-remaining-ms") or 0)
            for p in (steady, skewed)]  # fmt: skip
    assert abs(left[0] - left[1]) < SKEW_MS / 10, left
    expect(skewed.page.locator(".timer-face")).not_to_have_text("0:00")

    controls.get_by_role("button", name="Reset").click()
    for p in (steady, skewed):
        expect(p.page.locator(".timer")).to_have_attribute("data-status", "idle")
    # A six-second time box (the API takes minutes) so that zero comes within the test.
    answer = mod.page.request.post(
        f"/api/reviews/{review.id}/timer/start",
        data={"minutes": 0.1},
        headers={"Origin": server.url},
    )
    assert answer.ok, answer.text()
    for p in (steady, skewed):
        expect(p.page.locator(".timer")).to_have_attribute("data-status", "running")
    for p in (steady, skewed):
        expect(p.page.locator(".timer")).to_have_attribute("data-status", "expired", timeout=30_000)
        expect(p.page.get_by_role("alert").filter(has_text="Time is up")).to_be_visible()
        expect(p.page.locator(".timer-face")).to_have_text("0:00")
        # The app marks the deadline it chimed for; the patched AudioContext counts tones.
        expect(p.page.locator(".timer")).to_have_attribute("data-chimed", "true")
        assert p.page.evaluate("window.__tones") >= 3
    steady.shot("15-timer-expired")
    # Extending an expired timer gives the phase more time again, for everyone.
    mod.page.get_by_label("Minutes to add").fill("2")
    mod.page.get_by_role("button", name="Add minutes").click()
    for p in (steady, skewed):
        expect(p.page.locator(".timer")).to_have_attribute("data-status", "running")
