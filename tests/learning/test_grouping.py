"""Recurring themes: deterministic suggestions, confirmed groups kept, splits respected."""

import random

from debrief.learning import grouping as gp
from debrief.learning.grouping import Kept, Theme


def themes() -> list[Theme]:
    return [
        Theme("r_a", "t1", "Alerts went to the wrong on-call rota", 1_000, 5),
        Theme("r_a", "t2", "Rollback needed manual steps", 1_000, 2),
        Theme("r_b", "t1", "Alert routed to wrong on-call rota!", 2_000, 3),
        Theme("r_b", "t2", "Nobody owned the customer update", 2_000, 4),
        Theme("r_c", "t9", "Alerts sent to the wrong on call rota", 3_000, 1),
        Theme("r_c", "t3", "The rollback needed many manual steps", 3_000, 6),
        Theme("r_d", "t1", "Database disk filled up", 4_000, 2),
    ]


def shape(groups: list[gp.Group]) -> list[tuple[str, str, bool, list[str], list[str]]]:
    return [(g.id, g.name, g.confirmed, g.refs, [t.ref for t in g.suggested]) for g in groups]


def test_suggestions_are_the_same_whatever_the_input_order() -> None:
    expected = shape(gp.group_themes(themes()))
    assert [g[3] for g in expected] == [
        ["r_a:t1", "r_b:t1", "r_c:t9"],
        ["r_a:t2", "r_c:t3"],
    ]
    assert expected[1][1] == "The rollback needed many manual steps"  # most votes
    for seed in range(20):
        shuffled = themes()
        random.Random(seed).shuffle(shuffled)
        assert shape(gp.group_themes(shuffled)) == expected


def test_suggestion_ids_follow_their_themes() -> None:
    first = gp.group_themes(themes())[0]
    assert first.id == gp.suggestion_id(reversed(first.refs))
    assert first.id.startswith("s-") and not first.confirmed


def test_themes_of_one_review_do_not_group_by_themselves() -> None:
    same = [Theme("r_a", "t1", "Slow paging", 1, 1), Theme("r_a", "t2", "Slow paging", 1, 1)]
    assert gp.group_themes(same) == []


def test_confirmed_groups_keep_their_themes_and_take_similar_new_ones_as_suggestions() -> None:
    kept = Kept(groups=[{"id": "g_1", "name": "Paging goes astray", "refs": ["r_a:t1", "r_b:t1"]}])
    fresh = [*themes(), Theme("r_e", "t1", "Alerts went to the wrong on-call rota again", 5_000)]
    groups = gp.group_themes(fresh, kept)
    assert groups[0].confirmed and groups[0].id == "g_1" and groups[0].name == "Paging goes astray"
    assert groups[0].refs == ["r_a:t1", "r_b:t1"]
    assert [t.ref for t in groups[0].suggested] == ["r_c:t9", "r_e:t1"]
    assert all("r_a:t1" not in g.refs for g in groups[1:])


def test_a_split_pair_is_never_suggested_together() -> None:
    kept = Kept(splits=[["r_a:t1", "r_c:t9"]])
    groups = gp.group_themes(themes(), kept)
    for group in groups:
        assert not {"r_a:t1", "r_c:t9"} <= set(group.refs)
    # the split theme is not suggested for a confirmed group holding its split partner
    kept = Kept(groups=[{"id": "g_1", "name": "", "refs": ["r_a:t1", "r_b:t1"]}],
                splits=[["r_a:t1", "r_c:t9"]])  # fmt: skip
    groups = gp.group_themes(themes(), kept)
    assert groups[0].suggested == []
    assert all("r_c:t9" not in g.refs for g in groups)


def test_normalise_drops_case_punctuation_and_filler() -> None:
    assert gp.normalise("  The Alerts -- were LATE! ") == "alerts late"
    assert gp.parse_ref("r_a:t1") == ("r_a", "t1")
    assert gp.parse_ref("r_a") is None and gp.parse_ref(":t") is None
