"""What geogrid answers (查询结果与报告), as typed models.

Lookups, the coverage report, plans and their impact, the roster, accounts,
the area tree and the GeoJSON pages: services build these, the API sends them
(and documents them in ``/openapi.json``), and the CLI, maps and notices read
them by attribute: one definition of each answer instead of dict keys
spelled in several places.
"""

from datetime import UTC, date, datetime
from functools import cache
from typing import Annotated, Any, Literal

from geojson_pydantic import Feature, FeatureCollection, MultiPolygon, Polygon
from geojson_pydantic.geometries import Geometry
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model

from geogrid.domain.layers import Layer


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


Instant = Annotated[datetime, AfterValidator(_utc)]
"""A moment in UTC. The database keeps naive UTC times; an answer says so, as
RFC 3339 requires (``2026-12-07T10:58:16Z``, not a local-looking time)."""


class Answer(BaseModel):
    """Base of every answer: no field may be added by mistake."""

    model_config = ConfigDict(extra="forbid")


class ContactCard(Answer):
    """One role-holder as the caller may see them (联系卡).

    A field the holder keeps private is null for the public: the role and its
    title are always shown, so a vacant-looking card still says who to ask for.
    """

    role: str
    title: str
    name: str | None = None
    phone: str | None = None
    organisation: str | None = None
    is_party_member: bool | None = None
    employment: str | None = None
    duties: str | None = None


class ChainLink(Answer):
    """One level of the chain 街道 → 社区 → 网格 (→ 小区) → 楼栋, with its people."""

    level: str
    level_name: str
    code: str
    name: str | None
    holders: list[ContactCard]
    number: str | None = None
    """The building's number (楼号); buildings only."""
    estate: str | None = None
    """The building's estate (小区) name; buildings only."""


class BuildingRef(Answer):
    """A building by code, with what a resident would call it."""

    code: str
    name: str | None
    number: str | None = None
    estate: str | None = None


class NearestBuilding(BuildingRef):
    """The building nearest a point that lies in none."""

    distance_m: float


class PointQuery(Answer):
    """The point asked about, as given and in storage coordinates (WGS 84)."""

    lon: float
    lat: float
    crs: str
    lon_wgs84: float
    lat_wgs84: float


class PointAnswer(Answer):
    """Who covers a point (点位查询)."""

    query: PointQuery
    date: date | None
    found: bool
    chain: list[ChainLink]
    nearest_building: NearestBuilding | None = None


class Candidate(Answer):
    """A place an address text may mean, with how well it matched."""

    kind: str
    """What the code names: "address", "building", "estate" …"""
    code: str
    text: str | None
    score: float
    matched: list[str]


class AddressRef(Answer):
    """A resident's address: shown to staff of its street only."""

    code: str
    text: str | None


class AddressAnswer(Answer):
    """Who covers an address typed as text (地址查询)."""

    query: str
    date: date | None
    found: bool
    candidates: list[Candidate]
    chain: list[ChainLink]
    address: AddressRef | None = None


class GridContacts(Answer):
    """A grid a shape touches, and whom to call there."""

    code: str
    name: str | None
    holders: list[ContactCard]


class BuildingCount(Answer):
    """A building inside a shape and its households."""

    code: str
    name: str | None
    households: int


class WithinAnswer(Answer):
    """What lies inside a shape (范围查询)."""

    area_m2: float
    grids: list[GridContacts]
    buildings: list[BuildingCount]
    n_addresses: int
    households: int
    addresses: list[AddressRef] | None = None
    """Residents' addresses: staff of their street only, else null."""


LookupAnswer = PointAnswer | AddressAnswer


# ------------------------------------------------------------------ coverage


class ServiceShare(BaseModel):
    """How many homes one kind of centre serves in one community (服务覆盖率).

    Read back from stored reports too, so unknown keys are ignored, not refused.
    """

    community_code: str | None
    kind: str
    radius_m: float | None
    homes_total: int
    homes_uncovered: int
    households_total: float
    households_uncovered: float
    residents_total: float
    residents_uncovered: float
    share_covered: float | None
    """Of households, else of homes; null for a community without homes."""


class CoverageSummary(BaseModel):
    """Counts of open findings per rule and per community, and service shares."""

    n_errors: int
    n_warnings: int
    n_accepted: int
    by_rule: dict[str, int]
    by_community: dict[str, dict[str, int]]
    service: list[ServiceShare] = []


class FindingProperties(Answer):
    """One coverage finding (覆盖检查问题) as a GeoJSON feature's properties."""

    key: str
    """Stable across runs: accept or revoke a finding by it."""
    rule: str
    title: str
    severity: Literal["error", "warning"]
    codes: list[str]
    community_code: str | None
    measure: dict[str, Any]
    is_accepted: bool


FindingFeature = Feature[Geometry, FindingProperties]  # geometry may be null


class CoverageReport(Answer):
    """The coverage report (覆盖检查报告): its summary and every finding."""

    report_id: int | None
    created_at: Instant
    scope: str
    summary: CoverageSummary
    findings: list[FindingFeature]


# --------------------------------------------------------------------- plans


