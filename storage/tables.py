"""The registry's tables (SQLAlchemy 2.0 declarative); Alembic migrations create them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    components: Mapped[list[Component]] = relationship(back_populates="dossier")


class Component(Base):
    """One component of a dossier (one document), from upload to registered result."""

    __tablename__ = "components"
    __table_args__ = (UniqueConstraint("dossier_key", "original_sha256"),)
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
