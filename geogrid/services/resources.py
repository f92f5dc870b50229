"""Reading the geographic resources (地理资源查询): areas, buildings, lanes, centres, addresses.

Every list is one RFC 7946 FeatureCollection page with ``numberMatched`` and
``numberReturned`` (OGC API – Features' names), whether or not geometries
are asked for: without them each feature's ``geometry`` is null, so a
client parses one shape. Residents' addresses (居民地址) are private: only
staff of their street (and admins) ever get one, and the filter that keeps
the others out runs in the query itself, so counts never hint at them.
"""

import math
from datetime import date, datetime, time
from typing import Any

import pandas as pd

from geogrid.domain.access import Caller
from geogrid.domain.answers import AreaNode, AreaTree
from geogrid.domain.layers import LAYERS
from geogrid.errors import InvalidInput, NotFound
from geogrid.spatial.geojson import frame_features
from geogrid.store import resources as resource_store
from geogrid.store.engine import Bind, session_scope
from geogrid.store.resources import Filters

__all__ = [
    "Filters",
    "area_feature",
    "area_tree",
    "feature",
    "list_areas",
    "list_features",
    "parse_bbox",
]


def parse_bbox(text: str) -> resource_store.Bbox:
    """``minx,miny,maxx,maxy`` in lon/lat as four floats, or ``value_invalid`` naming bbox.

    Examples:
        >>> parse_bbox("107.3,35.3, 107.4,35.4")
        (107.3, 35.3, 107.4, 35.4)
    """
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 4 or not all(map(math.isfinite, values)):
        raise InvalidInput("value_invalid", field="bbox", value=text)
    minx, miny, maxx, maxy = values
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise InvalidInput("value_invalid", field="bbox", value=text)
    return minx, miny, maxx, maxy


def list_areas(
    bind: Bind, filters: Filters, *, level: str | None = None, day: date | None = None
) -> dict[str, Any]:
    """A page of the areas valid on ``day`` (default: the current generation)."""
    with session_scope(bind) as session:
        frame, total = resource_store.areas_page(
            session, filters, level=level, as_of=end_of_day(day)
        )
    return _collection(frame_features(frame), total)


def area_feature(bind: Bind, code: str, *, day: date | None = None) -> dict[str, Any]:
    """One area as a Feature with its parent and children (of the same generation).

    Raises:
        NotFound: no generation of ``code`` was valid on ``day``.
    """
    as_of = end_of_day(day)
    with session_scope(bind) as session:
        frame, _ = resource_store.areas_page(
            session, Filters(code=code, limit=1), as_of=as_of
        )
        if frame.empty:
            raise NotFound("area_not_found", code=code)
        parent_code = frame["parent_code"].iloc[0]
        parent = resource_store.area_heads(
            session,
            as_of=as_of,
            codes=[parent_code] if isinstance(parent_code, str) else [],
        )
        children = resource_store.area_heads(session, as_of=as_of, parents=[code])
    feature = frame_features(frame)[0]
    feature["properties"]["parent"] = _heads(parent)[0] if len(parent) else None
    feature["properties"]["children"] = _heads(children)
    return feature


def area_tree(
    bind: Bind, *, root: str | None = None, day: date | None = None
) -> AreaTree:
    """The area tree valid on ``day`` as nested nodes (code, name, level, children).

    ``roots`` holds ``root`` alone when one is given, else every area with no
    parent in that generation (the districts, normally).

    Raises:
        NotFound: ``root`` names no area valid on ``day``.
    """
    with session_scope(bind) as session:
        heads = resource_store.area_heads(session, as_of=end_of_day(day))
    codes = set(heads["code"])
    if root is not None and root not in codes:
        raise NotFound("area_not_found", code=root)
    nodes = {
        r["code"]: AreaNode(code=r["code"], name=r["name"], level=r["level"])
        for r in heads.to_dict("records")
    }
    tops = []
    for code, parent in zip(heads["code"], heads["parent_code"], strict=True):
        if isinstance(parent, str) and parent in codes:
            nodes[parent].children.append(nodes[code])
        else:
            tops.append(nodes[code])
    roots = [nodes[root]] if root is not None else tops
    return AreaTree(date=day, roots=roots)


def list_features(
    bind: Bind, layer: str, filters: Filters, *, caller: Caller
) -> dict[str, Any]:
    """A page of a feature layer as ``caller`` may see it."""
    scoped = _scoped(layer, filters, caller)
    if scoped is None:
        return _collection([], 0)
    with session_scope(bind) as session:
        frame, total = resource_store.features_page(session, layer, scoped)
    features = _visible(layer, frame_features(frame), caller)
    return _collection(features, total - (len(frame) - len(features)))


def feature(bind: Bind, layer: str, code: str, *, caller: Caller) -> dict[str, Any]:
    """One feature as ``caller`` may see it.

    Raises:
        NotFound: no such code, or an address outside the caller's street
            (which is not told apart from one that does not exist).
    """
    page = list_features(bind, layer, Filters(code=code, limit=1), caller=caller)
    if not page["features"]:
        raise NotFound(LAYERS[layer].not_found, code=code)
    return page["features"][0]


def end_of_day(day: date | None) -> datetime | None:
    """What a date asks for: the data as it stood at the end of that day."""
    return datetime.combine(day, time.max) if day else None


def _scoped(layer: str, filters: Filters, caller: Caller) -> Filters | None:
    """Addresses narrowed to the caller's street; None when the caller may see none."""
    if layer != "addresses":
        return filters
    prefix = caller.private_prefix
    if prefix is None:
        return None
    return Filters(**{**filters.__dict__, "code_prefix": prefix})


def _visible(
    layer: str, features: list[dict[str, Any]], caller: Caller
) -> list[dict[str, Any]]:
    """Drop what ``caller`` may not see; the query has already, this makes sure."""
    if layer == "addresses":
        return [f for f in features if not caller.view_of(f["id"]).is_public]
    for f in features:
        if caller.view_of(f["id"]).is_public:
            for name in LAYERS[layer].staff_fields:
                f["properties"].pop(name, None)
    return features


def _collection(features: list[dict[str, Any]], total: int) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "numberMatched": total,
        "numberReturned": len(features),
        "features": features,
    }


def _heads(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {"code": r["code"], "name": r["name"], "level": r["level"]}
        for r in frame.to_dict("records")
    ]
