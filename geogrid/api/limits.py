"""A size limit on request bodies (请求体大小限制), answered with 413 problem+json."""

from collections.abc import Iterator

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geogrid.api.errors import coded_problem


class BodySizeLimit:
    """Refuse a request whose body is over ``max_body_bytes`` before the app sees it.

    A declared ``Content-Length`` over the limit is refused before a byte is
    read. Any other body, chunked ones included, is read here and counted as
    it streams in, and refused as soon as it passes the limit; a body within
    the limit is then handed to the app unchanged. Pure ASGI, so the refusal
    happens before routing, parsing or any database work.
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or answer 413 in its place."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _content_length(scope)
        if length is not None and length > self.max_body_bytes:
            await self._refuse(scope, receive, send)
            return
        received: list[Message] = []
        size = 0
        while True:
            message = await receive()
            received.append(message)
            if message["type"] != "http.request":
                break  # the client went away; the app will see that too
            size += len(message.get("body", b""))
            if size > self.max_body_bytes:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(iter(received), receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = coded_problem(
            413,
            "payload_too_large",
            limit=self.max_body_bytes,
            limit_mb=f"{self.max_body_bytes / 1_000_000:g}",
        )
        await response(scope, receive, send)


def _replay(received: Iterator[Message], receive: Receive) -> Receive:
    # The body read above first, then the live channel (for disconnects).
    async def replayed() -> Message:
        return next(received, None) or await receive()

    return replayed


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # malformed; counted as it streams instead
    return None
