"""Every error leaves as JSON: {"error": <code>, "detail": <human text>}."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from debrief.meeting.errors import DomainError
from debrief.storage.base import StorageError, StorageStalled, StorageUnavailable


class ApiError(Exception):
    def __init__(self, status: int, error: str, detail: Any = "") -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail


def error_response(status: int, error: str, detail: Any = "") -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status)


M = TypeVar("M", bound=BaseModel)


async def read_body(request: Request, model: type[M]) -> M:
    """Parse the JSON body into ``model``: 400 for bad JSON, 422 naming bad fields."""
    raw = await request.body()
    try:
        # strict: a JSON false is not a 0, nor a 0 a false (what the schema says is what counts)
        return model.model_validate_json(raw or b"{}", strict=True)
    except ValidationError as exc:
        problems = exc.errors(include_url=False, include_context=False, include_input=False)
        if any(p["type"] == "json_invalid" for p in problems):
            raise ApiError(400, "bad-json", "the request body is not valid JSON") from exc
        detail = [
            {"field": ".".join(str(part) for part in p["loc"]) or "(body)", "problem": p["msg"]}
            for p in problems
        ]
        raise ApiError(422, "invalid-fields", detail) from exc


async def handle_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.error, exc.detail)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    codes = {404: "not-found", 405: "method-not-allowed"}
    response = error_response(
        exc.status_code, codes.get(exc.status_code, "http-error"), exc.detail or ""
    )
    response.headers.update(exc.headers or {})  # e.g. Allow on a 405
    return response


async def handle_domain_error(request: Request, exc: Exception) -> Response:
    """The meeting domain's refusals carry their own status and error code."""
    assert isinstance(exc, DomainError)
    return JSONResponse(exc.to_dict(), status_code=exc.status)


async def handle_storage_error(request: Request, exc: Exception) -> Response:
    """Storage unreachable (e.g. Redis lost), stalled or full: refuse, the client retries."""
    if isinstance(exc, StorageStalled):
        detail = f"{exc}: your request may or may not have been saved - check, then retry"
    elif isinstance(exc, StorageUnavailable):
        detail = f"{exc}: nothing was saved - try again once storage is back (see /healthz)"
    else:
        detail = f"{exc} - try again shortly"
    return error_response(503, "storage-unavailable", detail)


async def handle_internal_error(request: Request, exc: Exception) -> Response:
    """A bug: still JSON for the client (Starlette logs the traceback and re-raises)."""
    return error_response(500, "internal", "something went wrong on the server; it was logged")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    Exception: handle_internal_error,  # Starlette's outermost handler: any uncaught error
    ApiError: handle_api_error,
    HTTPException: handle_http_exception,
    DomainError: handle_domain_error,
    StorageError: handle_storage_error,
}
