"""The sample county (示例县): build it into a database in the right order."""

from collections.abc import Callable
from pathlib import Path

from geogrid.domain.codes import AreaLevel
from geogrid.domain.roles import load_preset
from geogrid.io.report import ImportReport
from geogrid.services.assignment import AssignOptions, assign_all
from geogrid.services.boundaries import import_boundaries
from geogrid.services.imports import ImportOptions, import_features
from geogrid.services.people import import_people, save_scheme
from geogrid.store.engine import Bind

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "data" / "boundaries"
SAMPLE_SCHEME = "三长三员一民警"


def build_sample(
    bind: Bind,
    data_dir: Path = SAMPLE_DIR,
    *,
    tolerance_m: float,
    on_step: Callable[[str], None] = lambda _step: None,
) -> list[ImportReport]:
    """Import every file of the sample county and link it; running it again changes nothing."""
    save_scheme(bind, load_preset(SAMPLE_SCHEME), activate=True)
    reports = []
    for level in AreaLevel:
        on_step(level.value)
        reports.append(
            import_boundaries(
                bind,
                data_dir / f"{level.value}.geojson",
                level=level,
                options=ImportOptions(
                    parent_field="parent_code" if level.parent else None
                ),
                tolerance_m=tolerance_m,
            )
        )
    for layer, name in [
        ("buildings", "buildings.geojson"),
        ("lanes", "lanes.geojson"),
        ("addresses", "addresses.csv"),
        ("centres", "centres.geojson"),
    ]:
        on_step(layer)
        # The CSV has no CRS of its own; the generator writes WGS84 lon/lat.
        options = ImportOptions(crs="EPSG:4326" if name.endswith(".csv") else None)
        reports.append(
            import_features(bind, data_dir / name, layer=layer, options=options)
        )
    on_step("people")
    reports.append(
        import_people(
            bind,
            data_dir / "people.csv",
            scheme_name=SAMPLE_SCHEME,
            default_scheme=SAMPLE_SCHEME,
        )
    )
    on_step("assign")
    assign_all(bind, AssignOptions())
    return reports
