"""The public and staff maps in headless Chromium with the network closed, as people would use them."""

from pathlib import Path

import pytest

from geogrid.domain.access import Role
from geogrid.maps.base import write_site
from geogrid.maps.cards import community_cards
from geogrid.maps.public import public_map
from geogrid.maps.staff import staff_map
from geogrid.services.people import import_people
from geogrid.services.publishing import PublicMapData, communities, public_map_data
from geogrid.store.engine import Bind

pytestmark = [pytest.mark.browser, pytest.mark.backends("spatialite")]

COMMUNITY = "620899001001"
MAP = "window[Object.keys(window).find(k => k.startsWith('map_'))]"


def _open(browser: object, path: Path, fragment: str = "") -> None:
    browser.get(path.as_uri() + fragment)  # type: ignore[attr-defined]


def _errors(browser: object) -> list[dict]:
    return [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]  # type: ignore[attr-defined]


def _popup_text(browser: object) -> str:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    card = WebDriverWait(browser, 5).until(  # type: ignore[arg-type]
        expected_conditions.visibility_of_element_located(
            (By.CSS_SELECTOR, ".leaflet-popup .geogrid-card")
        )
    )
    return card.get_attribute("textContent")  # .text leaves out what is scrolled away


def _county_site(
    sample_db: Bind, tmp_path: Path
) -> tuple[list[tuple[str, str]], dict[str, PublicMapData]]:
    """Every community's public page written to ``tmp_path``; (code, name) and data."""
    listed = communities(sample_db)
    data = {code: public_map_data(sample_db, code) for code, _ in listed}
    write_site({code: public_map(d) for code, d in data.items()}, tmp_path)
    return listed, data


def _cards_site(sample_db: Bind, tmp_path: Path) -> PublicMapData:
    """The sample community's cards, print-all page included, written to ``tmp_path``."""
    data = public_map_data(sample_db, COMMUNITY)
    cards = community_cards(data, base_url="https://grid.example.gov.cn")
    for name, page in cards.items():
        (tmp_path / name).write_text(page, "utf-8")
    return data


@pytest.fixture
def site(sample_db: Bind, tmp_path: Path) -> tuple[Path, object]:
    data = public_map_data(sample_db, COMMUNITY)
    write_site({COMMUNITY: public_map(data)}, tmp_path)
    return tmp_path / f"{COMMUNITY}.html", data


def test_public_map_draws_every_layer_offline_without_errors(
    site: tuple[Path, object], browser: object
) -> None:
    from selenium.webdriver.common.by import By

    path, data = site
    _open(browser, path)

    def count(css: str) -> int:
        return len(browser.find_elements(By.CSS_SELECTOR, css))  # type: ignore[attr-defined]

    assert count("path.geogrid-grid") == len(data.grids)  # type: ignore[attr-defined]
    assert count("path.geogrid-building") == len(data.buildings)  # type: ignore[attr-defined]
    assert count("path.geogrid-lane") == len(data.lanes)  # type: ignore[attr-defined]
    assert count(".grid-label") == len(data.grids)  # type: ignore[attr-defined]
    assert count(".geogrid-search input") == 1
    assert count(".leaflet-control-scale") == 1
    assert count(".leaflet-control-layers") == 1
    assert _errors(browser) == []


def test_clicking_a_grid_opens_its_contact_card(
    site: tuple[Path, object], browser: object
) -> None:
    from selenium.webdriver.common.by import By

    path, _ = site
    _open(browser, path)
    label = browser.find_elements(By.CSS_SELECTOR, ".grid-label")[0]  # type: ignore[attr-defined]
    browser.execute_script(  # type: ignore[attr-defined]
        "document.querySelectorAll('.grid-label').forEach(l => l.style.pointerEvents = 'none')"
    )
    grid = browser.find_elements(By.CSS_SELECTOR, "path.geogrid-grid")[0]  # type: ignore[attr-defined]
    browser.execute_script(  # type: ignore[attr-defined]
        "arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: arguments[1], clientY: arguments[2]}))",
        grid,
        label.location["x"] + 5,
        label.location["y"] + 5,
    )

    text = _popup_text(browser)
    assert "网格长" in text
    assert "编码 620899001001" in text
    assert "监督电话：12345" in text


