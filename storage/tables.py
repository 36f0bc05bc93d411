"""The registry's tables (SQLAlchemy 2.0 declarative); Alembic migrations create them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Blob(Base):
    """An object stored once by content."""

    __tablename__ = "blobs"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Dossier(Base):
    """A dossier handed in at a counter; its code is the receipt's dossier code."""

    __tablename__ = "dossiers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    procedure_code: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    components: Mapped[list[Component]] = relationship(back_populates="dossier")
    links: Mapped[list[DossierLink]] = relationship(
        back_populates="dossier", cascade="all, delete-orphan"
    )


class Component(Base):
    """One component of a dossier (one document), from upload to registered result."""

    __tablename__ = "components"
    __table_args__ = (
        UniqueConstraint("dossier_key", "original_sha256"),
        # one registry record per content: a second copy of the same bytes is a duplicate
        Index(
            "uq_components_record_sha256",
            "original_sha256",
            unique=True,
            sqlite_where=text("registry_status IS NOT NULL AND duplicate_of IS NULL"),
            postgresql_where=text("registry_status IS NOT NULL AND duplicate_of IS NULL"),
        ),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id"))
    # dossier code, or "" for loose files: with the hash, makes a re-submission idempotent
    dossier_key: Mapped[str] = mapped_column(String(64), default="")
    source: Mapped[str] = mapped_column(String(512))
    original_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    media_type: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    error: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str | None] = mapped_column(String(32), index=True)
    type_confidence: Mapped[float | None] = mapped_column(Float)
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    pages: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    text: Mapped[str] = mapped_column(Text, default="")
    pdf_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # bumped when the page set changes (edit, add, re-scan): a result of an older set is stale
    pages_revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # the attempt (run) whose pages' join has fired: the assembly is enqueued once per run
    joined_attempt: Mapped[int] = mapped_column(Integer, default=-1, server_default="-1")
    # the registry record, set once the result is registered (None while queued)
    registry_status: Mapped[str | None] = mapped_column(String(16), index=True)
    result_code: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    duplicate_of: Mapped[str | None] = mapped_column(String(32))
    doc_number: Mapped[str | None] = mapped_column(String(64), index=True)
    issued_on: Mapped[str | None] = mapped_column(String(10), index=True)
    issuer: Mapped[str | None] = mapped_column(String(255))
    valid_until: Mapped[str | None] = mapped_column(String(10))
    scope: Mapped[str | None] = mapped_column(Text)
    phash: Mapped[str | None] = mapped_column(String(16))
    reuse_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    digitized_by: Mapped[str | None] = mapped_column(String(64))
    verified_by: Mapped[str | None] = mapped_column(String(64))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status_reason: Mapped[str | None] = mapped_column(Text)
    # a document cut out of a scanner batch: the batch's component (status `split`) and
    # the pages (1-based, inclusive) of the batch's file it was cut from
    parent_id: Mapped[str | None] = mapped_column(String(32), index=True)
    first_page: Mapped[int | None] = mapped_column(Integer)
    last_page: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    dossier: Mapped[Dossier | None] = relationship(back_populates="components")
    original: Mapped[Blob] = relationship(foreign_keys=[original_sha256])
    pdf: Mapped[Blob | None] = relationship(foreign_keys=[pdf_sha256])
    fields: Mapped[list[FieldRow]] = relationship(
        back_populates="component", cascade="all, delete-orphan"
    )
    owners: Mapped[list[Owner]] = relationship(
        back_populates="component", cascade="all, delete-orphan"
    )


class ComponentPage(Base):
    """One page of a component: where it comes from (a frame of a stored file), how far its
    reading got, and the stored parts the component is assembled from."""

    __tablename__ = "component_pages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    component_id: Mapped[str] = mapped_column(
        ForeignKey("components.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)  # 0-based order in the component
    source_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    frame: Mapped[int] = mapped_column(Integer)  # page number inside that file, 0-based
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    error: Mapped[str | None] = mapped_column(Text)
    seconds: Mapped[float | None] = mapped_column(Float)  # time it took to read
    rotation: Mapped[int] = mapped_column(Integer, default=0)
    skew: Mapped[float] = mapped_column(Float, default=0.0)
    blank: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_attention: Mapped[bool] = mapped_column(Boolean, default=False)
    thumb_before_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    thumb_after_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    # the page's result, text-only PDF page and encoded image (api.frames.pack_parts)
    parts_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    reads: Mapped[int] = mapped_column(Integer, default=0)  # times reading started
    reader: Mapped[str | None] = mapped_column(String(64))  # who reads it now (a task id)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    source: Mapped[Blob] = relationship(foreign_keys=[source_sha256])


class FieldRow(Base):
    """A field of a component's document, with its source and confidence."""

    __tablename__ = "fields"
    __table_args__ = (UniqueConstraint("component_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    component_id: Mapped[str] = mapped_column(ForeignKey("components.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    component: Mapped[Component] = relationship(back_populates="fields")


class Owner(Base):
    """A personal ID number (or tax code) a component belongs to."""

    __tablename__ = "owners"
    __table_args__ = (UniqueConstraint("component_id", "owner_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    component_id: Mapped[str] = mapped_column(ForeignKey("components.id", ondelete="CASCADE"))
    owner_id: Mapped[str] = mapped_column(String(32), index=True)
    source: Mapped[str] = mapped_column(String(16), default="clerk")
    component: Mapped[Component] = relationship(back_populates="owners")


class OwnerAlias(Base):
    """An old 9-digit CMND number linked to the 12-digit personal ID that replaced it."""

    __tablename__ = "owner_aliases"
    __table_args__ = (UniqueConstraint("old_id", "new_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    old_id: Mapped[str] = mapped_column(String(32), index=True)
    new_id: Mapped[str] = mapped_column(String(32), index=True)


class DossierLink(Base):
    """A registered document reused as a component of a dossier: a reference, not a copy."""

    __tablename__ = "dossier_links"
    __table_args__ = (UniqueConstraint("dossier_id", "component_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"))
    component_id: Mapped[str] = mapped_column(ForeignKey("components.id"), index=True)
    component_type: Mapped[str] = mapped_column(String(32))
    linked_by: Mapped[str] = mapped_column(String(64))
    linked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    dossier: Mapped[Dossier] = relationship(back_populates="links")
    component: Mapped[Component] = relationship()


class ApiKey(Base):
    """An API key: public id, SHA-256 of its secret, role and (for `system`) allowed types."""

    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(128), default="")
    allowed_types: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEvent(Base):
    """Who read what, when and why. Append-only (database triggers refuse updates/deletes)."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str | None] = mapped_column(String(64), index=True)
    subject_masked: Mapped[str | None] = mapped_column(String(32))
    subject_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    purpose: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str | None] = mapped_column(Text)


class CodeCounter(Base):
    """Sequence numbers of the *mã kết quả số hóa*, one per scope (agency, year, ...)."""

    __tablename__ = "code_counters"
    scope: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class SearchDoc(Base):
    """The OCR text of a registered component as indexed for search (see storage/search.py).

    `exact` keeps the diacritics with tone marks in one canonical placement; `folded` has
    none. On SQLite the FTS5 table `search_fts` indexes both (external content, triggers).
    """

    __tablename__ = "search_docs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    component_id: Mapped[str] = mapped_column(
        ForeignKey("components.id", ondelete="CASCADE"), unique=True
    )
    exact: Mapped[str] = mapped_column(Text, default="")
    folded: Mapped[str] = mapped_column(Text, default="")