class PlanStep(Answer):
    """One step of a draft (规划步骤): the base, then each edit, undoable."""

    seq: int
    op: str
    params: dict[str, Any]
    author: str
    at: Instant


class PlanInfo(Answer):
    """A plan as listed (规划列表)."""

    id: int
    name: str
    scope: str
    status: Literal["draft", "published", "discarded"]
    created_by: str
    created_at: Instant


class PlanList(Answer):
    """Plans, newest first."""

    items: list[PlanInfo]


GridFeature = Feature[Polygon | MultiPolygon, dict[str, Any]]
"""A draft's grid: its code, name and outline (properties as stored)."""


class PlanSummary(Answer):
    """A plan with its steps and its grids as they stand (规划详情)."""

    id: int
    name: str
    scope: str
    status: Literal["draft", "published", "discarded"]
    created_by: str
    is_stale: bool
    """Someone published other grids for the scope since the draft began."""
    steps: list[PlanStep]
    grids: FeatureCollection[GridFeature]


# -------------------------------------------------------------------- roster


class AssignmentRecord(Answer):
    """A role a person holds on a target (任职), with its version for If-Match."""

    id: int
    person_code: str
    scheme: str
    role: str
    target_level: str
    target_code: str
    valid_from: Instant
    valid_to: Instant | None
    version: int


class PersonRecord(Answer):
    """A person on the roster (人员) as staff of their street see them."""

    code: str
    name: str
    phone: str
    phone_public: bool
    """Whether residents may see the phone (else masked or hidden, as the scheme says)."""
    organisation: str
    is_party_member: bool
    employment: str
    version: int
    assignments: list[AssignmentRecord]
    """Current assignments only; ended ones stay in the history."""


class PeoplePage(Answer):
    """A page of people the caller may see."""

    number_matched: int
    items: list[PersonRecord]


class AssignmentRow(Answer):
    """A current assignment as listed: who holds which role where."""

    person_code: str
    name: str
    scheme: str
    role: str
    target_level: str
    target_code: str
    valid_from: Instant


class AssignmentPage(Answer):
    """A page of current assignments the caller may see."""

    number_matched: int
    items: list[AssignmentRow]


class SchemeInfo(Answer):
    """A role scheme (角色方案) by name: stored or a preset, and whether active."""

    name: str
    active: bool
    stored: bool


# ------------------------------------------------------------------ accounts


class Identity(Answer):
    """Who is calling (当前身份): role, login name and street ("" when none)."""

    role: str
    username: str
    street: str


class UserInfo(Identity):
    """A login as admins see it (never its password hash)."""

    is_active: bool
    created_at: Instant


class AuditRecord(Answer):
    """One audited change (审计日志): who did what to which record, before and after."""

    id: int
    at: Instant
    actor: str
    action: str
    target: str
    before: Any
    after: Any


# --------------------------------------------------------------------- areas


class AreaNode(Answer):
    """One area of the tree 区 → 街道 → 社区 → 网格 (→ 小区), with its children."""

    code: str
    name: str | None
    level: str
    children: list["AreaNode"] = []


class AreaTree(Answer):
    """The area tree valid on a day (today when ``date`` is null)."""

    date: date | None
    roots: list[AreaNode]


class PlanRef(Answer):
    """Which plan an impact is of, and whether it is stale."""

    id: int
    scope: str
    stale: bool


class GridChanges(Answer):
    """Grid codes the draft adds, removes, and changes (land or name)."""

    added: list[str]
    removed: list[str]
    changed: list[str]


class HouseholdCounts(Answer):
    """Households per grid before and after the draft."""

    before: dict[str, int]
    after: dict[str, int]


class BuildingMove(Answer):
    """A building whose grid the draft changes (楼栋调整)."""

    model_config = ConfigDict(
        extra="forbid", validate_by_name=True, serialize_by_alias=True
    )

    building: str
    name: str | None
    from_grid: str | None = Field(alias="from")
    to_grid: str | None = Field(alias="to")
    households: int
    addresses: int


class HolderRef(Answer):
    """A role-holder the draft affects."""

    person_code: str
    name: str
    title: str
    target_code: str


class MissingRole(Answer):
    """A role a new grid has nobody for yet."""

    grid: str
    title: str


class PeopleImpact(Answer):
    """Whom the draft affects (受影响人员).

    Holders of removed grids, new grids' vacant roles, and 楼栋长 whose
    building now answers to another grid.
    """

    left_without_grid: list[HolderRef]
    new_grids_missing: list[MissingRole]
    building_changed_grid: list[HolderRef]


class DraftChanges(Answer):
    """What a draft changes against the current grids, before any check."""

    grids: GridChanges
    households: HouseholdCounts
    moves: list[BuildingMove]
    people: PeopleImpact


class RuleArea(Answer):
    """How many findings of a spatial rule, and their area."""

    count: int
    area_m2: float


class CoverageDelta(Answer):
    """Gaps, overlaps and outside-parent area before and after the draft."""

    before: dict[str, RuleArea]
    after: dict[str, RuleArea]
    introduced: list[str]
    """Rules whose area grows beyond the minimum: publishing is refused."""


