"""Settings (配置) in one place, read from ``GEOGRID_*`` variables or a ``.env`` file."""

from functools import lru_cache
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything a deployment can change; built on demand, never at import."""

    model_config = SettingsConfigDict(
        env_prefix="GEOGRID_", env_file=".env", extra="ignore"
    )

    database_url: str = "sqlite:///geogrid.sqlite"
    """SQLAlchemy URL: ``sqlite:///FILE`` (SpatiaLite) or ``postgresql+psycopg://…`` (PostGIS)."""

    spatialite_path: str = "mod_spatialite"
    """Name or path of the SpatiaLite extension to load."""

    lang: Literal["zh", "en"] = "zh"
    """Language of CLI messages."""

    containment_tolerance_m: float = 5.0
    """How far a child area may reach outside its parent before it is reported."""

    role_scheme: str = "三长三员一民警"
    """The active role scheme (角色方案) when none is stored yet."""

    building_rule: Literal["point_on_surface", "largest_share"] = "point_on_surface"
    """How a building finds its grid: the grid holding its point-on-surface, or the largest share."""

    split_share: float = 0.10
    """A building is reported as split when a second grid holds more than this share of it."""

    address_tolerance_m: float = 3.0
    """How far an address may lie from the building it is given to."""

    lookup_near_m: float = 100.0
    """How far a point lookup searches for the nearest building when in none."""

    cache_dir: str = ""
    """Where lookup snapshots are kept for restarts, other workers and the CLI.

    Empty: ``$XDG_CACHE_HOME/geogrid`` or ``~/.cache/geogrid``; ``off`` keeps
    none (each process then builds its own: about 20 s on a 1M-address city).
    """

    sliver_area_m2: float = 100.0
    """A gap smaller than this is a sliver (digitising noise), reported apart from real gaps."""

    sliver_width_m: float = 2.0
    """…or a gap thinner than this."""

    grid_households_min: int = 300
    """The household band of a grid: below it a grid is underloaded…"""

    grid_households_max: int = 500
    """…and above it overloaded."""

    community_households_max: int = 3000
    """A community above this many households should be split (泾川: under 3,000)."""

    service_radii_m: dict[str, float] = {"睦邻中心": 500.0, "社区中心": 1500.0}
    """Service radius per centre kind (包河 15-minute circle); JSON in the environment."""

    person_max_targets: int = 10
    """More targets than this makes one person overloaded."""

    person_max_households: int = 2000
    """More households than this across one person's targets, too."""

    map_tiles: Literal["none", "osm", "tianditu", "amap"] = "none"
    """Base map under the maps: none (works offline), osm, tianditu (天地图) or amap (高德, GCJ-02)."""

    tianditu_key: str = ""
    """Your 天地图 key (tk), needed when ``map_tiles`` is tianditu."""

    map_attribution: str = (
        "网格数据：本地网格化管理部门公示 / grid data posted by the local office"
    )
    """The maps' credit line, plain text: who publishes the data and under what
    terms, e.g. ``数据：泾川县委政法委 · 道路 © OpenStreetMap contributors (ODbL)``."""

    public_base_url: str = ""
    """Base URL where the public maps are published, e.g. ``https://grid.example.gov.cn``.

    The QR code on a grid's contact card (便民联系卡) opens
    ``{base}/maps/public/{community}.html#grid={grid}``; empty gives a relative
    link ``{community}.html#grid=…`` that works when the cards sit beside the
    static site (a phone scanning the code needs the full address).
    """

    token_ttl_minutes: int = 720
    """How long a login's bearer token lasts (API keys last until revoked)."""

    login_max_failures: int = 5
    """Failed logins of one account before it must wait (then 429 with Retry-After)."""

    login_lockout_seconds: float = 30.0
    """The first wait; it doubles with each further failure, up to an hour."""

    login_client_max_failures: int = 30
    """Failed logins from one client address, over any accounts, before it must wait."""

    max_body_bytes: int = 1_000_000
    """The largest request body the API accepts (bytes); a larger one is refused with 413.

    A street's worth of polygon or a batch of people fits in well under 1 MB;
    the limit keeps one careless upload from holding a worker and its memory.
    """

    host: str = "127.0.0.1"
    """Where ``geogrid serve`` listens."""

    port: int = 8000
    """The port ``geogrid serve`` listens on."""

    workers: int = 2
    """Worker processes of ``geogrid serve``: lookups are CPU-bound, so one per core
    (benchmarks/load.py: two workers on two cores bring address p99 from 51–62 ms to 26–41 ms)."""


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
