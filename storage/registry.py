"""Registering components and their results, and finding them again."""

from __future__ import annotations

import logging
import re
import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from models.document import ComponentResult, FieldValue, page_from_dict, page_to_dict
from storage.blobs import BlobStore, content_key, sha256_hex
from storage.codes import DEFAULT_AGENCY, DEFAULT_PATTERN, agency_of, issue_code
from storage.phash import distance
from storage.search import index_text
from storage.tables import Blob, Component, Dossier, FieldRow, Owner, OwnerAlias, utcnow

log = logging.getLogger(__name__)

# reviewable: type, fields and pages saved, the archival PDF still being built;
# split: a scanner batch cut into child components (`parent_id`), no result of its own
STATUSES = ("queued", "processing", "reviewable", "done", "failed", "split")


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
        try:
            with session.begin_nested():
                session.add(blob)
        except IntegrityError:  # stored concurrently by another writer: same bytes, same key
            blob = session.get(Blob, digest)
            assert blob is not None
    return blob


def _dossier(session: Session, code: str) -> Dossier:
    found = session.scalar(select(Dossier).where(Dossier.code == code))
    if found:
        return found
    d = Dossier(code=code)
    try:
        with session.begin_nested():
            session.add(d)
    except IntegrityError:  # opened concurrently
        d = session.scalar(select(Dossier).where(Dossier.code == code))
        assert d is not None
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
            dossier_id=_dossier(session, dossier_code).id if dossier_code else None,
            source=source,
            original_sha256=original.sha256,
            media_type=original.media_type,
            status="queued",
            pages=[],
            text="",
        )
        try:
            with session.begin_nested():
                session.add(comp)
            existing, created = comp, True
        except IntegrityError:  # submitted concurrently: the other one is the component
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


# a re-scan of the same paper: perceptual hashes of page 1 at most this many bits apart
RESCAN_MAX_DISTANCE = 10
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def save_result(
    session: Session,
    comp: Component,
    result: ComponentResult,
    pdf: Blob | None,
    *,
    code_pattern: str = DEFAULT_PATTERN,
    default_agency: str = DEFAULT_AGENCY,
    digitized_by: str | None = None,
    phash: str | None = None,
) -> None:
    """Record a result on its component (replacing any earlier attempt's); once `done`
    (with its PDF) register it: a draft registry record with its *mã kết quả số hóa*, or a
    duplicate of the record that already holds the same bytes or the same paper. A
    `reviewable` result has no PDF yet."""
    comp.status = result.status
    comp.error = result.error
    comp.type = result.type
    comp.type_confidence = result.type_confidence
    comp.page_count = len(result.pages)
    comp.pages = [page_to_dict(p) for p in result.pages]
    comp.text = "\n\f\n".join(p.text for p in result.pages)
    comp.pdf_sha256 = pdf.sha256 if pdf is not None else None
    comp.fields.clear()
    session.flush()
    for name, fv in result.fields.items():
        comp.fields.append(
            FieldRow(name=name, value=fv.value, source=fv.source, confidence=fv.confidence)
        )
    add_owners(comp, result.owners, source="ocr")
    if result.status == "done":
        _register(session, comp, result, code_pattern, default_agency, digitized_by, phash)


def _field(result: ComponentResult, name: str) -> str | None:
    fv = result.fields.get(name)
    return fv.value.strip() or None if fv else None


