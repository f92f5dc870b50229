"""Coverage reports, their findings, and the exceptions planners accepted.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from alembic import op
import sqlalchemy as sa
import geoalchemy2
from geoalchemy2 import Geometry

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "coverage_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("data_version", sa.Integer(), nullable=False),
        sa.Column("n_errors", sa.Integer(), nullable=False),
        sa.Column("n_warnings", sa.Integer(), nullable=False),
        sa.Column("n_accepted", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coverage_report")),
    )
    op.create_table(
        "finding_exception",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("accepted_by", sa.String(length=100), nullable=False),
        sa.Column("geom_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finding_exception")),
        sa.UniqueConstraint("key", name=op.f("uq_finding_exception_key")),
    )
    op.create_geospatial_table(
        "coverage_finding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("codes", sa.JSON(), nullable=False),
        sa.Column("parent_code", sa.String(length=40), nullable=True),
        sa.Column("community_code", sa.String(length=40), nullable=True),
        sa.Column("measure", sa.JSON(), nullable=False),
        sa.Column("is_accepted", sa.Boolean(), nullable=False),
        sa.Column("geom_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["coverage_report.id"],
            name=op.f("fk_coverage_finding_report_id_coverage_report"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coverage_finding")),
    )
    with op.batch_alter_table("coverage_finding", schema=None) as batch_op:
        batch_op.create_geospatial_index(
            "idx_coverage_finding_geom",
            ["geom"],
            unique=False,
            postgresql_using="gist",
            postgresql_ops={},
        )
        batch_op.create_index(
            batch_op.f("ix_coverage_finding_community_code"),
            ["community_code"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_coverage_finding_key"), ["key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_coverage_finding_report_id"), ["report_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("coverage_finding", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coverage_finding_report_id"))
        batch_op.drop_index(batch_op.f("ix_coverage_finding_key"))
        batch_op.drop_index(batch_op.f("ix_coverage_finding_community_code"))
        batch_op.drop_geospatial_index(
            "idx_coverage_finding_geom", postgresql_using="gist", column_name="geom"
        )

    op.drop_geospatial_table("coverage_finding")
    op.drop_table("finding_exception")
    op.drop_table("coverage_report")
