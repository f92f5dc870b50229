"""The feature layers (要素图层): buildings, lanes, roads, service centres, addresses.

One definition of each layer, which the imports, the paged resources, the OGC
collections and the API routes read, so that a field is added in one place.
Areas (区/街道/社区/网格/小区) are levels, not layers: see
:mod:`geogrid.domain.codes`.
"""

from dataclasses import dataclass
from typing import Any, Literal

GeometryKind = Literal["polygon", "line", "point"]

Text = str | None
Count = int | None


@dataclass(frozen=True)
class Layer:
    """What one feature layer holds and who may see it."""

    key: str
    """Its name in URLs, commands and collections: ``buildings``."""
    title_zh: str
    title_en: str
    one_en: str
    """One feature, in English: ``building``."""
    geometry: GeometryKind | Literal["building"]
    """``building``: a footprint, or a point where an office has no footprints."""
    not_found: str
    """The message code when a code names no feature of this layer."""
    description: str
    """What a page of the layer holds, for the API documentation."""
    columns: tuple[tuple[str, Any], ...]
    """What a page sends of each feature, with its type: never ``attrs`` (an
    import's free columns can hold anything)."""
    searched: tuple[str, ...]
    """The columns a list's ``q`` searches."""
    text: tuple[str, ...] = ()
    """Text fields, read from the file column of the same name."""
    integers: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    staff_fields: tuple[str, ...] = ()
    """Fields only staff of the feature's street see (head counts, not households)."""
    is_private: bool = False
    """The whole layer is for staff of its street only (residents' addresses)."""
    is_geometry_optional: bool = False
    """A record may come without a geometry (an address known by its text)."""
    page_only: tuple[str, ...] = ()
    """Columns the staff pages send but GIS clients do not get: working links
    (a split building's second grid, its estate's code) that change with every
    redraw and would make an OGC layer's schema churn."""

    @property
    def public_fields(self) -> tuple[str, ...]:
        """What anyone, a GIS client included, gets of a feature.

        The columns without staff-only head counts and page-only links.
        """
        hidden = {*self.staff_fields, *self.page_only}
        return tuple(name for name, _ in self.columns if name not in hidden)


LAYERS: dict[str, Layer] = {
    layer.key: layer
    for layer in (
        Layer(
            "buildings",
            "楼栋",
            "buildings",
            "building",
            "building",
            "building_not_found",
            "Buildings with their grid and estate links; households are public.",
            columns=(
                ("code", str),
                ("name", Text),
                ("number", Text),
                ("estate", Text),
                ("floors", Count),
                ("households", Count),
                ("residents", Count),
                ("grid_code", Text),
                ("split_grid_code", Text),
                ("estate_code", Text),
            ),
            searched=("code", "name", "estate"),
            text=("name", "number", "estate"),
            integers=("floors", "households", "residents"),
            staff_fields=("residents",),
            page_only=("split_grid_code", "estate_code"),
        ),
        Layer(
            "lanes",
            "弄巷",
            "lanes",
            "lane",
            "line",
            "lane_not_found",
            "Lanes; parent is an area their line meets.",
            columns=(("code", str), ("name", Text)),
            searched=("code", "name"),
            text=("name",),
        ),
        Layer(
            "roads",
            "道路",
            "roads",
            "road",
            "line",
            "road_not_found",
            "Roads, the offline base the maps draw under everything; parent is an"
            " area their line meets. kind: 主干道/次干道/支路 or OSM's highway class.",
            columns=(("code", str), ("name", Text), ("kind", Text)),
            searched=("code", "name"),
            text=("name", "kind"),
        ),
        Layer(
            "centres",
            "服务中心",
            "centres",
            "centre",
            "point",
            "centre_not_found",
            "Service centres; parent is an area they stand in.",
            columns=(
                ("code", str),
                ("name", Text),
                ("kind", Text),
                ("radius_m", float | None),
            ),
            searched=("code", "name"),
            text=("name", "kind"),
            numbers=("radius_m",),
        ),
        Layer(
            "addresses",
            "居民地址",
            "addresses",
            "address",
            "point",
            "address_code_not_found",
            "Addresses under the caller's street (all for admins); the public gets 403.",
            columns=(
                ("code", str),
                ("text", Text),
                ("building_code", Text),
                ("grid_code", Text),
                ("assign_reason", Text),
            ),
            searched=("code", "text"),
            is_private=True,
            is_geometry_optional=True,
        ),
    )
}

INTEGER_FIELDS = frozenset(name for layer in LAYERS.values() for name in layer.integers)
"""Fields stored and sent as whole numbers in any layer."""
