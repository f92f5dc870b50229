"""Buildings may be points: offices often hold a 楼栋 list with coordinates only.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# SpatiaLite's geometry triggers read the allowed type from geometry_columns
# on every write, so widening it there is the whole change (0 = GEOMETRY XY).
_SPATIALITE_TYPE = (
    "UPDATE geometry_columns SET geometry_type = {type} "
    "WHERE lower(f_table_name) = 'building' AND lower(f_geometry_column) = 'geom'"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE building ALTER COLUMN geom TYPE geometry(Geometry, 4326)"
        )
    else:
        op.execute(_SPATIALITE_TYPE.format(type=0))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE building ALTER COLUMN geom TYPE geometry(MultiPolygon, 4326)"
            " USING ST_Multi(ST_Buffer(geom, 0))"
        )
    else:
        op.execute("DELETE FROM building WHERE GeometryType(geom) = 'POINT'")
        op.execute(_SPATIALITE_TYPE.format(type=6))