class HouseholdBand(Answer):
    """The households a grid should hold, and the draft's grids outside it."""

    min: int
    max: int
    outside_after: list[str]


class FindingRow(Answer):
    """A finding a plan check adds or clears."""

    rule: str
    severity: Literal["error", "warning"]
    codes: list[str]
    measure: dict[str, Any]
    key: str
    is_accepted: bool


class FindingsDelta(Answer):
    """Every rule of ``geogrid check`` on the scope now and with the draft."""

    before: dict[str, int]
    after: dict[str, int]
    added: list[FindingRow]
    removed: list[FindingRow]
    adds_errors: bool


class PlanImpact(DraftChanges):
    """A plan's impact (影响分析): changes, people, households and the check."""

    plan: PlanRef
    coverage: CoverageDelta
    band: HouseholdBand
    findings: FindingsDelta


class Published(Answer):
    """A published plan: from when it holds, what was written, how many moved."""

    id: int
    valid_from: Instant
    counts: dict[str, int]
    moves: int


class RolledBack(Answer):
    """A scope published again as it stood at ``to``."""

    scope: str
    to: Instant
    counts: dict[str, int]


# ------------------------------------------------------------ feature pages


class AreaRef(Answer):
    """An area by code, name and level."""

    code: str
    name: str | None
    level: str


class AreaProperties(AreaRef):
    """What a page sends of one area: its place in the tree and its validity."""

    parent_code: str | None
    valid_from: Instant
    valid_to: Instant | None
    """Null while the area is current; set when a later generation replaced it."""


class AreaDetail(AreaProperties):
    """One area with its parent and children of the same generation."""

    parent: AreaRef | None
    children: list[AreaRef]


AreaFeature = Feature[Geometry, AreaDetail]


class Link(Answer):
    """A link to this answer or a related one (OGC API – Features' ``links``)."""

    href: str
    rel: str
    type: str
    title: str | None = None


class FeaturePage(Answer):
    """What every page of features adds to its FeatureCollection."""

    numberMatched: int  # noqa: N815  # OGC API – Features' name
    numberReturned: int  # noqa: N815
    links: list[Link] = []


class AreasPage(FeatureCollection[Feature[Geometry, AreaProperties]], FeaturePage):
    """A page of areas (区域) as GeoJSON."""


class FindingCollection(FeatureCollection[FindingFeature]):
    """The coverage findings as GeoJSON, for the coverage map layer."""


@cache
def feature_model(layer: Layer) -> type[BaseModel]:
    """One feature of a layer as GeoJSON, its properties the layer's columns.

    A field only staff of the street see (a building's ``residents``) is left
    out for others, so every property but ``code`` may be absent or null.
    """
    properties = create_model(  # type: ignore[call-overload]
        f"{layer.key.title()}Properties",
        __base__=Answer,
        __doc__=f"What a page sends of one {layer.one_en}.",
        **{
            column: (kind, ...) if column == "code" else (kind, None)
            for column, kind in layer.columns
        },
    )
    feature: type[BaseModel] = Feature[Geometry, properties]
    return feature


@cache
def feature_page(layer: Layer) -> type[BaseModel]:
    """A page of one layer: a FeatureCollection of its features, counted and linked."""
    # A model class made at run time: mypy sees a value where a type belongs.
    collection: type[BaseModel] = FeatureCollection[feature_model(layer)]  # type: ignore[assignment,misc]
    page: type[BaseModel] = create_model(
        f"{layer.key.title()}Page",
        __base__=(collection, FeaturePage),
        __doc__=f"A page of {layer.title_en} ({layer.title_zh}) as GeoJSON.",
    )
    return page


# ------------------------------------------------------- OGC API – Features


class LandingPage(Answer):
    """The OGC API's entry point: what it is and where its parts are."""

    title: str
    description: str
    links: list[Link]


class Conformance(Answer):
    """The OGC conformance classes the API implements."""

    conformsTo: list[str]  # noqa: N815  # the standard's names
    links: list[Link]


class SpatialExtent(Answer):
    """Bounds of a collection's data, lon/lat (CRS84)."""

    bbox: list[list[float]]
    crs: str


class TemporalExtent(Answer):
    """From when a collection's data is valid (open-ended: still current)."""

    interval: list[list[str | None]]
    trs: str


class Extent(Answer):
    """Where and when a collection's data lies."""

    spatial: SpatialExtent | None = None
    temporal: TemporalExtent | None = None


class CollectionInfo(Answer):
    """One feature collection: its id, title, extent and CRSs."""

    id: str
    title: str
    description: str
    itemType: str  # noqa: N815
    crs: list[str]
    storageCrs: str  # noqa: N815
    extent: Extent | None = None
    links: list[Link]


class Collections(Answer):
    """Every collection the caller may read."""

    links: list[Link]
    collections: list[CollectionInfo]


class ItemsPage(FeatureCollection[Feature[Geometry, dict[str, Any]]], FeaturePage):
    """A page of a collection's features; properties as the collection describes."""

    timeStamp: str  # noqa: N815


class Item(Feature[Geometry, dict[str, Any]]):
    """One feature of a collection, with links to itself and its collection."""

    links: list[Link]
