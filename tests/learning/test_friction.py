"""Highest friction: ranking by reviews, then votes, then actions not verified; reasons."""

from debrief.learning.friction import GroupFigures, count_actions, describe, rank


def test_ranking_order_and_the_reason_names_the_deciding_number() -> None:
    groups = [
        GroupFigures("g_b", "Handoffs", reviews=3, votes=30, open=1),
        GroupFigures("g_a", "Paging", reviews=4, votes=23, open=2, in_progress=1, done=2),
        GroupFigures("g_c", "Rollbacks", reviews=3, votes=30, open=4),
        GroupFigures("g_d", "Disks", reviews=3, votes=12),
    ]
    ranked = rank(groups)
    assert [g["id"] for g in ranked] == ["g_a", "g_c", "g_b", "g_d"]
    top = ranked[0]
    assert top["rank"] == 1 and top["decided_by"] == "reviews"
    assert top["reason"].startswith("in 4 reviews, 23 votes, 5 actions not verified")
    assert "(2 open, 1 in progress, 2 done awaiting verification)" in top["reason"]
    assert "ahead of “Rollbacks” on reviews (4 vs 3)" in top["reason"]
    assert ranked[1]["decided_by"] == "actions not verified"
    assert ranked[2]["decided_by"] == "votes"
    assert (
        ranked[3]["decided_by"] == ""
        and ranked[3]["reason"] == "in 3 reviews, 12 votes, 0 actions not verified"
    )
    assert top["actions"] == {"open": 2, "in-progress": 1, "done": 2, "not_verified": 5}


def test_full_ties_are_stable_and_said() -> None:
    a, b = GroupFigures("g_2", "Alpha", 2, 5), GroupFigures("g_1", "Beta", 2, 5)
    assert [g["id"] for g in rank([b, a])] == ["g_2", "g_1"]
    assert rank([b, a])[0]["decided_by"] == "tie"


def test_count_actions_counts_pending_statuses_once_per_review() -> None:
    statuses = {"r_a": ["open", "verified", "done"], "r_b": ["wont-do", "in-progress"]}
    assert count_actions(["r_a", "r_b", "r_a"], statuses) == {
        "open": 1,
        "in-progress": 1,
        "done": 1,
    }
    assert describe(GroupFigures("g", "x", 1, 1)) == "in 1 review, 1 vote, 0 actions not verified"
