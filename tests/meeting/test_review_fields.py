import pytest

from debrief.meeting import review as rv
from debrief.meeting.errors import Conflict, ValidationError
from debrief.meeting.texts import DEFAULT_QUESTIONNAIRE


def test_new_review_defaults() -> None:
    review = rv.new_review("  Checkout outage  ")
    assert review["title"] == "Checkout outage"
    assert review["status"] == "draft"
    assert review["settings"] == {
        "votes_per_person": 3,
        "hide_counts_until_closed": True,
        "anonymous": True,
        "leaders_last": False,
        "auto_start_timer": False,
    }
    assert review["questionnaire"] == list(DEFAULT_QUESTIONNAIRE)
    assert len(review["questionnaire"]) == 4
    assert review["scope"]["event"] == "" and review["baseline_metrics"] == []
    review["settings"]["anonymous"] = False
    assert rv.DEFAULT_SETTINGS["anonymous"] is True  # defaults are not shared


@pytest.mark.parametrize(
    ("title", "ok"),
    [("x", True), ("x" * 200, True), ("", False), ("x" * 201, False), (None, False)],
)
def test_title_length(title: object, ok: bool) -> None:
    if ok:
        assert rv.validate_title(title) == title
    else:
        with pytest.raises(ValidationError):
            rv.validate_title(title)


def test_patch_returns_only_given_keys_normalised() -> None:
    patch = rv.validate_review_patch(
        {
            "title": "New title",
            "scope": {"window_start": "2024-05-01T10:00:00+02:00", "event": " Outage "},
            "settings": {"votes_per_person": 5},
        }
    )
    assert patch == {
        "title": "New title",
        "scope": {"window_start": "2024-05-01T08:00:00Z", "event": "Outage"},
        "settings": {"votes_per_person": 5},
    }


def test_apply_patch_merges_scope_and_settings() -> None:
    review = rv.new_review("T")
    review = rv.apply_review_patch(review, {"scope": {"event": "Outage"}})
    review = rv.apply_review_patch(review, {"scope": {"question": "Why late?"}})
    review = rv.apply_review_patch(review, {"settings": {"leaders_last": True}})
    assert review["scope"]["event"] == "Outage"
    assert review["scope"]["question"] == "Why late?"
    assert review["settings"]["leaders_last"] is True
    assert review["settings"]["votes_per_person"] == 3


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"titel": "typo"}, "titel"),
        ({"scope": {"evnt": "x"}}, "scope.evnt"),
        ({"settings": {"votes": 3}}, "settings.votes"),
        ({"baseline_metrics": [{"name": "x", "target": 1}]}, "baseline_metrics[0].target"),
        ({"evidence_links": [{"url": "https://x.io", "label": "x"}]}, "evidence_links[0].label"),
    ],
)
def test_unknown_fields_are_named(patch: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        rv.validate_review_patch(patch)
    assert info.value.field == field
    assert repr(field) in info.value.detail


def test_status_and_empty_patches_refused() -> None:
    with pytest.raises(ValidationError, match="own command"):
        rv.validate_review_patch({"status": "live"})
    with pytest.raises(ValidationError, match="empty"):
        rv.validate_review_patch({})
    with pytest.raises(ValidationError, match="must be an object"):
        rv.validate_review_patch(["title"])


def test_window_end_must_follow_start_also_against_stored_value() -> None:
    with pytest.raises(ValidationError, match="window_end must be after"):
        rv.validate_review_patch(
            {
                "scope": {
                    "window_start": "2024-05-01T10:00:00Z",
                    "window_end": "2024-05-01T10:00:00Z",
                }
            }
        )
    review = rv.apply_review_patch(
        rv.new_review("T"), {"scope": {"window_start": "2024-05-01T10:00:00Z"}}
    )
    with pytest.raises(ValidationError, match="window_end must be after"):
        rv.apply_review_patch(review, {"scope": {"window_end": "2024-05-01T11:00:00+02:00"}})
    ok = rv.apply_review_patch(review, {"scope": {"window_end": "2024-05-01T13:00:00+02:00"}})
    assert ok["scope"]["window_end"] == "2024-05-01T11:00:00Z"
    cleared = rv.apply_review_patch(ok, {"scope": {"window_start": ""}})
    assert cleared["scope"]["window_start"] == ""


@pytest.mark.parametrize("value", ["2024-05-01T10:00:00", "tomorrow", True])
def test_window_bad_times(value: object) -> None:
    with pytest.raises(ValidationError, match=r"scope\.window_start"):
        rv.validate_review_patch({"scope": {"window_start": value}})


def test_metrics() -> None:
    metrics = rv.validate_metrics(
        [
            {"name": "Cost", "planned": 1000, "actual": 1250.5, "unit": "EUR"},
            {"name": "Go-live", "planned": "March", "actual": "April"},
            {"name": "Tickets", "planned": None, "actual": ""},
        ]
    )
    assert metrics[0] == {"name": "Cost", "planned": 1000, "actual": 1250.5, "unit": "EUR"}
    assert metrics[1]["unit"] == "" and metrics[1]["planned"] == "March"
    assert metrics[2]["planned"] is None and metrics[2]["actual"] is None


@pytest.mark.parametrize(
    ("metrics", "fragment"),
    [
        ("cost", "must be a list"),
        ([{"planned": 1}], "baseline_metrics[0].name is required"),
        ([{"name": "x", "planned": True}], "number or text"),
        ([{"name": "x", "actual": float("inf")}], "finite"),
        ([{"name": "x", "actual": "y" * 101}], "limit is 100"),
        ([{"name": "x"}] * 51, "at most 50"),
        (["x"], "must be an object"),
    ],
)
def test_metrics_errors(metrics: object, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        rv.validate_metrics(metrics)
    assert fragment in info.value.detail


def test_links() -> None:
    links = rv.validate_links(
        [{"url": "https://tickets.example.com/INC-1"}, {"url": "http://x.io", "title": "Logs"}]
    )
    assert links == [
        {"url": "https://tickets.example.com/INC-1", "title": "https://tickets.example.com/INC-1"},
        {"url": "http://x.io", "title": "Logs"},
    ]
    for bad in ("javascript:alert(1)", "ftp://x.io", "x.io", ""):
        with pytest.raises(ValidationError, match=r"evidence_links\[0\]\.url"):
            rv.validate_links([{"url": bad}])
    with pytest.raises(ValidationError, match="must be a list"):
        rv.validate_links({"url": "https://x.io"})


def test_settings() -> None:
    assert rv.validate_settings({"votes_per_person": 20, "anonymous": False}) == {
        "votes_per_person": 20,
        "anonymous": False,
    }
    for bad in (
        {"votes_per_person": 0},
        {"votes_per_person": 21},
        {"votes_per_person": "3"},
        {"votes_per_person": True},
    ):
        with pytest.raises(ValidationError, match="votes_per_person"):
            rv.validate_settings(bad)
    for key in ("hide_counts_until_closed", "anonymous", "leaders_last", "auto_start_timer"):
        with pytest.raises(ValidationError, match="true or false"):
            rv.validate_settings({key: "yes"})


def test_questionnaire() -> None:
    assert rv.validate_questionnaire(["  What surprised you?  "]) == ["What surprised you?"]
    for bad, fragment in (
        ([], "non-empty"),
        (["ok"] * 11, "at most 10"),
        ([""], "required"),
        (["x" * 301], "limit is 300"),
    ):
        with pytest.raises(ValidationError, match=fragment):
            rv.validate_questionnaire(bad)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("draft", "scheduled"),
        ("draft", "live"),
        ("scheduled", "live"),
        ("scheduled", "draft"),
        ("live", "closed"),
    ],
)
def test_allowed_transitions(current: str, target: str) -> None:
    assert rv.next_status(current, target) == target


