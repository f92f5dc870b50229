"""The coverage map in headless Chromium with the network closed, as staff would open it."""

from pathlib import Path

import pytest

from geogrid.config import Settings
from geogrid.domain.findings import RULES
from geogrid.maps.base import write_site
from geogrid.maps.coverage import coverage_map
from geogrid.services.coverage import CoverageResult, check_options, current_report
from geogrid.services.publishing import public_map_data
from geogrid.store.engine import Bind

pytestmark = [pytest.mark.browser, pytest.mark.backends("spatialite")]

VACANT = "620899001004"  # a grid without its 法律咨询员, a building without its 楼栋长
COMMUNITIES = [
    VACANT,
    "620899001006",  # the seeded gap, the building in it and its addresses
    "620899001007",  # homes beyond every 睦邻中心's 500 m
]


def _open(
    bind: Bind, community: str, tmp_path: Path, browser: object
) -> CoverageResult:
    """Write the coverage map as ``geogrid map coverage`` does and open it."""
    options = check_options(Settings(_env_file=None))  # type: ignore[call-arg]
    result = current_report(bind, options, community=community)
    write_site(
        {community: coverage_map(result, public_map_data(bind, community))}, tmp_path
    )
    browser.get((tmp_path / f"{community}.html").as_uri())  # type: ignore[attr-defined]
    return result


def _drawn_keys(result: CoverageResult) -> set[str]:
    return {
        key
        for key, geom in zip(
            result.findings["key"], result.findings.geometry, strict=True
        )
        if geom is not None and not geom.is_empty
    }


@pytest.mark.parametrize("community", COMMUNITIES)
def test_every_finding_is_drawn_offline_without_errors(
    sample_db: Bind, tmp_path: Path, browser: object, community: str
) -> None:
    result = _open(sample_db, community, tmp_path, browser)
    keys = browser.execute_script(  # type: ignore[attr-defined]
        "return [...document.querySelectorAll('path.geogrid-finding')].flatMap("
        " p => [...p.classList].filter(c => c.startsWith('geogrid-key-'))"
        "   .map(c => c.slice('geogrid-key-'.length)))"
    )
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]  # type: ignore[attr-defined]

    assert len(result.findings) > 0
    assert set(keys) == _drawn_keys(result)
    assert errors == []


def test_grids_with_a_vacant_role_are_hatched(
    sample_db: Bind, tmp_path: Path, browser: object
) -> None:
    result = _open(sample_db, VACANT, tmp_path, browser)
    vacant = result.findings[result.findings["rule"] == "role_vacant"]
    fills = browser.execute_script(  # type: ignore[attr-defined]
        "return Object.fromEntries([...document.querySelectorAll('path.geogrid-vacant')]"
        ".flatMap(p => [...p.classList].filter(c => c.startsWith('geogrid-key-'))"
        "  .map(c => [c.slice('geogrid-key-'.length), getComputedStyle(p).fill])))"
    )

    assert len(vacant) >= 2  # the grid's and the building's
    assert set(fills) == set(vacant["key"])
    for fill in fills.values():
        assert "url(" in fill
        assert "#geogrid-hatch" in fill
    # The pattern is in the page itself, not fetched.
    assert browser.execute_script(  # type: ignore[attr-defined]
        "return document.querySelector('svg pattern#geogrid-hatch') !== null"
    )


@pytest.mark.parametrize("community", COMMUNITIES)
def test_clicking_a_finding_opens_its_rule_and_measure(
    sample_db: Bind, tmp_path: Path, browser: object, community: str
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    result = _open(sample_db, community, tmp_path, browser)
    drawn = _drawn_keys(result)
    for row in result.findings.itertuples():
        if row.key not in drawn:
            continue
        path = browser.find_elements(By.CSS_SELECTOR, f"path.geogrid-key-{row.key}")[0]  # type: ignore[attr-defined]
        browser.execute_script(  # type: ignore[attr-defined]
            "const r = arguments[0].getBoundingClientRect();"
            "arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true,"
            " clientX: r.x + r.width / 2, clientY: r.y + r.height / 2}))",
            path,
        )

        text = WebDriverWait(browser, 5).until(  # type: ignore[arg-type]
            lambda b, key=row.key: next(
                (
                    t
                    for t in (
                        e.get_attribute("textContent")
                        for e in b.find_elements(
                            By.CSS_SELECTOR, ".leaflet-popup-content"
                        )
                    )
                    if f"key {key}" in t
                ),
                None,
            )
        )
        assert RULES[row.rule].title in text
        for name in row.measure:
            assert name in text
