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


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