@pytest.mark.parametrize(
    ("current", "target", "code"),
    [
        ("closed", "live", "review-closed"),
        ("closed", "draft", "review-closed"),
        ("live", "draft", "bad-transition"),
        ("live", "scheduled", "bad-transition"),
        ("draft", "closed", "bad-transition"),
        ("scheduled", "closed", "bad-transition"),
        ("live", "live", "same-status"),
    ],
)
def test_refused_transitions(current: str, target: str, code: str) -> None:
    with pytest.raises(Conflict) as info:
        rv.next_status(current, target)
    assert info.value.error == code
    assert info.value.status == 409


def test_unknown_status_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="unknown status 'done'"):
        rv.next_status("live", "done")


def test_closed_review_is_read_only() -> None:
    review = {**rv.new_review("T"), "status": "closed"}
    assert rv.is_read_only(review)
    with pytest.raises(Conflict, match="closed"):
        rv.apply_review_patch(review, {"title": "New"})


# --- delivery fields (issue 13): schedule, attendees, recap-only recipients -------------


def test_schedule_is_normalised_and_clearable() -> None:
    clean = rv.validate_review_patch({"schedule": {"starts_at": "2030-05-01T09:30:00+02:00"}})
    assert clean["schedule"] == {"starts_at": "2030-05-01T07:30:00Z", "minutes": 60}
    assert rv.validate_review_patch({"schedule": None})["schedule"] is None
    assert rv.new_review("x")["schedule"] is None


@pytest.mark.parametrize(
    "schedule",
    [
        {"minutes": 30},
        {"starts_at": "not a time"},
        {"starts_at": "2030-05-01T09:30:00Z", "minutes": 0},
        {"starts_at": "2030-05-01T09:30:00Z", "minutes": 24 * 60 + 1},
        {"starts_at": "2030-05-01T09:30:00Z", "minutes": True},
        {"starts_at": "2030-05-01T09:30:00Z", "where": "room 4"},
        "tomorrow",
    ],
)
def test_bad_schedules_are_refused(schedule: object) -> None:
    with pytest.raises(ValidationError):
        rv.validate_review_patch({"schedule": schedule})


def test_attendees_are_person_ids_without_duplicates() -> None:
    clean = rv.validate_review_patch({"attendees": ["pe_a1", "pe_b2", "pe_a1"]})
    assert clean["attendees"] == ["pe_a1", "pe_b2"]
    for bad in (["Ann"], [1], "pe_a1", ["pe_" + "x" * 100], [f"pe_{i}" for i in range(101)]):
        with pytest.raises(ValidationError):
            rv.validate_review_patch({"attendees": bad})


def test_recap_recipients_people_or_addresses() -> None:
    clean = rv.validate_review_patch({"recap_recipients": [
        {"person_id": "pe_c3"},
        {"email": " Ext@Partner.example ", "name": "Partner"},
        {"email": "ext@partner.example"},  # the same address again: kept once
        {"person_id": "pe_c3"},
    ]})  # fmt: skip
    assert clean["recap_recipients"] == [
        {"person_id": "pe_c3"},
        {"email": "Ext@Partner.example", "name": "Partner"},
    ]
    bad_lists: list[object] = [
        [{"email": "not-an-address"}],
        [{"person_id": "pe_c3", "email": "a@b.example"}],
        [{"name": "No address"}],
        [{"email": "a@b.example", "phone": "1"}],
        [{"email": f"p{i}@b.example"} for i in range(101)],
        {"person_id": "pe_c3"},
    ]
    for bad in bad_lists:
        with pytest.raises(ValidationError):
            rv.validate_review_patch({"recap_recipients": bad})
