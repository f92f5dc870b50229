"""Findings 5 and 6 of issue 13: security headers on every answer, a CSP the pages
work under, and /docs drawn with no internet (Swagger UI ships in the package)."""

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from geogrid.api.app import create_app
from geogrid.api.deps import get_caller
from geogrid.config import Settings
from geogrid.domain.access import Caller, Role
from geogrid.store.engine import Bind
from tests.maps.conftest import start_chromium

COMMUNITY, GRID = "620899001001", "620899001001001"
PAGES = [
    "/docs",
    f"/maps/public/{COMMUNITY}.html",
    f"/maps/staff/{COMMUNITY}.html",
    f"/maps/coverage/{COMMUNITY}.html",
    f"/maps/cards/{GRID}.html",
]


@pytest.mark.parametrize(
    "path", [*PAGES, "/areas?level=grid&limit=1", "/openapi.json", "/no-such-route"]
)
def test_every_answer_carries_the_security_headers(
    client: TestClient, path: str
) -> None:
    headers = client.get(path).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "http" not in csp  # no tiles configured: nothing from elsewhere


def test_docs_need_no_cdn(client: TestClient) -> None:
    page = client.get("/docs").text
    assert "cdn" not in page.lower()
    assert "/static/swagger-ui/swagger-ui-bundle.js" in page
    assert client.get("/static/swagger-ui/swagger-ui-bundle.js").status_code == 200


@pytest.fixture
def live(sample_db: Bind) -> Iterator[str]:
    """The app on a free local port, every caller an admin (pages without a login form)."""
    import uvicorn

    settings = Settings(_env_file=None, database_url="sqlite:///unused.sqlite")  # type: ignore[call-arg]
    app = create_app(settings, bind=sample_db)
    app.dependency_overrides[get_caller] = lambda: Caller(Role.ADMIN, "root")
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, ws="none")
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


DRAWN = {
    "/docs": "return document.querySelectorAll('.swagger-ui .opblock').length",
    "map": "return document.querySelectorAll('.leaflet-interactive').length",
    "card": "return document.querySelectorAll('svg').length",
}


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.backends("spatialite")
def test_pages_draw_under_the_csp_with_the_network_closed(live: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    chrome = start_chromium(loopback=True)
    try:
        for path in PAGES:
            chrome.get(live + path)  # type: ignore[attr-defined]
            kind = "/docs" if path == "/docs" else "card" if "cards" in path else "map"
            WebDriverWait(chrome, 15).until(  # type: ignore[arg-type]
                lambda c, script=DRAWN[kind]: c.execute_script(script) > 0
            )
            logs = chrome.get_log("browser")  # type: ignore[attr-defined]
            refused = [
                e["message"] for e in logs if "Content Security Policy" in e["message"]
            ]
            assert refused == [], path
            errors = [
                e["message"]
                for e in logs
                if e["level"] == "SEVERE" and "favicon.ico" not in e["message"]
            ]
            assert errors == [], path
    finally:
        chrome.quit()  # type: ignore[attr-defined]
