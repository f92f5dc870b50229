"""Roads (道路): the offline base the residents' map draws under the grids.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_geospatial_table(
        "road",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("attrs", sa.JSON(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTILINESTRING",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batch.id"],
            name=op.f("fk_road_batch_id_import_batch"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_road")),
        sa.UniqueConstraint("code", name=op.f("uq_road_code")),
    )
    with op.batch_alter_table("road", schema=None) as batch_op:
        batch_op.create_geospatial_index(
            "idx_road_geom",
            ["geom"],
            unique=False,
            postgresql_using="gist",
            postgresql_ops={},
        )


def downgrade() -> None:
    with op.batch_alter_table("road", schema=None) as batch_op:
        batch_op.drop_geospatial_index(
            "idx_road_geom", postgresql_using="gist", column_name="geom"
        )
    op.drop_geospatial_table("road")
