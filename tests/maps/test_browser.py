"""The public map in headless Chromium with the network closed, as a resident would open it."""

from pathlib import Path

import pytest

from geogrid.maps.base import write_site
from geogrid.maps.public import public_map
from geogrid.services.people import import_people
from geogrid.services.publishing import public_map_data
from geogrid.store.engine import Bind

pytestmark = [pytest.mark.browser, pytest.mark.backends("spatialite")]

COMMUNITY = "620899001001"


@pytest.fixture
def page(sample_db: Bind, tmp_path: Path, browser: object) -> object:
    data = public_map_data(sample_db, COMMUNITY)
    write_site({COMMUNITY: public_map(data)}, tmp_path)
    browser.get((tmp_path / f"{COMMUNITY}.html").as_uri())  # type: ignore[attr-defined]
    browser.n_grids = len(data.grids)  # type: ignore[attr-defined]
    return browser


def test_public_map_draws_every_grid_offline_without_errors(page: object) -> None:
    from selenium.webdriver.common.by import By

    grids = page.find_elements(By.CSS_SELECTOR, "path.geogrid-grid")  # type: ignore[attr-defined]
    errors = [e for e in page.get_log("browser") if e["level"] == "SEVERE"]  # type: ignore[attr-defined]

    assert len(grids) == page.n_grids  # type: ignore[attr-defined]
    assert errors == []


def test_clicking_a_grid_opens_its_contact_card(page: object) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    label = page.find_elements(By.CSS_SELECTOR, ".grid-label")[0]  # type: ignore[attr-defined]
    page.execute_script(  # type: ignore[attr-defined]
        "document.querySelectorAll('.grid-label').forEach(l => l.style.pointerEvents = 'none')"
    )
    grid = page.find_elements(By.CSS_SELECTOR, "path.geogrid-grid")[0]  # type: ignore[attr-defined]
    page.execute_script(  # type: ignore[attr-defined]
        "arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: arguments[1], clientY: arguments[2]}))",
        grid,
        label.location["x"] + 5,
        label.location["y"] + 5,
    )

    card = WebDriverWait(page, 5).until(  # type: ignore[arg-type]
        expected_conditions.visibility_of_element_located(
            (By.CSS_SELECTOR, ".geogrid-card")
        )
    )
    text = card.get_attribute(
        "textContent"
    )  # .text leaves out what the popup scrolled away
    assert "网格长" in text
    assert "编码 620899001001" in text


@pytest.mark.parametrize(
    "name",
    ["<img src=x onerror=window.pwned=1>", "`${window.pwned=1}`"],
    ids=["img", "template-literal"],
)
def test_a_hostile_name_shows_as_text_and_never_runs(
    sample_copy: Bind, tmp_path: Path, browser: object, name: str
) -> None:
    from selenium.webdriver.common.by import By

    people = tmp_path / "people.csv"
    people.write_text(
        "person_code,name,phone,phone_public,role,target_level,target_code\n"
        f'PX,"{name}",13800000099,true,grid_head,grid,620899001001001\n',
        encoding="utf-8",
    )
    import_people(
        sample_copy, people, scheme_name=None, default_scheme="三长三员一民警"
    )
    write_site(
        {COMMUNITY: public_map(public_map_data(sample_copy, COMMUNITY))}, tmp_path
    )
    browser.get((tmp_path / f"{COMMUNITY}.html").as_uri())  # type: ignore[attr-defined]
    cards = browser.execute_script(  # type: ignore[attr-defined]
        "const out = []; for (const k in window) { const v = window[k];"
        " if (v && v._content instanceof HTMLElement) out.push(v._content.innerText); } return out;"
    )

    assert browser.execute_script("return window.pwned === undefined")  # type: ignore[attr-defined]
    assert any(name in text for text in cards)
    assert browser.find_elements(By.CSS_SELECTOR, "img[src=x]") == []  # type: ignore[attr-defined]
