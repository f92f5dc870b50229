"""The coverage map: every finding of a community drawn and clickable, offline."""

import re
from pathlib import Path

from geogrid.maps.base import write_site
from geogrid.maps.coverage import coverage_map
from geogrid.services.coverage import CheckOptions, run_check
from geogrid.services.publishing import public_map_data
from geogrid.store.engine import Bind

COMMUNITY = "620899001006"  # the seeded gap and the building standing in it


def test_coverage_map_draws_every_finding_offline(
    sample_db: Bind, tmp_path: Path
) -> None:
    result = run_check(sample_db, CheckOptions(), community=COMMUNITY, store=False)

    write_site(
        {"map": coverage_map(result, public_map_data(sample_db, COMMUNITY))}, tmp_path
    )
    page = (tmp_path / "map.html").read_text(encoding="utf-8")

    assert {"gap", "building_no_grid", "address_unassigned"} <= set(
        result.findings["rule"]
    )
    for key in result.findings["key"]:
        assert key in page
    assert page.count('"className": "geogrid-finding"') >= len(result.findings)
    assert not re.findall(r"(?:src|href)=[\"']?(?:https?:)?//", page)
