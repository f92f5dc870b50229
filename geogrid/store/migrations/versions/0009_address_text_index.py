"""An index on the address text: an address typed as stored is a seek, not a scan.

Until the address index of a city is built (15 s after a server's start),
exact texts are looked up in the table; without this index each of those
read a million rows, and a burst of them held the server for seconds.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_address_text", "address", ["text"])


def downgrade() -> None:
    op.drop_index("ix_address_text", table_name="address")
