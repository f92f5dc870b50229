from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from geogrid.store.engine import Bind, session_scope
from geogrid.store.models import Base


def _ours(obj, name, obj_type, reflected, compare_to) -> bool:
    # SpatiaLite's own tables and the spatial indexes GeoAlchemy2 manages are not ours.
    if obj_type == "table" and reflected and compare_to is None:
        return False
    return not (obj_type == "index" and name and name.startswith("idx_"))


def test_migrations_match_the_models(db: Bind) -> None:
    with session_scope(db) as session:
        context = MigrationContext.configure(
            session.connection(), opts={"include_object": _ours}
        )
        assert compare_metadata(context, Base.metadata) == []
