"""One error format for every service: RFC 9457 problem details.

Services raise :class:`DomainError` subclasses; :func:`install_error_handlers` maps those, request
validation failures, routing errors (404/405), oversized bodies (413) and anything unexpected (500)
to ``application/problem+json``. Nothing from an exception's internals (stack, SQL) is ever sent.
"""

from __future__ import annotations

import math
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:movieverse:problem:"

log = structlog.get_logger("movieverse.errors")


class FieldError(BaseModel):
    """One invalid input: where it is (``body.email``, ``query.page``) and what is wrong."""

    field: str
    message: str
    code: str


class Problem(BaseModel):
    """RFC 9457 problem details, as every error response carries them."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None


class DomainError(Exception):
    """A failure a client can act on. Subclasses fix the status and a stable problem slug."""

    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        errors: list[FieldError] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.errors = errors


class BadRequest(DomainError):
    pass


class ValidationFailed(DomainError):
    status = 422
    slug = "validation-error"
    title = "Invalid input"


class Unauthorized(DomainError):
    status = 401
    slug = "unauthorized"
    title = "Authentication required"

    def __init__(self, detail: str = "Missing or invalid credentials") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="movieverse"'})


class Forbidden(DomainError):
    status = 403
    slug = "forbidden"
    title = "Forbidden"


class NotFound(DomainError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class PreconditionFailed(DomainError):
    status = 412
    slug = "precondition-failed"
    title = "Precondition failed"


class TooManyRequests(DomainError):
    status = 429
    slug = "too-many-requests"
    title = "Too many requests"

    def __init__(
        self,
        detail: str,
        *,
        retry_after_seconds: float,
        headers: dict[str, str] | None = None,
    ) -> None:
        """``headers``: more fields for the answer (a rate limit's RateLimit-Policy/RateLimit)."""
        self.retry_after_seconds = max(1, math.ceil(retry_after_seconds))
        super().__init__(
            detail, headers={**(headers or {}), "Retry-After": str(self.retry_after_seconds)}
        )


class NotImplementedHere(DomainError):
    """A feature this installation lacks (an optional extra not installed, or switched off)."""

    status = 501
    slug = "not-implemented"
    title = "Not implemented"


class ServiceUnavailable(DomainError):
    status = 503
    slug = "service-unavailable"
    title = "Service unavailable"


def problem_response(
    *,
    status: int,
    title: str,
    detail: str | None,
    instance: str | None,
    type_: str = "about:blank",
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    problem = Problem(
        type=type_, title=title, status=status, detail=detail, instance=instance, errors=errors
    )
    return JSONResponse(
        problem.model_dump(exclude_none=True),
        status_code=status,
        headers=headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


def _status_title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _field_path(loc: tuple[int | str, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc) or "request"


_PARAMETER_LOCATIONS = frozenset({"query", "path", "header", "cookie"})


def _validation_errors(exc: RequestValidationError) -> list[FieldError]:
    errors = []
    for error in exc.errors():
        # Pydantic messages describe the rule, never echo secrets; the input value is dropped.
        errors.append(
            FieldError(
                field=_field_path(error.get("loc", ())),
                message=str(error.get("msg", "invalid value")),
                code=str(error.get("type", "invalid")),
            )
        )
    return errors


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return problem_response(
        status=exc.status,
        title=exc.title,
        detail=exc.detail,
        instance=request.url.path,
        type_=PROBLEM_TYPE_PREFIX + exc.slug,
        errors=exc.errors,
        headers=exc.headers,
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = _validation_errors(exc)
    if any(e.code == "json_invalid" for e in errors):
        return problem_response(
            status=400,
            title="Malformed JSON",
            detail="The request body is not valid JSON.",
            instance=request.url.path,
            type_=PROBLEM_TYPE_PREFIX + "malformed-json",
        )
    if all(e.field.split(".", 1)[0] in _PARAMETER_LOCATIONS for e in errors):
        # A bad query or path parameter makes the request itself malformed (400); a body that
        # parses but breaks the rules is unprocessable content (422).
        names = ", ".join(sorted({e.field.split(".", 1)[-1] for e in errors}))
        return problem_response(
            status=400,
            title="Invalid parameter",
            detail=f"Invalid value for: {names}.",
            instance=request.url.path,
            type_=PROBLEM_TYPE_PREFIX + "invalid-parameter",
            errors=errors,
        )
    return problem_response(
        status=422,
        title="Invalid input",
        detail=f"{len(errors)} field(s) failed validation.",
        instance=request.url.path,
        type_=PROBLEM_TYPE_PREFIX + "validation-error",
        errors=errors,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else None
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"No resource at {request.url.path}."
    if exc.status_code == 405:
        detail = f"Method {request.method} is not allowed on {request.url.path}."
    return problem_response(
        status=exc.status_code,
        title=_status_title(exc.status_code),
        detail=detail,
        instance=request.url.path,
        headers=dict(exc.headers) if exc.headers else None,
    )


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    # The traceback goes to the log with the request id; the client sees only the id to quote.
    log.exception("unhandled_error", path=request.url.path, error_type=type(exc).__name__)
    return problem_response(
        status=500,
        title="Internal Server Error",
        detail="An unexpected error occurred. Quote the X-Request-ID header when reporting it.",
        instance=request.url.path,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": Problem, "description": "Client error (RFC 9457 problem details)"},
    "5XX": {"model": Problem, "description": "Server error (RFC 9457 problem details)"},
}
