"""components cut out of a scanner batch: parent component and page range

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 18:30:00.000000

Additive only: three nullable columns and an index. `parent_id` has no foreign key (like
`duplicate_of`), so SQLite adds the columns in place instead of rebuilding the table.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("components", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("first_page", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("last_page", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_components_parent_id"), ["parent_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("components", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_components_parent_id"))
        batch_op.drop_column("last_page")
        batch_op.drop_column("first_page")
        batch_op.drop_column("parent_id")
