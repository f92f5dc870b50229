"""Alembic environment: runs on the connection geogrid hands it (both backends)."""

from alembic import context
from geoalchemy2 import alembic_helpers
from geogrid.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    from geogrid.config import get_settings
    from geogrid.store.engine import make_engine

    connection = make_engine(get_settings().database_url).connect()


def include_object(  # alembic calls it with these five, positionally
    obj: object,
    name: str | None,
    obj_type: str,
    reflected: bool,  # noqa: FBT001
    compare_to: object,
) -> bool:
    # SpatiaLite's own tables (KNN, SpatialIndex, …) are not ours to migrate.
    if obj_type == "table" and reflected and compare_to is None:
        return False
    return alembic_helpers.include_object(obj, name, obj_type, reflected, compare_to)


context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    include_object=include_object,
    process_revision_directives=alembic_helpers.writer,
    render_item=alembic_helpers.render_item,
)
with context.begin_transaction():
    context.run_migrations()
