"""Screenshots of each map type for the README (docs/img/*.png).

Builds the sample county into a scratch SpatiaLite file, writes the public,
staff and coverage maps and one contact card, and photographs each in headless
Chromium with the network closed. Run through ``scripts/screenshots.sh``, which
installs the CJK fonts the pictures need.
"""

import sys
import tempfile
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from geogrid.config import Settings
from geogrid.domain.access import Role
from geogrid.maps.base import write_site
from geogrid.maps.cards import community_cards
from geogrid.maps.coverage import coverage_map
from geogrid.maps.layers import search_entries
from geogrid.maps.public import index_page, public_map
from geogrid.maps.staff import staff_map
from geogrid.services.coverage import check_options, run_check
from geogrid.services.demo import build_sample
from geogrid.services.publishing import communities, public_map_data
from geogrid.store.engine import init_db, make_engine

OUT = Path(__file__).resolve().parents[1] / "docs" / "img"
COMMUNITY = "620899001001"
DEFECTS = "620899001004"  # vacant roles; 620899001006 holds the gap


def browser(width: int, height: int) -> webdriver.Chrome:
    """Headless Chromium of this window size, with no network."""
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--proxy-server=127.0.0.1:9",
        "--proxy-bypass-list=<-loopback>",
        f"--window-size={width},{height}",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def shoot(
    page: Path,
    name: str,
    *,
    size: tuple[int, int] = (1200, 800),
    search: str = "",
    enter: bool = False,
    fragment: str = "",
) -> None:
    """Open ``page`` (optionally at a #fragment, with a search typed) and save a PNG."""
    chrome = browser(*size)
    try:
        chrome.get(page.as_uri() + fragment)
        time.sleep(1.0)
        if search:
            box = chrome.find_element(By.CSS_SELECTOR, ".geogrid-search input")
            box.send_keys(search)
            time.sleep(0.3)
            if enter:
                box.send_keys(Keys.ENTER)
                time.sleep(1.5)
        chrome.save_screenshot(str(OUT / f"{name}.png"))
    finally:
        chrome.quit()
    print(f"docs/img/{name}.png")


def main() -> None:
    """Build the sample county, write each map type, photograph them."""
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp)
        engine = make_engine(f"sqlite:///{site / 'sample.sqlite'}")
        init_db(engine)
        build_sample(engine, tolerance_m=settings.containment_tolerance_m)
        band = (settings.grid_households_min, settings.grid_households_max)
        staff = public_map_data(engine, "620899001005", caller=Role.STAFF)
        report = run_check(
            engine, check_options(settings), community=DEFECTS, store=False
        )
        write_site(
            {
                "public": public_map(public_map_data(engine, COMMUNITY)),
                "staff": staff_map(staff, band=band),
                "coverage": coverage_map(
                    report, public_map_data(engine, DEFECTS, caller=Role.STAFF)
                ),
            },
            site,
        )
        for name, text in community_cards(public_map_data(engine, COMMUNITY)).items():
            (site / name).write_text(text, encoding="utf-8")
        listed = communities(engine)
        everyone = {code: public_map_data(engine, code) for code, _ in listed}
        searches = {code: search_entries(d) for code, d in everyone.items()}
        (site / "index.html").write_text(index_page(listed, searches), "utf-8")
        home = next(
            b
            for b in everyone[COMMUNITY].buildings
            if b.estate and b.name.endswith("号楼")
        )
        typed = home.name.replace(home.estate, home.estate + " ").replace("号楼", "栋")
        OUT.mkdir(parents=True, exist_ok=True)
        shoot(site / "public.html", "public-map", fragment=f"#grid={COMMUNITY}003")
        shoot(
            site / "public.html",
            "public-map-phone",
            size=(390, 760),
            search=f"{typed}2单元501室",
            enter=True,
        )
        shoot(site / "index.html", "index-phone", size=(390, 760), search=typed)
        shoot(site / "staff.html", "staff-map", fragment="#grid=620899001005001")
        shoot(site / "coverage.html", "coverage-map")
        shoot(site / f"{COMMUNITY}001-card.html", "contact-card", size=(820, 1160))
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
