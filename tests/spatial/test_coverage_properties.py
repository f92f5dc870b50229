"""The coverage engine on adversarial geometry (hypothesis): it reports, never raises.

Real boundary files hold what the sample county never does: corners a few
millimetres apart after rounding (KML writes 8 decimals, some tools 6),
repeated vertices, Z coordinates, enclaves, islands and rings that touch at
a point. Each is generated here from an exact partition of a community.
"""

import itertools

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import geopandas as gpd
import shapely
from shapely import box

from geogrid.domain.findings import RULES
from geogrid.spatial.coverage import CoverageOptions, check_areas
from geogrid.spatial.crs import local_crs

X0, Y0 = 116.30, 39.80  # Beijing, where the first real file broke the check
SPAN = 0.01  # about 850 x 1,100 m


@st.composite
def partitions(draw: st.DrawFn) -> list[shapely.Polygon]:
    """A community split by random cuts into rectangular grids, exactly."""
    # Cuts on a 1/40 lattice plus a jitter: grids at least ~20 m wide, with
    # coordinates that are not round numbers.
    jitter = draw(st.floats(0, 0.01))
    xs = sorted(draw(st.sets(st.integers(1, 39), min_size=1, max_size=4)))
    ys = sorted(draw(st.sets(st.integers(1, 39), min_size=0, max_size=3)))
    xs = [0.0, *(x / 40 + jitter for x in xs), 1.0]
    ys = [0.0, *(y / 40 + jitter for y in ys), 1.0]
    return [
        box(X0 + a * SPAN, Y0 + c * SPAN, X0 + b * SPAN, Y0 + d * SPAN)
        for a, b in itertools.pairwise(xs)
        for c, d in itertools.pairwise(ys)
    ]


def run(children: list[shapely.Geometry], outline: shapely.Geometry) -> pd.DataFrame:
    codes = [f"G{i:02d}" for i in range(len(children))]
    frame = gpd.GeoDataFrame(
        {
            "code": ["C", *codes],
            "level": ["community", *["grid"] * len(children)],
            "parent_code": [None, *["C"] * len(children)],
        },
        geometry=[outline, *children],
        crs=4326,
    )
    found = check_areas(frame.to_crs(local_crs(frame)), options=CoverageOptions())
    assert set(found["rule"]) <= set(RULES)
    assert found["codes"].map(len).gt(0).all()
    return found


PROPERTY = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
OUTLINE = box(X0, Y0, X0 + SPAN, Y0 + SPAN)


def projection_noise(found: pd.DataFrame) -> bool:
    """Only slivers a few centimetres wide: where a grid's corner lies on the
    community's long straight edge in lon/lat, the projected edge bows past it."""
    widths = found["measure"].map(lambda m: m.get("width_m", 0.0))
    return bool((found["rule"].eq("sliver") & widths.lt(0.05)).all())


@PROPERTY
@given(partitions())
def test_an_exact_partition_has_no_finding(cells: list[shapely.Polygon]) -> None:
    assert projection_noise(run(cells, OUTLINE))


@PROPERTY
@given(partitions(), st.integers(5, 9), st.integers(5, 9))
def test_rounded_coordinates_are_reported_never_raised(
    cells: list[shapely.Polygon], grid_decimals: int, outline_decimals: int
) -> None:
    # The outline from one tool, the grids through another: corners that
    # almost coincide, the "side location conflict" trap of GEOS overlays.
    rounded = [
        shapely.transform(c, lambda xy: np.round(xy, grid_decimals)) for c in cells
    ]
    outline = shapely.transform(OUTLINE, lambda xy: np.round(xy, outline_decimals))
    # A grid thinner than the rounding collapses to a line: the import
    # refuses that record, so it never reaches the check.
    assume(all(c.geom_type == "Polygon" and c.is_valid for c in rounded))
    found = run(rounded, outline)
    # Rounding moves an edge by at most half a unit of the last decimal.
    unit_m = 10.0 ** -min(grid_decimals, outline_decimals) * 111_000
    big = found[found["rule"].isin(["gap", "overlap"])]
    assert (big["measure"].map(lambda m: m["area_m2"]) <= unit_m * 2_000).all()


@PROPERTY
@given(partitions(), st.data())
def test_repeated_vertices_and_z_change_nothing(
    cells: list[shapely.Polygon], data: st.DataObject
) -> None:
    k = data.draw(st.integers(0, len(cells) - 1))
    ring = list(cells[k].exterior.coords)
    doubled = [ring[0], *[p for q in ring[1:] for p in (q, q)]]
    cells = list(cells)
    cells[k] = shapely.Polygon(doubled)
    with_z = [shapely.force_3d(c, 50.0) for c in cells]
    assert projection_noise(run(with_z, shapely.force_3d(OUTLINE, 50.0)))


@PROPERTY
@given(partitions(), st.floats(0.2, 0.4), st.floats(0.05, 0.15))
def test_enclaves_islands_and_touching_rings(
    cells: list[shapely.Polygon], at: float, size: float
) -> None:
    # An enclave: a grid with a hole, and the hole as a grid of its own.
    first = cells[0]
    x0, y0, x1, y1 = first.bounds
    hole = box(
        x0 + (x1 - x0) * at,
        y0 + (y1 - y0) * at,
        x0 + (x1 - x0) * (at + size),
        y0 + (y1 - y0) * (at + size),
    )
    holed = shapely.Polygon(first.exterior.coords, [hole.exterior.coords])
    assert projection_noise(run([holed, hole, *cells[1:]], OUTLINE))
    # An island: the enclave given to the last grid, as a second part.
    island = shapely.MultiPolygon([cells[-1], hole])
    found = run([holed, *cells[1:-1], island], OUTLINE)
    assert projection_noise(found[found["rule"] != "edge_mismatch"])
    # Two grids whose rings touch at a single point, with a gap beside them.
    (a, b, _, _) = OUTLINE.bounds
    corner = box(a, b, a + SPAN / 2, b + SPAN / 2)
    diagonal = box(a + SPAN / 2, b + SPAN / 2, a + SPAN, b + SPAN)
    found = run([corner, diagonal], OUTLINE)
    assert sorted(found[found["rule"] == "gap"]["codes"].map(len)) == [2, 2]
