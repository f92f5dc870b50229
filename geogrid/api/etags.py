"""ETags and If-Match (乐观并发): a record's version as HTTP says it.

The services compare plain version numbers; turning them into ``ETag``
headers and back is the web surface's business, kept here.
"""

from geogrid.errors import Conflict, PreconditionRequired


def etag(version: int) -> str:
    """The HTTP ETag of a record version."""
    return f'"{version}"'


def parse_if_match(header: str | None, what: str) -> int:
    """The version an If-Match header names.

    Raises:
        PreconditionRequired: no header, or ``*`` (428): an edit must name the
            version its editor saw, or it could overwrite a change unseen.
        Conflict: a header that names no version of ours (412).
    """
    if header is None or not header.strip() or header.strip() == "*":
        raise PreconditionRequired("precondition_required", what=what)
    value = header.strip()
    value = value.removeprefix("W/").strip('"')
    if not value.isdigit():
        raise Conflict("version_conflict", what=what, current="?", given=header)
    return int(value)
