"""Derived links: building → grid/estate, address → building → grid.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Plain ADD COLUMN, not batch mode: SQLite supports it, and a batch "move and
# copy" would rebuild the tables and lose SpatiaLite's geometry registration.
BUILDING = [
    sa.Column("grid_code", sa.String(40), nullable=True),
    sa.Column("grid_share", sa.Double(), nullable=True),
    sa.Column("split_grid_code", sa.String(40), nullable=True),
    sa.Column("split_share", sa.Double(), nullable=True),
    sa.Column("estate_code", sa.String(40), nullable=True),
]
ADDRESS = [
    sa.Column("building_code", sa.String(40), nullable=True),
    sa.Column("grid_code", sa.String(40), nullable=True),
    sa.Column("assign_reason", sa.String(20), nullable=True),
    sa.Column("building_distance_m", sa.Double(), nullable=True),
]


def upgrade() -> None:
    for column in BUILDING:
        op.add_column("building", column)
    for column in ADDRESS:
        op.add_column("address", column)
    op.create_index("ix_building_grid_code", "building", ["grid_code"])
    op.create_index("ix_address_building_code", "address", ["building_code"])
    op.create_index("ix_address_grid_code", "address", ["grid_code"])


def downgrade() -> None:
    op.drop_index("ix_address_grid_code", "address")
    op.drop_index("ix_address_building_code", "address")
    op.drop_index("ix_building_grid_code", "building")
    for column in ADDRESS:
        op.drop_column("address", column.name)
    for column in BUILDING:
        op.drop_column("building", column.name)
