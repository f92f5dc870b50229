"""Plans on the sample county for the plan tests: codes, a split line, a split and a merge."""

from typing import Any

import shapely
from shapely.geometry import mapping

from geogrid.domain.answers import PlanImpact
from geogrid.services import planning
from geogrid.services.coverage_rules import CheckOptions
from geogrid.store import areas as area_store
from geogrid.store.engine import Bind, session_scope

COMMUNITY = "620899001001"  # 东街社区
GRID = "620899001001001"  # split in two: its eastern half becomes NEW
NEW = "620899001001008"
# Grid 2 holds 商业局家属院 (5 buildings) and merges into grid 5, an existing
# grid that receives buildings (网格长 顾梅丹, P00003).
MERGED_AWAY = "620899001001002"
RECEIVER = "620899001001005"
OPTIONS: dict[str, Any] = {"check": CheckOptions()}


def current_grids(bind: Bind, **kwargs: object) -> list[str]:
    """Codes of the community's published grids (``as_of=`` for an earlier moment)."""
    with session_scope(bind) as session:
        frame = area_store.areas_frame(
            session, level="grid", parent_codes=[COMMUNITY], **kwargs
        )
    return sorted(frame["code"])


def split_line(state: planning.PlanState, code: str) -> dict[str, Any]:
    """A north-south GeoJSON line through the middle of a draft's grid, past both edges."""
    grid = state.grids[state.grids["code"] == code].geometry.iloc[0]
    _, miny, _, maxy = grid.bounds
    x = grid.centroid.x
    return mapping(shapely.LineString([(x, miny - 0.01), (x, maxy + 0.01)]))


def grids_collection(grids: Any) -> dict[str, Any]:
    """A frame of grids (code, name, geometry) as the FeatureCollection ``replace`` takes."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": g.code, "name": g.name},
                "geometry": mapping(g.geometry),
            }
            for g in grids.itertuples()
        ],
    }


def split_plan(bind: Bind, *, rename: str | None = None) -> PlanImpact:
    """Split grid 1 along its centre line (and rename the new half); returns the diff."""
    plan = planning.new_plan(bind, COMMUNITY, author="wang")
    planning.edit(
        bind,
        plan.id,
        "split",
        {
            "grid": GRID,
            "line": split_line(plan, GRID),
            "new": [[GRID, "东街社区第1网格"], [NEW, "东街社区第8网格"]],
        },
        author="wang",
    )
    if rename is not None:
        planning.edit(
            bind, plan.id, "rename", {"grid": NEW, "name": rename}, author="wang"
        )
    return planning.diff(bind, plan.id, **OPTIONS)


def merge_plan(bind: Bind) -> PlanImpact:
    """Merge grid 2 into grid 5: every building of grid 2 moves to an existing grid."""
    plan = planning.new_plan(bind, COMMUNITY, author="wang")
    planning.edit(
        bind,
        plan.id,
        "merge",
        {
            "grids": [MERGED_AWAY, RECEIVER],
            "code": RECEIVER,
            "name": "东街社区合并网格",
        },
        author="wang",
    )
    return planning.diff(bind, plan.id, **OPTIONS)