def test_search_finds_a_building_and_lands_on_it(
    site: tuple[Path, object], browser: object
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    path, data = site
    building = next(b for b in data.buildings if b.cards)  # type: ignore[attr-defined]
    _open(browser, path)
    box = browser.find_element(By.CSS_SELECTOR, ".geogrid-search input")  # type: ignore[attr-defined]
    box.send_keys(building.name)
    results = browser.find_elements(By.CSS_SELECTOR, ".geogrid-result")  # type: ignore[attr-defined]
    assert any(building.name in r.text for r in results)
    box.send_keys(Keys.ENTER)

    text = _popup_text(browser)
    assert building.name in text
    assert building.cards[0].title in text
    spot = building.geometry.representative_point()
    assert browser.execute_script(  # type: ignore[attr-defined]
        f"return {MAP}.getBounds().contains([arguments[0], arguments[1]])",
        spot.y,
        spot.x,
    )
    assert browser.execute_script(f"return {MAP}.getZoom()") >= 17  # type: ignore[attr-defined]


def test_search_finds_a_door_address_and_a_lane(
    site: tuple[Path, object], browser: object
) -> None:
    from selenium.webdriver.common.by import By

    path, data = site
    door = next(d for b in data.buildings for d in b.doors if d != b.name)  # type: ignore[attr-defined]
    lane = data.lanes[0]  # type: ignore[attr-defined]
    _open(browser, path)
    box = browser.find_element(By.CSS_SELECTOR, ".geogrid-search input")  # type: ignore[attr-defined]
    for query in (door, lane.name):
        box.clear()
        box.send_keys(query)
        results = browser.find_elements(By.CSS_SELECTOR, ".geogrid-result")  # type: ignore[attr-defined]
        assert any(query in r.text for r in results), query
    results[0].click()
    assert lane.name in _popup_text(browser)


def test_a_grid_link_opens_that_grid(
    site: tuple[Path, object], browser: object
) -> None:
    path, data = site
    grid = data.grids[2]  # type: ignore[attr-defined]
    _open(browser, path, f"#grid={grid.code}")

    assert f"编码 {grid.code}" in _popup_text(browser)


def test_locate_me_shows_where_the_phone_is(
    site: tuple[Path, object], browser: object
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    path, data = site
    spot = data.grids[0].geometry.representative_point()  # type: ignore[attr-defined]
    browser.execute_cdp_cmd(  # type: ignore[attr-defined]
        "Emulation.setGeolocationOverride",
        {"latitude": spot.y, "longitude": spot.x, "accuracy": 20},
    )
    browser.execute_cdp_cmd(  # type: ignore[attr-defined]
        "Browser.grantPermissions", {"permissions": ["geolocation"]}
    )
    _open(browser, path)
    browser.find_element(By.CSS_SELECTOR, ".geogrid-locate a").click()  # type: ignore[attr-defined]

    WebDriverWait(browser, 5).until(  # type: ignore[arg-type]
        lambda b: b.find_elements(By.CSS_SELECTOR, "path.geogrid-here")
    )

    def centred(b: object) -> bool:  # once the zoom animation has ended
        lon, lat = b.execute_script(
            f"const c = {MAP}.getCenter(); return [c.lng, c.lat]"
        )  # type: ignore[attr-defined]
        return abs(lon - spot.x) < 1e-4 and abs(lat - spot.y) < 1e-4

    WebDriverWait(browser, 5).until(centred)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name",
    ["<img src=x onerror=window.pwned=1>", "`${window.pwned=1}`", "</script><b>x"],
    ids=["img", "template-literal", "script"],
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
    _open(browser, tmp_path / f"{COMMUNITY}.html", "#grid=620899001001001")

    assert name in _popup_text(browser)
    assert browser.execute_script("return window.pwned === undefined")  # type: ignore[attr-defined]
    assert browser.find_elements(By.CSS_SELECTOR, "img[src=x], .geogrid-card b") == []  # type: ignore[attr-defined]
    assert _errors(browser) == []


def test_staff_map_draws_households_and_private_fields(
    sample_db: Bind, tmp_path: Path, browser: object
) -> None:
    from selenium.webdriver.common.by import By

    data = public_map_data(sample_db, "620899001005", caller=Role.STAFF)
    write_site({"staff": staff_map(data, band=(300, 500))}, tmp_path)
    _open(browser, tmp_path / "staff.html", "#grid=620899001005001")

    text = _popup_text(browser)
    assert "户数 641（标准 300–500）" in text
    assert "城关街道" in text  # the organisation, a staff-only field
    grids = browser.find_elements(By.CSS_SELECTOR, "path.geogrid-grid")  # type: ignore[attr-defined]
    assert len(grids) == len(data.grids)
    assert _errors(browser) == []


def test_on_a_phone_a_found_building_shows_its_grid_worker_to_call(
    site: tuple[Path, object], browser: object
) -> None:
    # Issue 17: a resident finds their building and calls their 网格员 with
    # one tap, on a 390×844 screen, and nothing covers the number.
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    path, data = site
    workers = {
        g.code: c.name
        for g in data.grids  # type: ignore[attr-defined]
        for c in g.cards
        if c.title == "网格员" and c.phone and "*" not in c.phone
    }
    building = next(b for b in data.buildings if b.grid in workers)  # type: ignore[attr-defined]
    browser.set_window_size(390, 844)  # type: ignore[attr-defined]
    try:
        _open(browser, path)
        box = browser.find_element(By.CSS_SELECTOR, ".geogrid-search input")  # type: ignore[attr-defined]
        box.send_keys(building.name, Keys.ENTER)
        text = _popup_text(browser)
        assert (
            f"所在网格：{next(g.name for g in data.grids if g.code == building.grid)}"
            in text
        )  # type: ignore[attr-defined]
        assert workers[building.grid] in text
        links = browser.find_elements(By.CSS_SELECTOR, ".leaflet-popup a.tel")  # type: ignore[attr-defined]
        assert links
        assert all(a.get_attribute("href").startswith("tel:") for a in links)
        # The link under its own centre is the link: no control lies over it.
        browser.execute_script(
            "arguments[0].scrollIntoView({block: 'center'})", links[-1]
        )  # type: ignore[attr-defined]
        assert browser.execute_script(  # type: ignore[attr-defined]
            "const r = arguments[0].getBoundingClientRect();"
            "return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)"
            " === arguments[0];",
            links[-1],
        )
        # The layer control is one button on a phone, not a third of the screen.
        control = browser.find_element(By.CSS_SELECTOR, ".leaflet-control-layers")  # type: ignore[attr-defined]
        assert "leaflet-control-layers-expanded" not in control.get_attribute("class")
        assert not _errors(browser)
    finally:
        browser.set_window_size(1000, 800)  # type: ignore[attr-defined]


def _typed_forms(estate: str, number: str, county: str) -> list[str]:
    """How residents write one building's address (issue 17)."""
    cn = "零一二三四五六七八九"
    forms = [
        f"{estate}{number}栋",
        f"{estate}{number.translate(str.maketrans('0123456789', '０１２３４５６７８９'))}号楼",
        f"{estate}{number}号楼2单元501室",
        f"{county}{estate}{number}幢 1单元101",
        f"{estate}{number}-2-301",
    ]
    if len(number) == 1:
        forms.append(f"{estate}{cn[int(number)]}号楼")
    return forms


def test_the_page_search_reads_an_address_as_the_lookups_do(
    site: tuple[Path, object], browser: object
) -> None:
    """3栋, ３号楼, 三号楼 and a full address with 单元/室 all find the building."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    path, data = site
    workers = {
        g.code: c.name
        for g in data.grids  # type: ignore[attr-defined]
        for c in g.cards
        if c.title == "网格员"
    }
    building = next(
        b
        for b in data.buildings  # type: ignore[attr-defined]
        if b.estate and b.grid in workers and b.name.endswith("号楼")
    )
    number = building.name.removeprefix(building.estate).removesuffix("号楼")
    browser.set_window_size(390, 844)  # type: ignore[attr-defined]
    try:
        for query in _typed_forms(building.estate, number, "安和县城关街道"):
            _open(browser, path)
            box = browser.find_element(By.CSS_SELECTOR, ".geogrid-search input")  # type: ignore[attr-defined]
            box.send_keys(query)
            first = browser.find_element(By.CSS_SELECTOR, ".geogrid-result").text  # type: ignore[attr-defined]
            assert building.name in first, query
            box.send_keys(Keys.ENTER)
            text = _popup_text(browser)
            assert building.name in text, query
            assert workers[building.grid] in text, query
            # The room is never shown back: the box holds the building's name.
            assert box.get_attribute("value") == first.removeprefix("楼栋")
            assert "501" not in box.get_attribute("value")
    finally:
        browser.set_window_size(1000, 800)  # type: ignore[attr-defined]


def test_the_page_normalises_exactly_as_the_lookups(
    site: tuple[Path, object], browser: object
) -> None:
    """One set of rules: the browser's engine gives the server's answer, text for text."""
    import random

    from geogrid.domain.addresses import normalize_address

    texts = [
        "天和人家 三幢 二单元 301",
        "安和县东关巷十二号",
        "五一路１０８号（东门）",
        "幸福里3-2-301",
        "三里屯路十号院",
        "二单元三零一",
        "第八层",
        "B座12层",
        "號樓棟單元",
        "东关巷2-4号",
        "3 2 301",
        "十里铺村一组",
        "A#楼",
        "５号房",
    ]
    alphabet = (
        "零〇○一二三十百号幢栋座#单元室层楼户房弄巷第-－—~ 　0123０１AaB里院()（）/號樓"
    )
    rng = random.Random(17)
    texts += [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        for _ in range(400)
    ]
    path, _ = site
    _open(browser, path)
    got = browser.execute_script(  # type: ignore[attr-defined]
        "return arguments[0].map(t => window.geogrid.normalize(t));", texts
    )
    expected = [normalize_address(t) for t in texts]
    assert [
        (t, g) for t, g, e in zip(texts, got, expected, strict=True) if g != e
    ] == []
    assert not _errors(browser)


def test_the_index_search_finds_a_building_in_any_community(
    sample_db: Bind, tmp_path: Path, browser: object
) -> None:
    """From the site's index, a resident types their address and lands on their building."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from geogrid.maps.public import index_page
    from geogrid.services.publishing import site_index

    listed, data = _county_site(sample_db, tmp_path)
    (tmp_path / "index.html").write_text(index_page(site_index(sample_db)), "utf-8")
    code, other = next(
        (c, d) for c, d in data.items() if c != listed[0][0] and d.buildings
    )
    workers = {
        g.code: c.name for g in other.grids for c in g.cards if c.title == "网格员"
    }
    building = next(
        b
        for b in other.buildings
        if b.estate and b.grid in workers and b.name.endswith("号楼")
    )
    query = f"{building.estate}{building.name.removeprefix(building.estate).replace('号楼', '栋')}3单元402室"

    browser.set_window_size(390, 844)  # type: ignore[attr-defined]
    try:
        _open(browser, tmp_path / "index.html")
        box = browser.find_element(By.CSS_SELECTOR, "#geogrid-site-search input")  # type: ignore[attr-defined]
        box.send_keys(query)
        first = browser.find_element(By.CSS_SELECTOR, ".geogrid-result").text  # type: ignore[attr-defined]
        assert building.name in first
        assert other.community.name in first  # which community it is in
        box.send_keys(Keys.ENTER)

        text = _popup_text(browser)
        assert browser.current_url.split("#")[0].endswith(f"{code}.html")  # type: ignore[attr-defined]
        assert building.name in text
        assert workers[building.grid] in text
        # On the building, not on the whole community (the page's own opening
        # zoom ran after the link's and left it at 14).
        assert browser.execute_script(f"return {MAP}.getZoom()") >= 17  # type: ignore[attr-defined]
        assert not _errors(browser)
    finally:
        browser.set_window_size(1000, 800)  # type: ignore[attr-defined]


@pytest.mark.parametrize("size", [(390, 844), (1280, 800)], ids=["phone", "desktop"])
def test_every_grid_link_shows_its_worker_phone_uncovered(
    sample_db: Bind, tmp_path: Path, browser: object, size: tuple[int, int]
) -> None:
    """#grid= for every grid of every community: the 网格员's number is on top, tappable."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _, data = _county_site(sample_db, tmp_path)
    on_top = (
        "const a = [...document.querySelectorAll('.leaflet-popup a.tel')]"
        ".find(a => a.textContent === arguments[0]);"
        "if (!a) return false;"
        "a.scrollIntoView({block: 'nearest'});"
        "const r = a.getBoundingClientRect();"
        "return r.top >= 0 && r.bottom <= innerHeight"
        " && document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === a;"
    )
    browser.set_window_size(*size)  # type: ignore[attr-defined]
    checked = 0
    try:
        for code, d in data.items():
            _open(browser, tmp_path / f"{code}.html")
            for grid in d.grids:
                phones = [
                    c.phone
                    for c in grid.cards
                    if c.title == "网格员" and c.phone and "*" not in c.phone
                ]
                if not phones:
                    continue
                browser.execute_script(f"location.hash = 'grid={grid.code}'")  # type: ignore[attr-defined]
                WebDriverWait(browser, 5).until(  # type: ignore[arg-type]
                    lambda b, p=phones[0]: b.execute_script(on_top, p),
                    message=f"{code} {grid.code} at {size}",
                )
                checked += 1
        legend = browser.find_element(By.CSS_SELECTOR, "details.geogrid-legend")  # type: ignore[attr-defined]
        assert (legend.get_attribute("open") is not None) == (size[0] > 600)
        assert not _errors(browser)
    finally:
        browser.set_window_size(1000, 800)  # type: ignore[attr-defined]
    assert checked >= 40  # the sample county's 51 grids, most with a public phone


def test_print_all_cards_is_one_a4_page_per_grid(
    sample_db: Bind, tmp_path: Path, browser: object
) -> None:
    """A street office prints a community's cards in one go, one sheet each."""
    import base64
    import re

    from selenium.webdriver.common.print_page_options import PrintOptions

    from geogrid.maps.cards import PRINT_ALL

    data = _cards_site(sample_db, tmp_path)
    _open(browser, tmp_path / PRINT_ALL)
    options = PrintOptions()
    options.page_height, options.page_width = 29.7, 21.0
    pdf = base64.b64decode(browser.print_page(options))  # type: ignore[attr-defined]

    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    assert pages == len(data.grids) > 1


def test_a_card_fits_a_phone_and_its_numbers_are_tappable(
    sample_db: Bind, tmp_path: Path, browser: object
) -> None:
    from selenium.webdriver.common.by import By

    from geogrid.maps.cards import card_filename

    data = _cards_site(sample_db, tmp_path)
    browser.set_window_size(390, 844)  # type: ignore[attr-defined]
    try:
        _open(browser, tmp_path / card_filename(data.grids[0].code))
        overflow = browser.execute_script(  # type: ignore[attr-defined]
            "return document.documentElement.scrollWidth - innerWidth"
        )
        links = browser.find_elements(By.CSS_SELECTOR, "td.phone a")  # type: ignore[attr-defined]
    finally:
        browser.set_window_size(1000, 800)  # type: ignore[attr-defined]
    assert overflow <= 0  # nothing cut off at the right
    assert links
    assert all(a.get_attribute("href").startswith("tel:1") for a in links)


def test_grid_labels_never_print_over_each_other_on_a_phone(
    sample_db: Bind, tmp_path: Path, browser: object
) -> None:
    """At each community's first zoom on a phone, visible grid names do not overlap."""
    _, data = _county_site(sample_db, tmp_path)
    overlaps = (
        "const r = [...document.querySelectorAll('.grid-label')]"
        ".filter(e => getComputedStyle(e).visibility !== 'hidden')"
        ".map(e => e.getBoundingClientRect());"
        "let n = 0;"
        "for (let i = 0; i < r.length; i++) for (let j = 0; j < i; j++)"
        "  if (r[i].left < r[j].right && r[j].left < r[i].right"
        "      && r[i].top < r[j].bottom && r[j].top < r[i].bottom) n++;"
        "return [r.length, n];"
    )
    browser.set_window_size(390, 844)  # type: ignore[attr-defined]
    try:
        for code in data:
            _open(browser, tmp_path / f"{code}.html")
            browser.execute_async_script(  # type: ignore[attr-defined]
                "setTimeout(arguments[arguments.length - 1], 500)"
            )
            shown, clashes = browser.execute_script(overlaps)  # type: ignore[attr-defined]
            assert shown >= 1, code
            assert clashes == 0, code
    finally:
        browser.set_window_size(1000, 800)  # type: ignore[attr-defined]


LOW_CONTRAST = """
const rgba = c => {
  const p = (c.match(/rgba?\\(([^)]+)\\)/) || [, '0,0,0,0'])[1]
    .split(/[\\s,\\/]+/).filter(Boolean).map(Number);
  return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
};
const over = (top, under) => [0, 1, 2].map(i => top[i] * top[3] + under[i] * (1 - top[3])).concat(1);
const lum = c => c.slice(0, 3).map(v => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
  .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
const bad = [];
for (const el of document.querySelectorAll('body *')) {
  const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
  if (!own || !el.checkVisibility({opacityProperty: true, visibilityProperty: true})) continue;
  // Backgrounds from the element down to the first opaque one, else the
  // page's white; over the map's own drawing (a label over a grid's fill)
  // the worst of black and white.
  const layers = [];
  let bases = [[255, 255, 255, 1]];
  for (let e = el; e; e = e.parentElement) {
    if (e.classList.contains('leaflet-map-pane')) { bases.push([0, 0, 0, 1]); break; }
    const c = rgba(getComputedStyle(e).backgroundColor);
    if (c[3] > 0) layers.push(c);
    if (c[3] >= 1) { bases = [c]; break; }
  }
  const style = getComputedStyle(el);
  const large = parseFloat(style.fontSize) >= 24
    || (parseFloat(style.fontSize) >= 18.66 && Number(style.fontWeight) >= 700);
  const worst = Math.min(...bases.map(base => {
    const bg = layers.reduceRight((under, top) => over(top, under), base);
    return ratio(over(rgba(style.color), bg), bg);
  }));
  if (worst < (large ? 3 : 4.5))
    bad.push([el.textContent.trim().slice(0, 30), style.color, worst.toFixed(2)]);
}
return bad;
"""
"""Text (own text nodes, visible) below WCAG AA: [text, colour, ratio]."""


def test_every_text_residents_see_meets_wcag_aa_contrast(
    sample_db: Bind, tmp_path: Path, browser: object
) -> None:
    """The map with its legend, a search and a card open, the index and a card: AA."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from geogrid.maps.cards import card_filename
    from geogrid.maps.public import index_page
    from geogrid.services.publishing import site_index

    _, data = _county_site(sample_db, tmp_path)
    (tmp_path / "index.html").write_text(index_page(site_index(sample_db)), "utf-8")
    (tmp_path / "cards").mkdir()
    _cards_site(sample_db, tmp_path / "cards")  # beside its own index.html
    community = data[COMMUNITY]
    building = next(b for b in community.buildings if b.cards and b.estate)
    seen: dict[str, list[list[str]]] = {}
    browser.set_window_size(390, 844)  # type: ignore[attr-defined]
    try:
        _open(browser, tmp_path / f"{COMMUNITY}.html")
        browser.find_element(By.CSS_SELECTOR, ".geogrid-legend summary").click()  # type: ignore[attr-defined]
        box = browser.find_element(By.CSS_SELECTOR, ".geogrid-search input")  # type: ignore[attr-defined]
        box.send_keys(building.estate)  # a list of results, each with its kind
        assert browser.find_elements(By.CSS_SELECTOR, ".geogrid-result")  # type: ignore[attr-defined]
        seen["map and results"] = browser.execute_script(LOW_CONTRAST)  # type: ignore[attr-defined]
        box.clear()
        box.send_keys(building.name, Keys.ENTER)
        _popup_text(browser)
        seen["card on the map"] = browser.execute_script(LOW_CONTRAST)  # type: ignore[attr-defined]

        _open(browser, tmp_path / "index.html")
        browser.find_element(By.CSS_SELECTOR, "#geogrid-site-search input").send_keys(  # type: ignore[attr-defined]
            building.estate
        )
        seen["index"] = browser.execute_script(LOW_CONTRAST)  # type: ignore[attr-defined]
        _open(browser, tmp_path / "cards" / card_filename(community.grids[0].code))
        seen["printed card"] = browser.execute_script(LOW_CONTRAST)  # type: ignore[attr-defined]
    finally:
        browser.set_window_size(1000, 800)  # type: ignore[attr-defined]

    assert seen == {k: [] for k in seen}


def test_roads_lie_under_the_grids_and_stay_there(
    sample_copy: Bind, tmp_path: Path, browser: object
) -> None:
    """The imported roads draw the offline base: under the grids, even toggled."""
    from shapely.geometry import LineString

    from geogrid.services.imports import ImportOptions, import_features
    from tests.factories import write_geojson

    grid = public_map_data(sample_copy, COMMUNITY).grids[0].geometry
    spot = grid.representative_point()
    minx, _, maxx, _ = grid.bounds
    roads = write_geojson(
        tmp_path / "roads.geojson",
        [
            (
                {"code": "R1", "name": "东大街", "kind": "主干道"},
                LineString([(minx, spot.y), (maxx, spot.y)]),
            )
        ],
    )
    import_features(sample_copy, roads, layer="roads", options=ImportOptions())
    write_site(
        {COMMUNITY: public_map(public_map_data(sample_copy, COMMUNITY))}, tmp_path
    )
    _open(browser, tmp_path / f"{COMMUNITY}.html")
    on_top = (
        f"const m = {MAP}, p = m.latLngToContainerPoint([{spot.y}, {spot.x}]),"
        " r = m.getContainer().getBoundingClientRect();"
        "return document.elementFromPoint(r.left + p.x, r.top + p.y).getAttribute('class');"
    )
    # As a resident would: the layer switch, off and on again.
    toggle = (
        "document.querySelector('.leaflet-control-layers')"
        ".classList.add('leaflet-control-layers-expanded');"
        "const box = [...document.querySelectorAll('.leaflet-control-layers label')]"
        ".find(l => l.textContent.includes('道路')).querySelector('input');"
        "box.click(); box.click(); return box.checked;"
    )

    assert (
        len(
            browser.find_elements(
                "css selector", ".leaflet-geogrid-roads-pane path.geogrid-road"
            )
        )
        == 1
    )  # type: ignore[attr-defined]
    assert "geogrid-grid" in browser.execute_script(on_top)  # type: ignore[attr-defined]
    assert browser.execute_script(toggle)  # type: ignore[attr-defined]
    assert "geogrid-grid" in browser.execute_script(on_top)  # type: ignore[attr-defined]
    assert not _errors(browser)


def test_the_attribution_is_plain_text_naming_the_data_source(
    sample_db: Bind, tmp_path: Path, browser: object
) -> None:
    """A government page credits its data in words: no flag, no markup run."""
    from geogrid.config import Settings
    from geogrid.maps.tiles import tiles_of

    credit = "数据：泾川县委政法委 · 道路 © OpenStreetMap contributors <b>(ODbL)</b>"
    settings = Settings(_env_file=None, map_attribution=credit)  # type: ignore[call-arg]
    data = public_map_data(sample_db, COMMUNITY)
    write_site({COMMUNITY: public_map(data, tiles=tiles_of(settings))}, tmp_path)
    _open(browser, tmp_path / f"{COMMUNITY}.html")
    corner = browser.find_element("css selector", ".leaflet-control-attribution")  # type: ignore[attr-defined]

    assert corner.text == f"Leaflet | {credit}"  # the tag shown as typed
    assert corner.find_elements("css selector", "svg, img, b") == []
    assert not _errors(browser)
