"""Headless Chromium for the map tests, with the network closed as on an intranet."""

import os
import shutil
from collections.abc import Iterator

import pytest


def start_chromium(*, loopback: bool = False) -> object:
    """Headless Chromium with no network; with ``loopback``, 127.0.0.1 still answers.

    Skips (fails in CI) when Debian's chromium and chromium-driver are missing.
    """
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        reason = "headless Chromium not installed (Debian chromium, chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        # No network at all: every request goes to a proxy that is not there
        # (a served page's own origin excepted, with ``loopback``).
        "--proxy-server=127.0.0.1:9",
        "--proxy-bypass-list=127.0.0.1"
        if loopback
        else "--proxy-bypass-list=<-loopback>",
        "--window-size=1000,800",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver), options=options)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    chrome = start_chromium()
    yield chrome
    chrome.quit()  # type: ignore[attr-defined]
