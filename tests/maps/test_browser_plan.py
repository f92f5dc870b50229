"""The plan diff map in headless Chromium with the network closed, as a planner would open it."""

from pathlib import Path

import pytest

from geogrid.domain.answers import PlanImpact
from geogrid.maps.base import write_site
from geogrid.maps.plan import plan_diff_map
from geogrid.services.planning import plan_frames
from geogrid.store.engine import Bind
from tests.plans import split_plan

pytestmark = [pytest.mark.browser, pytest.mark.backends("spatialite")]

MOVED_CODES = (
    "return [...new Set([...document.querySelectorAll('path.geogrid-moved')].flatMap("
    " p => [...p.classList].filter(c => c.startsWith('geogrid-b-'))"
    "   .map(c => c.slice('geogrid-b-'.length))))]"
)


@pytest.fixture
def opened(sample_copy: Bind, tmp_path: Path, browser: object) -> PlanImpact:
    impact = split_plan(sample_copy)
    old, new, buildings = plan_frames(sample_copy, impact.plan.id)
    write_site({"plan": plan_diff_map(impact, old, new, buildings)}, tmp_path)
    browser.get((tmp_path / "plan.html").as_uri())  # type: ignore[attr-defined]
    return impact


def test_the_plan_map_draws_every_moving_building_offline_without_errors(
    opened: PlanImpact, browser: object
) -> None:
    from selenium.webdriver.common.by import By

    codes = browser.execute_script(MOVED_CODES)  # type: ignore[attr-defined]
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]  # type: ignore[attr-defined]

    assert sorted(codes) == sorted(m.building for m in opened.moves)
    assert browser.find_elements(By.CSS_SELECTOR, "path.geogrid-old")  # type: ignore[attr-defined]
    assert browser.find_elements(By.CSS_SELECTOR, "path.geogrid-added")  # type: ignore[attr-defined]
    assert browser.find_elements(By.CSS_SELECTOR, "path.geogrid-changed")  # type: ignore[attr-defined]
    assert errors == []


def test_clicking_a_moving_building_shows_from_and_to(
    opened: PlanImpact, browser: object
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    move = opened.moves[0]
    path = browser.find_elements(  # type: ignore[attr-defined]
        By.CSS_SELECTOR, f"path.geogrid-moved.geogrid-b-{move.building}"
    )[0]
    browser.execute_script(  # type: ignore[attr-defined]
        "arguments[0].scrollIntoView();"
        "const r = arguments[0].getBoundingClientRect();"
        "arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true,"
        " clientX: r.x + r.width / 2, clientY: r.y + r.height / 2}))",
        path,
    )

    text = WebDriverWait(browser, 5).until(  # type: ignore[arg-type]
        lambda b: next(
            (
                t
                for t in (
                    e.get_attribute("textContent")
                    for e in b.find_elements(By.CSS_SELECTOR, ".leaflet-popup-content")
                )
                if move.building in t
            ),
            None,
        )
    )
    assert "东街社区第1网格 → 东街社区第8网格" in text
    assert f"{move.households}" in text
    assert move.name
    assert move.name in text
