"""Exception tree for the meeting domain.

Shaped like the `websockets` library: one base class, then a few families. The HTTP
layer only needs `DomainError`: it carries a machine-readable `error` code, a human
`detail` and the HTTP `status` to answer with, so mapping is one `except` clause.
"""

from __future__ import annotations

from typing import Any


class DebriefError(Exception):
    """Base class of every error raised by Debrief code."""


class DomainError(DebriefError):
    """A request the domain refuses; maps to an HTTP 4xx `{"error", "detail"}` body.

    Subclasses set a default `status` and `error` code; a caller may pass a more
    specific `error` code (e.g. "bad-timeline") without creating a new class.
    """

    status: int = 400
    error: str = "bad-request"

    def __init__(self, detail: str, *, error: str | None = None, field: str | None = None):
        super().__init__(detail)
        self.detail = detail
        if error is not None:
            self.error = error
        # The offending field (dotted path), when there is one; handy for forms.
        self.field = field

    def to_dict(self) -> dict[str, Any]:
        """The JSON body the HTTP layer sends back."""
        body: dict[str, Any] = {"error": self.error, "detail": self.detail}
        if self.field is not None:
            body["field"] = self.field
        return body

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.detail!r}, error={self.error!r})"


class ValidationError(DomainError):
    """The input is well-formed JSON but its content is not acceptable (422)."""

    status = 422
    error = "invalid"


class NotFound(DomainError):
    """The thing named in the request does not exist (404)."""

    status = 404
    error = "not-found"


class Conflict(DomainError):
    """The request does not fit the current state, e.g. pausing a paused timer (409)."""

    status = 409
    error = "conflict"


class Forbidden(DomainError):
    """The caller's role does not allow this (403)."""

    status = 403
    error = "forbidden"


class TimelineImportError(ValidationError):
    """A timeline file could not be imported; nothing from it was kept.

    `line` is the 1-based line (or message index for JSON arrays) that failed, when known.
    """

    error = "bad-timeline"

    def __init__(self, detail: str, *, line: int | None = None):
        super().__init__(detail)
        self.line = line

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        if self.line is not None:
            body["line"] = self.line
        return body
