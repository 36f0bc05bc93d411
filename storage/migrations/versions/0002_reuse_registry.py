"""reuse registry: record status and codes, reuse links, aliases, API keys, audit, search

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 13:24:04.682059
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("secret_sha256", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("allowed_types", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=True),
        sa.Column("subject_masked", sa.String(length=32), nullable=True),
        sa.Column("subject_sha256", sa.String(length=64), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_actor"), ["actor"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_events_subject_sha256"), ["subject_sha256"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_audit_events_target"), ["target"], unique=False)

    op.create_table(
        "code_counters",
        sa.Column("scope", sa.String(length=128), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope"),
    )
    op.create_table(
        "owner_aliases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("old_id", sa.String(length=32), nullable=False),
        sa.Column("new_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("old_id", "new_id"),
    )
    with op.batch_alter_table("owner_aliases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_owner_aliases_new_id"), ["new_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_owner_aliases_old_id"), ["old_id"], unique=False)

    op.create_table(
        "dossier_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.String(length=32), nullable=False),
        sa.Column("component_type", sa.String(length=32), nullable=False),
        sa.Column("linked_by", sa.String(length=64), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["components.id"],
        ),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossiers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dossier_id", "component_id"),
    )
    with op.batch_alter_table("dossier_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dossier_links_component_id"), ["component_id"], unique=False
        )

    op.create_table(
        "search_docs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.String(length=32), nullable=False),
        sa.Column("exact", sa.Text(), nullable=False),
        sa.Column("folded", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["component_id"], ["components.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("component_id"),
    )
    with op.batch_alter_table("components", schema=None) as batch_op:
        batch_op.add_column(sa.Column("registry_status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("result_code", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("duplicate_of", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("doc_number", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("issued_on", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("issuer", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("valid_until", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("scope", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("phash", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("reuse_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("digitized_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("verified_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("status_reason", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_components_doc_number"), ["doc_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_components_issued_on"), ["issued_on"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_components_registry_status"), ["registry_status"], unique=False
        )
        batch_op.create_index(
            "uq_components_record_sha256",
            ["original_sha256"],
            unique=True,
            sqlite_where=sa.text("registry_status IS NOT NULL AND duplicate_of IS NULL"),
            postgresql_where=sa.text("registry_status IS NOT NULL AND duplicate_of IS NULL"),
        )
        batch_op.create_index(batch_op.f("ix_components_result_code"), ["result_code"], unique=True)

    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("procedure_code", sa.String(length=32), nullable=True))

    _search_and_audit_ddl()


def _search_and_audit_ddl() -> None:
    """FTS5 over search_docs (SQLite) and append-only audit triggers (both dialects)."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE search_fts USING fts5(exact, folded, content='search_docs', "
            "content_rowid='id', tokenize='unicode61 remove_diacritics 0')"
        )
        op.execute(
            "CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN "
            "INSERT INTO search_fts(rowid, exact, folded) VALUES (new.id, new.exact, new.folded); "
            "END"
        )
        op.execute(
            "CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN "
            "INSERT INTO search_fts(search_fts, rowid, exact, folded) "
            "VALUES ('delete', old.id, old.exact, old.folded); END"
        )
        op.execute(
            "CREATE TRIGGER search_docs_au AFTER UPDATE ON search_docs BEGIN "
            "INSERT INTO search_fts(search_fts, rowid, exact, folded) "
            "VALUES ('delete', old.id, old.exact, old.folded); "
            "INSERT INTO search_fts(rowid, exact, folded) VALUES (new.id, new.exact, new.folded); "
            "END"
        )
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{event.lower()} BEFORE {event} ON audit_events "
                "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE INDEX ix_search_docs_exact_fts ON search_docs "
            "USING gin (to_tsvector('simple', exact))"
        )
        op.execute(
            "CREATE INDEX ix_search_docs_folded_fts ON search_docs "
            "USING gin (to_tsvector('simple', folded))"
        )
        op.execute(
            "CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'audit_events is append-only'; END $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("search_docs_ai", "search_docs_ad", "search_docs_au",
                     "audit_events_no_update", "audit_events_no_delete"):  # fmt: skip
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS search_fts")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.drop_column("procedure_code")

    with op.batch_alter_table("components", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_components_result_code"))
        batch_op.drop_index(
            "uq_components_record_sha256",
            sqlite_where=sa.text("registry_status IS NOT NULL AND duplicate_of IS NULL"),
            postgresql_where=sa.text("registry_status IS NOT NULL AND duplicate_of IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_components_registry_status"))
        batch_op.drop_index(batch_op.f("ix_components_issued_on"))
        batch_op.drop_index(batch_op.f("ix_components_doc_number"))
        batch_op.drop_column("status_reason")
        batch_op.drop_column("verified_at")
        batch_op.drop_column("verified_by")
        batch_op.drop_column("digitized_by")
        batch_op.drop_column("reuse_count")
        batch_op.drop_column("phash")
        batch_op.drop_column("scope")
        batch_op.drop_column("valid_until")
        batch_op.drop_column("issuer")
        batch_op.drop_column("issued_on")
        batch_op.drop_column("doc_number")
        batch_op.drop_column("duplicate_of")
        batch_op.drop_column("result_code")
        batch_op.drop_column("registry_status")

    op.drop_table("search_docs")
    with op.batch_alter_table("dossier_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dossier_links_component_id"))

    op.drop_table("dossier_links")
    with op.batch_alter_table("owner_aliases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_owner_aliases_old_id"))
        batch_op.drop_index(batch_op.f("ix_owner_aliases_new_id"))

    op.drop_table("owner_aliases")
    op.drop_table("code_counters")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_target"))
        batch_op.drop_index(batch_op.f("ix_audit_events_subject_sha256"))
        batch_op.drop_index(batch_op.f("ix_audit_events_at"))
        batch_op.drop_index(batch_op.f("ix_audit_events_actor"))

    op.drop_table("audit_events")
    op.drop_table("api_keys")
