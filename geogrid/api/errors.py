"""Errors to HTTP in one place (错误映射): RFC 9457 problem+json, Chinese with English."""

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from geogrid.errors import (
    BadParameter,
    Conflict,
    Forbidden,
    GeogridError,
    ImportRejected,
    InvalidInput,
    NotFound,
    Outdated,
    PreconditionRequired,
    StorageError,
    TooManyRequests,
    Unauthorized,
)
from geogrid.messages import render

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

RETRY_AFTER_S = 5
"""What a 503 asks a client to wait: a restarting PostgreSQL is back in seconds."""

STATUS: dict[type[GeogridError], int] = {
    NotFound: 404,
    Forbidden: 403,
    Unauthorized: 401,
    TooManyRequests: 429,
    Outdated: 409,
    Conflict: 412,
    PreconditionRequired: 428,
    BadParameter: 400,  # OGC API - Features: unknown or malformed parameters
    InvalidInput: 422,
    ImportRejected: 422,
    StorageError: 503,
}


def _status(exc: GeogridError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def problem(
    status: int, code: str, detail_zh: str, detail_en: str, **extra: object
) -> JSONResponse:
    """A problem+json response with the message in both languages."""
    body = {
        "type": f"https://geogrid.invalid/problems/{code}",
        "title": code,
        "status": status,
        "code": code,
        "detail": detail_zh,
        "detail_en": detail_en,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def coded_problem(
    status: int,
    code: str,
    /,
    *,
    headers: dict[str, str] | None = None,
    **params: object,
) -> JSONResponse:
    """A problem+json response whose text is the catalogue message ``code``."""
    response = problem(
        status, code, render(code, "zh", **params), render(code, "en", **params)
    )
    response.headers.update(headers or {})
    return response


async def _geogrid_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GeogridError)
    if isinstance(exc, StorageError):
        # Where the database lives (URL, file path, host, port) and the
        # driver's words are for the log, not for whoever is calling.
        log.warning("database unavailable on %s: %s", request.url.path, exc)
        return coded_problem(
            503, "service_unavailable", headers={"Retry-After": str(RETRY_AFTER_S)}
        )
    extra: dict[str, object] = {"params": {k: str(v) for k, v in exc.params.items()}}
    if isinstance(exc, ImportRejected):
        extra["report"] = exc.report.to_dict()
    response = problem(
        _status(exc), exc.code, exc.message("zh"), exc.message("en"), **extra
    )
    if isinstance(exc, Unauthorized):
        response.headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, TooManyRequests):
        response.headers["Retry-After"] = str(exc.params["retry_after"])
    return response


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_parameter_error(e) for e in exc.errors()]
    names = ", ".join(dict.fromkeys(e["parameter"] for e in errors))
    return problem(
        422,
        "parameter_invalid",
        render("parameter_invalid", "zh", names=names),
        render("parameter_invalid", "en", names=names),
        errors=errors,
    )


def _parameter_error(error: dict[str, Any]) -> dict[str, str]:
    loc = [str(p) for p in error["loc"]]
    if error["type"] == "json_invalid":
        # FastAPI locates a JSON syntax error as ("body", <character offset>);
        # the parameter is the body, and the offset belongs in the message.
        reason = error.get("ctx", {}).get("error", "")
        where = loc[1] if len(loc) > 1 else "?"
        return {"parameter": "body", "message": f"Invalid JSON at {where}: {reason}"}
    return {"parameter": ".".join(loc), "message": str(error["msg"])}


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    # Starlette's own refusals: no route, wrong method, a missing static file.
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    path = request.url.path
    if exc.status_code == 404:
        return coded_problem(404, "route_not_found", headers=headers, path=path)
    if exc.status_code == 405:
        allowed = headers.get("Allow", "GET")
        return coded_problem(
            405,
            "method_not_allowed",
            headers=headers,
            path=path,
            method=request.method,
            allowed=allowed,
        )
    return coded_problem(
        exc.status_code,
        "http_error",
        headers=headers,
        status=exc.status_code,
        reason=exc.detail,
    )


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    # The traceback goes to the log, never to the caller (no SQL, paths or
    # stack in ``detail``); Starlette re-raises after this for the server log.
    log.error(
        "unhandled error on %s %s", request.method, request.url.path, exc_info=exc
    )
    return coded_problem(500, "internal_error")


class Problem(BaseModel):
    """The body of every error answer (RFC 9457 problem details), zh with en."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    code: str
    detail: str
    detail_en: str
    params: dict[str, str] | None = None
    errors: list[dict[str, Any]] | None = None


def _document_problems(app: FastAPI) -> None:
    """Make the OpenAPI say what errors look like: problem+json on every operation.

    Done once here rather than per route, so every router, including ones
    added later, documents its 4xx/5xx answers the way they are sent.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _problem_responses(build())
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _problem_responses(schema: dict[str, Any]) -> None:
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = Problem.model_json_schema()
    content = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status, response in responses.items():
                if status == "default" or status[:1] in ("4", "5"):
                    response["content"] = content
            responses.setdefault(
                "default", {"description": "错误 / Error", "content": content}
            )
    # FastAPI's own 422 body is never sent; drop it unless something else uses it.
    schemas.pop("HTTPValidationError", None)
    if "#/components/schemas/ValidationError" not in json.dumps(schema):
        schemas.pop("ValidationError", None)


def install_error_handlers(app: FastAPI) -> None:
    """Map every error to problem+json, and document that in the OpenAPI.

    Geogrid errors, request validation (including malformed JSON), Starlette's
    404/405, and any uncaught exception (a logged 500 without internals).
    """
    app.add_exception_handler(GeogridError, _geogrid_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _internal_error)
    _document_problems(app)
