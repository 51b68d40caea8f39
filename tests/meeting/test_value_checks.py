from datetime import UTC, date, datetime

import pytest

from debrief.meeting.errors import ValidationError
from debrief.meeting.values import (
    check_bool,
    check_int,
    check_keys,
    clean_text,
    format_utc,
    is_http_url,
    normalize_time,
    parse_date,
    parse_time,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-05-01T12:00:00Z", "2024-05-01T12:00:00Z"),
        ("2024-05-01T14:00:00+02:00", "2024-05-01T12:00:00Z"),
        ("2024-05-01 07:30:00-04:30", "2024-05-01T12:00:00Z"),
        ("2024-05-01T12:00:00.250Z", "2024-05-01T12:00:00.250Z"),
        (1714564800, "2024-05-01T12:00:00Z"),
        ("1714564800", "2024-05-01T12:00:00Z"),
        (1714564800123, "2024-05-01T12:00:00.123Z"),
        ("1714564800.5", "2024-05-01T12:00:00.500Z"),
    ],
)
def test_normalize_time(raw: object, expected: str) -> None:
    assert normalize_time(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("2024-05-01T12:00:00", "no time zone"),
        ("yesterday", "not an ISO 8601"),
        ("", "missing"),
        (None, "missing"),
        (True, "true/false"),
        (-5, "not a usable"),
        (float("nan"), "not a usable"),
    ],
)
def test_parse_time_refuses(raw: object, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_time(raw)


def test_format_utc_drops_zero_millis() -> None:
    assert format_utc(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2024-01-02T03:04:05Z"


def test_parse_date() -> None:
    assert parse_date("2025-03-31") == date(2025, 3, 31)
    assert parse_date("2025-03-31T10:00:00Z") == date(2025, 3, 31)
    assert parse_date(date(2025, 1, 1)) == date(2025, 1, 1)
    with pytest.raises(ValueError, match="not a date"):
        parse_date("31/03/2025")
    with pytest.raises(ValueError, match="missing"):
        parse_date("  ")


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://example.com/x?y=1", True),
        ("http://localhost:8080", True),
        ("javascript:alert(1)", False),
        ("data:text/html,hi", False),
        ("ftp://example.com", False),
        ("https://", False),
        ("https://exa mple.com", False),
        ("example.com", False),
    ],
)
def test_is_http_url(url: str, ok: bool) -> None:
    assert is_http_url(url) is ok


def test_clean_text() -> None:
    assert clean_text("  a\n b  ", "title", max_len=10, single_line=True) == "a b"
    assert clean_text(None, "x", max_len=5) == ""
    with pytest.raises(ValidationError, match="title is required"):
        clean_text("   ", "title", max_len=10, min_len=1)
    with pytest.raises(ValidationError, match="limit is 3"):
        clean_text("abcd", "x", max_len=3)
    with pytest.raises(ValidationError, match="must be text"):
        clean_text(5, "x", max_len=3)
    with pytest.raises(ValidationError, match="control characters"):
        clean_text("a\x00b", "x", max_len=9)


def test_check_int_and_bool_and_keys() -> None:
    assert check_int(3.0, "n", low=1, high=5) == 3
    for bad in (True, 2.5, "3", None):
        with pytest.raises(ValidationError, match="whole number"):
            check_int(bad, "n", low=1, high=5)
    with pytest.raises(ValidationError, match="between 1 and 5"):
        check_int(6, "n", low=1, high=5)
    assert check_bool(False, "b") is False
    with pytest.raises(ValidationError, match="true or false"):
        check_bool(1, "b")
    with pytest.raises(ValidationError) as info:
        check_keys({"a": 1, "zz": 2}, "scope", ("a",))
    assert info.value.field == "scope.zz"
    assert "'scope.zz'" in info.value.detail
    with pytest.raises(ValidationError, match="must be an object"):
        check_keys([], "scope", ("a",))