def _register(
    session: Session,
    comp: Component,
    result: ComponentResult,
    code_pattern: str,
    default_agency: str,
    digitized_by: str | None,
    phash: str | None,
) -> None:
    comp.doc_number = _field(result, "so_ky_hieu")
    issued, until = _field(result, "ngay_cap"), _field(result, "hieu_luc_den")
    comp.issued_on = issued if issued and ISO_DATE.match(issued) else None
    comp.valid_until = until if until and ISO_DATE.match(until) else None
    comp.issuer = _field(result, "co_quan_cap")
    comp.scope = _field(result, "pham_vi_hieu_luc")
    comp.phash = phash or comp.phash
    comp.digitized_by = comp.digitized_by or digitized_by
    index_text(session, comp.id, comp.text)
    _link_old_id(session, result)
    if comp.registry_status is not None:
        return  # re-digitized: the record, its status and its code stay as they are
    original = find_record(session, comp)
    if original is None:
        comp.registry_status = "draft"
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError:  # the same bytes registered concurrently: theirs is the record
            original = find_record(session, comp)
            assert original is not None
    if original is not None:
        comp.registry_status, comp.duplicate_of = "duplicate", original.id
        session.flush()
        return
    comp.result_code = issue_code(
        session,
        code_pattern,
        agency=agency_of(comp.dossier_key, default_agency),
        doc_type=comp.type or "khac",
        when=utcnow(),
    )
    conflict = _same_number_other_paper(session, comp)
    if conflict is not None:
        comp.status_reason = f"same number and type as record {conflict.id}: kept apart"
        log.warning("component %s shares its number with record %s", comp.id, conflict.id)
    session.flush()


def _records(session: Session, comp: Component):  # type: ignore[no-untyped-def]
    return select(Component).where(
        Component.id != comp.id,
        Component.registry_status.is_not(None),
        Component.registry_status != "duplicate",
        Component.duplicate_of.is_(None),
    )


def find_record(session: Session, comp: Component) -> Component | None:
    """The registry record this component repeats: same bytes, or a re-scan of the same
    paper (close page-1 perceptual hash with the same type, number and issuer)."""
    same_bytes = session.scalar(
        _records(session, comp).where(Component.original_sha256 == comp.original_sha256)
    )
    if same_bytes is not None or not (comp.phash and comp.doc_number and comp.type):
        return same_bytes
    candidates = session.scalars(
        _records(session, comp).where(
            Component.type == comp.type,
            Component.doc_number == comp.doc_number,
            Component.phash.is_not(None),
        )
    )
    for other in candidates:
        if (other.issuer or "") == (comp.issuer or "") and (
            distance(other.phash or "", comp.phash) <= RESCAN_MAX_DISTANCE
        ):
            return other
    return None


def _same_number_other_paper(session: Session, comp: Component) -> Component | None:
    if not (comp.doc_number and comp.type):
        return None
    return session.scalar(
        _records(session, comp).where(
            Component.type == comp.type, Component.doc_number == comp.doc_number
        )
    )


def _link_old_id(session: Session, result: ComponentResult) -> None:
    """A document naming both a 12-digit ID and an old 9-digit CMND links the two."""
    new, old = _field(result, "ma_dinh_danh"), _field(result, "so_cmnd")
    if new and old and len(new) == 12 and len(old) == 9 and new.isdigit() and old.isdigit():
        link_owner_ids(session, old, new)


def link_owner_ids(session: Session, old_id: str, new_id: str) -> None:
    exists = session.scalar(
        select(OwnerAlias.id).where(OwnerAlias.old_id == old_id, OwnerAlias.new_id == new_id)
    )
    if exists is None:
        session.add(OwnerAlias(old_id=old_id, new_id=new_id))


def owner_ids_of(session: Session, owner_id: str) -> list[str]:
    """The ID and every ID linked to it (old CMND <-> 12-digit ID)."""
    rows = session.execute(
        select(OwnerAlias.old_id, OwnerAlias.new_id).where(
            (OwnerAlias.old_id == owner_id) | (OwnerAlias.new_id == owner_id)
        )
    ).all()
    return sorted({owner_id, *(i for r in rows for i in r)})


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
        .where(
            Owner.owner_id.in_(owner_ids_of(session, owner_id)),
            Component.status == "done",
            Component.duplicate_of.is_(None),
        )
        .options(selectinload(Component.fields), selectinload(Component.owners))
        .order_by(Component.created_at.desc())
    )
    return list(session.scalars(stmt).unique())


def pending_component_ids(session: Session) -> list[str]:
    """Components a crash or restart left unfinished, oldest first."""
    stmt = (
        select(Component.id)
        .where(Component.status.in_(("queued", "processing", "reviewable")))
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
