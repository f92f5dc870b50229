"""Security headers (安全响应头) on every answer, the Content-Security-Policy included.

The pages this service draws (maps, contact cards, /docs) load everything
from this origin: Leaflet, geogrid.js and Swagger UI ship in the package.
So the policy allows only 'self', plus the tile hosts when base tiles are
configured. Inline scripts stay allowed: folium writes each map's set-up as
an inline script, and every name on a page is written as text, never markup
(the maps' own defence against injection).
"""

from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geogrid.maps.tiles import BaseMap


def content_security_policy(tiles: BaseMap) -> str:
    """The CSP for this service: self only, and the configured tile hosts for images."""
    hosts = sorted({_source(url) for url in tiles.urls()})
    images = " ".join(["'self'", "data:", "blob:", *hosts])
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self' 'unsafe-inline'",
            "style-src 'self' 'unsafe-inline'",
            f"img-src {images}",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def _source(url: str) -> str:
    """A tile URL template as a CSP source: ``t{s}.host`` → ``*.host``."""
    parts = urlsplit(url)
    host = parts.netloc
    if "{s}" in host:  # subdomains: a CSP wildcard covers the leftmost label only
        host = "*." + host.split(".", 1)[1]
    return f"{parts.scheme}://{host}"


class SecurityHeaders:
    """Add nosniff, a referrer policy, frame denial and the CSP to each response."""

    def __init__(self, app: ASGIApp, *, csp: str) -> None:
        self.app = app
        self.headers = {
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            "X-Frame-Options": "DENY",
            "Content-Security-Policy": csp,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on and add the headers to its answer."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
