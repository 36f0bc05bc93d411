"""per-page state of components: page rows, the page-set revision and the assembly join

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 15:45:43.798942
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "component_pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("frame", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("rotation", sa.Integer(), nullable=False),
        sa.Column("skew", sa.Float(), nullable=False),
        sa.Column("blank", sa.Boolean(), nullable=False),
        sa.Column("needs_attention", sa.Boolean(), nullable=False),
        sa.Column("thumb_before_sha256", sa.String(length=64), nullable=True),
        sa.Column("thumb_after_sha256", sa.String(length=64), nullable=True),
        sa.Column("parts_sha256", sa.String(length=64), nullable=True),
        sa.Column("reads", sa.Integer(), nullable=False),
        sa.Column("reader", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["component_id"], ["components.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["parts_sha256"],
            ["blobs.sha256"],
        ),
        sa.ForeignKeyConstraint(
            ["source_sha256"],
            ["blobs.sha256"],
        ),
        sa.ForeignKeyConstraint(
            ["thumb_after_sha256"],
            ["blobs.sha256"],
        ),
        sa.ForeignKeyConstraint(
            ["thumb_before_sha256"],
            ["blobs.sha256"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("component_pages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_component_pages_component_id"), ["component_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_component_pages_status"), ["status"], unique=False)

    with op.batch_alter_table("components", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pages_revision", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("joined_attempt", sa.Integer(), server_default="-1", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("components", schema=None) as batch_op:
        batch_op.drop_column("joined_attempt")
        batch_op.drop_column("pages_revision")

    with op.batch_alter_table("component_pages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_component_pages_status"))
        batch_op.drop_index(batch_op.f("ix_component_pages_component_id"))

    op.drop_table("component_pages")
