import pytest

from debrief.meeting.errors import (
    Conflict,
    DebriefError,
    DomainError,
    Forbidden,
    NotFound,
    TimelineImportError,
    ValidationError,
)


@pytest.mark.parametrize(
    ("cls", "status", "code"),
    [
        (DomainError, 400, "bad-request"),
        (ValidationError, 422, "invalid"),
        (NotFound, 404, "not-found"),
        (Conflict, 409, "conflict"),
        (Forbidden, 403, "forbidden"),
        (TimelineImportError, 422, "bad-timeline"),
    ],
)
def test_status_and_default_code(cls: type[DomainError], status: int, code: str) -> None:
    err = cls("something is off")
    assert isinstance(err, DebriefError)
    assert isinstance(err, DomainError)
    assert err.status == status
    assert err.to_dict() == {"error": code, "detail": "something is off"}
    assert str(err) == "something is off"


def test_custom_code_and_field_do_not_leak_into_class() -> None:
    err = Conflict("already running", error="timer-running", field="timer")
    assert err.to_dict() == {
        "error": "timer-running",
        "detail": "already running",
        "field": "timer",
    }
    assert Conflict("x").error == "conflict"


def test_timeline_import_error_is_a_validation_error_with_line() -> None:
    err = TimelineImportError("line 3: bad time", line=3)
    assert isinstance(err, ValidationError)
    assert err.to_dict()["line"] == 3
    with pytest.raises(ValidationError):
        raise err


def test_repr_names_class_and_code() -> None:
    assert repr(NotFound("no phase")) == "NotFound('no phase', error='not-found')"
