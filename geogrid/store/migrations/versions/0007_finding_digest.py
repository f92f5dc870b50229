"""A digest of what each stored finding says, so a new report compares by it.

Handing a city's 250,000 unchanged findings over to the next report read and
re-serialised every stored measure (4 s); the digest is written with the
finding and compared as it is. Rows from before have none and are written
again once.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("coverage_finding", sa.Column("digest", sa.String(32)))


def downgrade() -> None:
    op.drop_column("coverage_finding", "digest")
