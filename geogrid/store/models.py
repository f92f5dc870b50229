"""ORM tables (数据表): one tree of areas, the features inside them, and people.

Areas, buildings and assignments are linked by *code*, not by row id: an area
keeps its code across redraws while each generation is a new row (MapIt's
generations, expressed as valid_from/valid_to), so a link by code still holds
after a redraw and "as of a date" is a filter, not a join through history.
"""

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from geoalchemy2 import Geometry, WKBElement

SRID = 4326

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with stable constraint names on both backends."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON}


class ImportBatch(Base):
    """One import run (导入批次): where the rows came from."""

    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(500))
    source_crs: Mapped[str] = mapped_column(String(100))
    n_records: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Area(Base):
    """One generation of an area (区域): district, street, community, grid or estate."""

    __tablename__ = "area"
    __table_args__ = (
        Index("ix_area_code_valid", "code", "valid_to"),
        Index("ix_area_parent_level", "parent_code", "level", "valid_to"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(20), index=True)
    parent_code: Mapped[str | None] = mapped_column(String(40))
    valid_from: Mapped[datetime] = mapped_column(DateTime)
    valid_to: Mapped[datetime | None] = mapped_column(DateTime)
    attrs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True)
    )


class Building(Base):
    """A building (楼栋): its footprint, or a point where an office has only that."""

    __tablename__ = "building"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    number: Mapped[str] = mapped_column(String(40), default="")
    estate: Mapped[str] = mapped_column(String(200), default="")
    floors: Mapped[int | None] = mapped_column(Integer)
    households: Mapped[int] = mapped_column(Integer, default=0)
    residents: Mapped[int] = mapped_column(Integer, default=0)
    attrs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("GEOMETRY", srid=SRID, spatial_index=True)
    )
    # Derived links (never typed in): written by the assignment service.
    grid_code: Mapped[str | None] = mapped_column(String(40), index=True)
    grid_share: Mapped[float | None] = mapped_column()
    split_grid_code: Mapped[str | None] = mapped_column(String(40))
    split_share: Mapped[float | None] = mapped_column()
    estate_code: Mapped[str | None] = mapped_column(String(40))


class Lane(Base):
    """A street lane (弄巷), a line with its own 弄巷长."""

    __tablename__ = "lane"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    attrs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("MULTILINESTRING", srid=SRID, spatial_index=True)
    )


class Road(Base):
    """A road (道路), drawn as the offline base map: no one is posted for it."""

    __tablename__ = "road"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(40), default="")
    attrs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("MULTILINESTRING", srid=SRID, spatial_index=True)
    )


class Address(Base):
    """A standard address (标准地址): normalised text, original text and a point."""

    __tablename__ = "address"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    # Indexed: an address typed as stored is found by it while the address
    # index is built (a server's first quarter minute on a city).
    text: Mapped[str] = mapped_column(String(500), index=True)
    original_text: Mapped[str] = mapped_column(String(500))
    attrs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))
    geom: Mapped[WKBElement | None] = mapped_column(
        Geometry("POINT", srid=SRID, spatial_index=True, nullable=True)
    )
    # Derived links: address → building → grid, and why (assign_reason).
    building_code: Mapped[str | None] = mapped_column(String(40), index=True)
    grid_code: Mapped[str | None] = mapped_column(String(40), index=True)
    assign_reason: Mapped[str | None] = mapped_column(String(20))
    building_distance_m: Mapped[float | None] = mapped_column()


class ServiceCentre(Base):
    """A service centre (服务中心: 社区中心, 睦邻中心, 警务室…) with its service radius."""

    __tablename__ = "service_centre"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    radius_m: Mapped[float] = mapped_column()
    attrs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("POINT", srid=SRID, spatial_index=True)
    )


class RoleSchemeRow(Base):
    """A stored role scheme (角色方案); ``definition`` is the scheme as data."""

    __tablename__ = "role_scheme"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    definition: Mapped[dict[str, Any]] = mapped_column()
    is_active: Mapped[bool] = mapped_column(default=False)


