"""Errors to HTTP in one place (错误映射): RFC 9457 problem+json, Chinese with English."""

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from geogrid.errors import (
    BadParameter,
    Forbidden,
    GeogridError,
    ImportRejected,
    InvalidInput,
    NotFound,
    StorageError,
)

STATUS: dict[type[GeogridError], int] = {
    NotFound: 404,
    Forbidden: 403,
    BadParameter: 400,  # OGC API - Features: unknown or malformed parameters
    InvalidInput: 422,
    ImportRejected: 422,
    StorageError: 503,
}


def _status(exc: GeogridError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]  # type: ignore[index]
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
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


async def _geogrid_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GeogridError)
    extra: dict[str, object] = {"params": {k: str(v) for k, v in exc.params.items()}}
    if isinstance(exc, ImportRejected):
        extra["report"] = exc.report.to_dict()
    return problem(
        _status(exc), exc.code, exc.message("zh"), exc.message("en"), **extra
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"parameter": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
        for e in exc.errors()
    ]
    names = "、".join(e["parameter"] for e in errors)
    return problem(
        422,
        "parameter_invalid",
        f"参数无效：{names}",
        f"Invalid parameter: {', '.join(e['parameter'] for e in errors)}",
        errors=errors,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Map every geogrid error and request validation error to problem+json."""
    app.add_exception_handler(GeogridError, _geogrid_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
