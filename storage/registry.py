"""Registering components and their results, and finding them again."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from models.document import ComponentResult, FieldValue, page_from_dict, page_to_dict
from storage.blobs import BlobStore, content_key, sha256_hex
from storage.tables import Blob, Component, Dossier, FieldRow, Owner

STATUSES = ("queued", "processing", "done", "failed")


def put_blob(session: Session, store: BlobStore, kind: str, data: bytes, media_type: str) -> Blob:
    """Store bytes once by SHA-256 (object first, then its row) and return the row."""
    digest = sha256_hex(data)
    blob = session.get(Blob, digest)
    if blob is not None and store.exists(blob.key):
        return blob
    key = content_key(kind, digest, ".pdf" if media_type == "application/pdf" else "")
    store.put(key, data)
    if blob is None:
        blob = Blob(sha256=digest, key=key, size=len(data), media_type=media_type)
        session.add(blob)
        try:
            session.flush()
        except IntegrityError:  # stored concurrently by another writer: same bytes, same key
            session.rollback()
            blob = session.get(Blob, digest)
            assert blob is not None
    return blob


def _dossier(session: Session, code: str) -> Dossier:
    found = session.scalar(select(Dossier).where(Dossier.code == code))
    if found:
        return found
    d = Dossier(code=code)
    session.add(d)
    session.flush()
    return d


def find_or_create_component(
    session: Session,
    *,
    original: Blob,
    source: str,
    dossier_code: str | None,
    owners: list[str],
) -> tuple[Component, bool]:
    """The component for these bytes in this dossier; created (queued) if new.

    Idempotent: the same bytes submitted again to the same dossier return the same component,
    which is what makes a re-delivered drop-folder file or a retried upload harmless.
    """
    key = dossier_code or ""
    stmt = select(Component).where(
        Component.dossier_key == key, Component.original_sha256 == original.sha256
    )
    existing = session.scalar(stmt)
    if existing is None:
        comp = Component(
            id=uuid.uuid4().hex,
            dossier_key=key,
            dossier=_dossier(session, dossier_code) if dossier_code else None,
            source=source,
            original_sha256=original.sha256,
            media_type=original.media_type,
            status="queued",
            pages=[],
            text="",
        )
        session.add(comp)
        try:
            session.flush()
            existing, created = comp, True
        except IntegrityError:
            session.rollback()
            existing, created = session.scalar(stmt), False
            assert existing is not None
    else:
        created = False
    add_owners(existing, owners, source="clerk")
    return existing, created


def add_owners(comp: Component, owner_ids: list[str], *, source: str) -> None:
    have = {o.owner_id for o in comp.owners}
    for oid in owner_ids:
        if oid and oid not in have:
            comp.owners.append(Owner(owner_id=oid, source=source))
            have.add(oid)


def save_result(session: Session, comp: Component, result: ComponentResult, pdf: Blob) -> None:
    """Record a finished result on its component (replacing any earlier attempt's)."""
    comp.status = result.status
    comp.error = result.error
    comp.type = result.type
    comp.type_confidence = result.type_confidence
    comp.page_count = len(result.pages)
    comp.pages = [page_to_dict(p) for p in result.pages]
    comp.text = "\n\f\n".join(p.text for p in result.pages)
    comp.pdf_sha256 = pdf.sha256
    comp.fields.clear()
    session.flush()
    for name, fv in result.fields.items():
        comp.fields.append(
            FieldRow(name=name, value=fv.value, source=fv.source, confidence=fv.confidence)
        )
    add_owners(comp, result.owners, source="ocr")


def mark_failed(comp: Component, error: str) -> None:
    comp.status = "failed"
    comp.error = error


def get_component(session: Session, component_id: str) -> Component | None:
    return session.get(
        Component,
        component_id,
        options=[selectinload(Component.fields), selectinload(Component.owners)],
    )


def components_by_owner(session: Session, owner_id: str) -> list[Component]:
    """Registered (done) components of one owner, newest first."""
    stmt = (
        select(Component)
        .join(Owner)
        .where(Owner.owner_id == owner_id, Component.status == "done")
        .options(selectinload(Component.fields), selectinload(Component.owners))
        .order_by(Component.created_at.desc())
    )
    return list(session.scalars(stmt).unique())


def pending_component_ids(session: Session) -> list[str]:
    """Components a crash or restart left unfinished, oldest first."""
    stmt = (
        select(Component.id)
        .where(Component.status.in_(("queued", "processing")))
        .order_by(Component.created_at)
    )
    return list(session.scalars(stmt))


def to_result(comp: Component, pdf_location: str) -> ComponentResult:
    """The public result of a component as registered."""
    return ComponentResult(
        id=comp.id,
        source=comp.source,
        type=comp.type or "",
        type_confidence=comp.type_confidence or 0.0,
        pages=[page_from_dict(p) for p in comp.pages or []],
        fields={f.name: FieldValue(f.value, f.source, f.confidence) for f in comp.fields},
        pdf=pdf_location,
        status=comp.status,
        sha256=comp.original_sha256,
        owners=[o.owner_id for o in comp.owners],
        error=comp.error,
    )
