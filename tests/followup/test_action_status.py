"""Every rule of an action's status after close (followup/action_status.py), pure."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from debrief.followup import action_status as st
from debrief.meeting.errors import DomainError

NOW = 1_700_000_000_000
OWNER = st.Actor("Priya N", st.OWNER, "pe_priya")
MODERATOR = st.Actor("Mo Derator", st.MODERATOR)
SCRIBE = st.Actor("Sam Scribe", st.SCRIBE)
ADMIN = st.Actor("Ada Admin", st.TEAM_ADMIN)
LINK = "https://tickets.example.com/OPS-12"


def state(status: str = "open", **extra: Any) -> dict[str, Any]:
    action = {
        "id": "a_1",
        "what": "Add a second approver to database deploys",
        "owner": "Priya N",
        "due": "2025-03-31",
        "verify": "The next two deploys show two approvals",
        "kind": "preventive-control",
    }
    base = st.new_state(
        review={"id": "r_1", "title": "Checkout outage"},
        team_id="t_1",
        gid="r_1.a_1",
        action=action,
        owner_id="pe_priya",
        now_ms=NOW - 1000,
    )
    return base | {"status": status} | extra


def refused(current: dict[str, Any], actor: st.Actor, change: st.Change) -> DomainError:
    with pytest.raises(DomainError) as caught:
        st.apply(current, actor, change, NOW)
    return caught.value


def test_a_new_state_is_open_with_no_history() -> None:
    fresh = state()
    assert fresh["status"] == "open" and fresh["history"] == [] and fresh["evidence"] is None
    assert st.summary(fresh) == {
        "gid": "r_1.a_1", "review_id": "r_1", "review_title": "Checkout outage",
        "what": "Add a second approver to database deploys", "owner": "Priya N",
        "owner_id": "pe_priya", "due": "2025-03-31", "status": "open",
        "kind": "preventive-control", "verify": "The next two deploys show two approvals",
        "evidence": None, "reason": "", "verified_by": fresh["verified_by"],
        "created_ms": fresh["created_ms"], "updated_ms": fresh["updated_ms"], "done_ms": None,
    }  # fmt: skip
    finished = st.apply(fresh, OWNER, st.Change("done", evidence_text="Two approvals"), NOW + 5)
    assert st.summary(finished)["done_ms"] == NOW + 5


@pytest.mark.parametrize("target", ["in-progress", "open"])
def test_moves_between_undone_statuses_need_nothing(target: str) -> None:
    start = state("in-progress" if target == "open" else "open")
    after = st.apply(start, OWNER, st.Change(target, note="started"), NOW)
    assert after["status"] == target
    assert after["history"][-1] == {
        "at_ms": NOW, "by": "Priya N", "role": "owner", "from": start["status"], "to": target,
        "note": "started", "evidence": None, "reason": "",
    }  # fmt: skip
    assert after["updated_ms"] == NOW and start["history"] == []  # the input is untouched


def test_done_without_evidence_is_refused() -> None:
    error = refused(state(), OWNER, st.Change("done"))
    assert (error.status, error.error) == (400, "evidence-required")
    error = refused(state(), OWNER, st.Change("done", evidence_text="   "))
    assert error.error == "evidence-required"


@pytest.mark.parametrize(
    ("url", "text"), [(LINK, ""), ("", "Two approvals on deploys 812 and 813"), (LINK, "see")]
)
def test_done_with_a_link_or_a_text(url: str, text: str) -> None:
    after = st.apply(state(), OWNER, st.Change("done", evidence_url=url, evidence_text=text), NOW)
    assert after["status"] == "done"
    assert after["evidence"] == {"url": url, "text": text, "at_ms": NOW, "by": "Priya N"}
    assert after["history"][-1]["evidence"] == {"url": url, "text": text}


@pytest.mark.parametrize("url", ["ftp://x.example.com/a", "javascript:alert(1)", "https://", "x"])
def test_evidence_links_must_be_web_addresses(url: str) -> None:
    error = refused(state(), OWNER, st.Change("done", evidence_url=url))
    assert (error.status, error.error, error.field) == (422, "bad-evidence", "evidence.url")


def test_evidence_is_bounded() -> None:
    error = refused(state(), OWNER, st.Change("done", evidence_text="x" * (st.MAX_EVIDENCE + 1)))
    assert error.status == 422 and error.field == "evidence.text"
    ok = st.apply(state(), OWNER, st.Change("done", evidence_text="x" * st.MAX_EVIDENCE), NOW)
    assert len(ok["evidence"]["text"]) == st.MAX_EVIDENCE


def test_wont_do_without_reason_is_refused() -> None:
    error = refused(state(), OWNER, st.Change("wont-do"))
    assert (error.status, error.error) == (400, "reason-required")
    error = refused(state(), OWNER, st.Change("wont-do", reason="  "))
    assert error.error == "reason-required"


def test_wont_do_keeps_its_reason_until_reopened() -> None:
    dropped = st.apply(state(), ADMIN, st.Change("wont-do", reason="Vendor retired it"), NOW)
    assert dropped["status"] == "wont-do" and dropped["reason"] == "Vendor retired it"
    reopened = st.apply(dropped, ADMIN, st.Change("open"), NOW + 1)
    assert reopened["reason"] == "" and reopened["history"][-1]["from"] == "wont-do"


def done() -> dict[str, Any]:
    return st.apply(state(), OWNER, st.Change("done", evidence_url=LINK), NOW - 10)


@pytest.mark.parametrize("verifier", [MODERATOR, SCRIBE, ADMIN])
def test_verified_from_done_by_a_second_person(verifier: st.Actor) -> None:
    after = st.apply(done(), verifier, st.Change("verified", note="Checked the log"), NOW)
    assert after["status"] == "verified" and after["verified_by"] == verifier.name
    assert after["evidence"]["url"] == LINK  # the evidence of done stays with it
    assert [h["to"] for h in after["history"]] == ["done", "verified"]
    assert after["history"][-1]["role"] == verifier.role


def test_owner_cannot_verify_own_action() -> None:
    error = refused(done(), OWNER, st.Change("verified"))
    assert (error.status, error.error) == (403, "owner-cannot-verify")


@pytest.mark.parametrize("name", ["Priya N", "  priya   n ", "PRIYA N"])
def test_a_moderator_who_owns_the_action_cannot_verify_it(name: str) -> None:
    for role in (st.MODERATOR, st.SCRIBE, st.TEAM_ADMIN):
        error = refused(done(), st.Actor(name, role), st.Change("verified"))
        assert error.error == "owner-cannot-verify"
    by_id = st.Actor("Someone Else", st.TEAM_ADMIN, "pe_priya")  # the same person, renamed
    assert refused(done(), by_id, st.Change("verified")).error == "owner-cannot-verify"


@pytest.mark.parametrize("current", ["open", "in-progress", "wont-do"])
def test_verified_only_from_done(current: str) -> None:
    error = refused(state(current, reason="x"), MODERATOR, st.Change("verified"))
    assert (error.status, error.error) == (409, "not-done")


def test_same_status_with_nothing_new_is_no_change() -> None:
    error = refused(state("in-progress"), OWNER, st.Change("in-progress"))
    assert (error.status, error.error) == (409, "no-change")
    noted = st.apply(state("in-progress"), OWNER, st.Change("in-progress", note="Half way"), NOW)
    assert noted["history"][-1]["note"] == "Half way"  # a progress note is something new
    again = refused(done(), OWNER, st.Change("done", evidence_url=LINK))
    assert again.error == "no-change"
    better = st.apply(done(), OWNER, st.Change("done", evidence_text="and the wiki"), NOW)
    assert better["evidence"]["text"] == "and the wiki"


def test_leaving_done_drops_evidence_and_verification() -> None:
    verified = st.apply(done(), ADMIN, st.Change("verified"), NOW)
    reopened = st.apply(verified, ADMIN, st.Change("in-progress", note="Regressed"), NOW + 1)
    assert reopened["evidence"] is None and reopened["verified_by"] == ""
    assert [h["to"] for h in reopened["history"]] == ["done", "verified", "in-progress"]


def test_unknown_status_and_actor_are_refused() -> None:
    assert refused(state(), OWNER, st.Change("finished")).error == "bad-status"
    assert refused(state(), st.Actor("X", "observer"), st.Change("in-progress")).status == 403


def test_history_is_appended_and_bounded() -> None:
    current = state()
    for n in range(st.MAX_HISTORY + 5):
        current = st.apply(current, OWNER, st.Change("in-progress", note=f"step {n}"), NOW + n)
    assert len(current["history"]) == st.MAX_HISTORY
    assert current["history"][-1]["note"] == f"step {st.MAX_HISTORY + 4}"
    assert current["history"][0]["note"] == "step 5"


def test_overdue_is_past_due_and_not_done() -> None:
    today = date(2025, 4, 1)
    assert st.is_overdue(state("open"), today)
    assert st.is_overdue(state("in-progress"), today)
    assert not st.is_overdue(state("open", due="2025-04-01"), today)  # due today: not yet
    assert not st.is_overdue(state("open", due=""), today)
    for status in ("done", "verified", "wont-do"):
        assert not st.is_overdue(state(status), today)