class Person(Base):
    """A person (人员) who holds roles; ``visibility`` says which fields are public."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(40), default="")
    organisation: Mapped[str] = mapped_column(String(200), default="")
    is_party_member: Mapped[bool] = mapped_column(default=False)
    employment: Mapped[str] = mapped_column(String(20), default="")
    visibility: Mapped[dict[str, Any]] = mapped_column(default=dict)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    """Bumped by every edit; the API's ETag, so a stale write is refused."""


class Assignment(Base):
    """A person holding a role on a target (任职) from one date to another."""

    __tablename__ = "assignment"
    __table_args__ = (Index("ix_assignment_target", "target_level", "target_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    scheme: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(40))
    target_level: Mapped[str] = mapped_column(String(20))
    target_code: Mapped[str] = mapped_column(String(60))
    valid_from: Mapped[datetime] = mapped_column(DateTime)
    valid_to: Mapped[datetime | None] = mapped_column(DateTime)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    """Bumped by every edit; the API's ETag."""


class CoverageReport(Base):
    """One run of the coverage check (覆盖检查报告), kept to compare progress."""

    __tablename__ = "coverage_report"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    scope: Mapped[str] = mapped_column(String(40))
    data_version: Mapped[int] = mapped_column(Integer)
    n_errors: Mapped[int] = mapped_column(Integer)
    n_warnings: Mapped[int] = mapped_column(Integer)
    n_accepted: Mapped[int] = mapped_column(Integer)
    summary: Mapped[dict[str, Any]] = mapped_column()


class CoverageFinding(Base):
    """One finding of a report (检查发现); ``key`` names it across runs."""

    __tablename__ = "coverage_finding"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("coverage_report.id"), index=True)
    rule: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10))
    key: Mapped[str] = mapped_column(String(64), index=True)
    codes: Mapped[list[str]] = mapped_column(JSON)
    parent_code: Mapped[str | None] = mapped_column(String(40))
    community_code: Mapped[str | None] = mapped_column(String(40), index=True)
    measure: Mapped[dict[str, Any]] = mapped_column()
    is_accepted: Mapped[bool] = mapped_column(default=False)
    geom_hash: Mapped[str] = mapped_column(String(64))
    # What the finding says (severity, places, measure…), hashed: the next
    # report keeps an unchanged finding by comparing this, not the measure.
    digest: Mapped[str | None] = mapped_column(String(32))
    geom: Mapped[WKBElement | None] = mapped_column(
        Geometry("GEOMETRY", srid=SRID, spatial_index=True, nullable=True)
    )


class FindingException(Base):
    """A finding a planner accepted (例外), e.g. an enclave or a park no one lives in.

    It holds while the finding's geometry is the same (``geom_hash``), as
    ArcGIS topology exceptions do; a changed geometry needs a new look.
    """

    __tablename__ = "finding_exception"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    rule: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(500))
    accepted_by: Mapped[str] = mapped_column(String(100))
    geom_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class User(Base):
    """A login (用户): staff, planner or admin; staff serve one street (街道)."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    street_code: Mapped[str] = mapped_column(String(40), default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ApiToken(Base):
    """A bearer token from a login, or an API key for scripts; only its hash is kept."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # "session" or "key"
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked: Mapped[bool] = mapped_column(default=False)


class AuditEntry(Base):
    """Who changed what and when (审计日志), with the record before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(100), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Plan(Base):
    """A draft of one community's or street's grids (规划草案), until published or discarded."""

    __tablename__ = "plan"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    scope_code: Mapped[str] = mapped_column(String(40), index=True)
    scope_level: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))  # draft, published, discarded
    base_signature: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    published_at: Mapped[datetime | None] = mapped_column(DateTime)


class PlanStep(Base):
    """One edit of a plan (编辑步骤): the operation, who did it, and the grids after it."""

    __tablename__ = "plan_step"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    op: Mapped[str] = mapped_column(String(20))
    params: Mapped[dict[str, Any]] = mapped_column()
    author: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime)
    grids: Mapped[dict[str, Any]] = mapped_column()
    """The draft's grids after this step, as a GeoJSON FeatureCollection (EPSG:4326)."""


def text_limits(model: type[Base]) -> dict[str, int]:
    """Maximum lengths of a table's text columns (PostGIS enforces them, SQLite does not)."""
    return {
        column.name: column.type.length
        for column in model.__table__.columns
        if isinstance(column.type, String) and column.type.length
    }
