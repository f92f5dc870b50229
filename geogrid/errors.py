"""Errors (错误) raised across geogrid; mapping to HTTP lives in the API, not here."""

from typing import TYPE_CHECKING

from geogrid.messages import Lang, localise, render

if TYPE_CHECKING:
    from geogrid.io.report import ImportReport


class GeogridError(Exception):
    """Base of every error a user can cause; ``code`` names the problem."""

    code: str = "geogrid_error"

    def __init__(self, code: str | None = None, /, **params: object) -> None:
        if code is not None:
            self.code = code
        self.params = params
        super().__init__(self.message("en"))

    def message(self, lang: Lang = "zh") -> str:
        """The message in ``lang``."""
        return render(self.code, lang, **localise(self.params, lang))


class InvalidInput(GeogridError):
    """Input that cannot be used as given (输入无效): a bad file, CRS, option or value."""

    code = "value_invalid"


class BadParameter(InvalidInput):
    """A request parameter a web standard refuses outright (请求参数无效): unknown or malformed.

    OGC API - Features wants these refused as bad requests (its requirements
    /req/core/query-param-unknown and -invalid), not as unusable input.
    """

    code = "parameter_value_invalid"


class NotFound(GeogridError):
    """A code or name that names nothing stored (不存在); the code says what kind."""

    def __init__(self, code: str, /, **params: object) -> None:
        super().__init__(code, **params)


class Unauthorized(GeogridError):
    """No valid login (未登录或凭据无效): a wrong password, or an unknown or expired token."""

    code = "login_failed"


class Conflict(GeogridError):
    """A write based on a stale version (版本冲突): someone changed the record first."""

    code = "version_conflict"


class Outdated(Conflict):
    """A change drafted on data that has changed since (已过期): a plan on older grids.

    Unlike a stale version (412, resend with the new ETag) the draft itself
    must be brought up to date first (``plan rebase``): 409.
    """

    code = "plan_stale"


class TooManyRequests(GeogridError):
    """Too many failed logins (登录过于频繁); ``retry_after`` says how many seconds to wait."""

    code = "login_throttled"


class PreconditionRequired(GeogridError):
    """A write without the version it is based on (缺少 If-Match)."""

    code = "precondition_required"


class Forbidden(GeogridError):
    """The caller's role may not see this (无权访问): a staff page asked for without a staff login."""

    code = "forbidden"


class StorageError(GeogridError):
    """The database cannot be reached or set up (数据库错误)."""

    code = "database_unavailable"


class ImportRejected(GeogridError):
    """An import with record errors (导入被拒绝); nothing was written."""

    code = "import_rejected"

    def __init__(self, report: "ImportReport") -> None:
        self.report = report
        super().__init__(n_errors=len(report.errors))
