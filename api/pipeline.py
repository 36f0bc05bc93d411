"""The one pipeline: every entry point (CLI, in-process worker, later Celery) calls `digitize`.

`submit` stores the original bytes first (content-addressed) and registers a queued
component, so that a crash afterwards loses nothing; `digitize` turns a queued component
into a registered, searchable, classified result and may be re-run safely (idempotent).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from api.settings import Settings
from classify import classify_component, needs_review
from models.document import Classification, ComponentResult, PageResult
from models.errors import BadInput
from ocr.loader import MEDIA_TYPES, check, load_pages
from ocr.page import PageOptions, read_pages
from ocr.pdf import PdfPage, build_searchable_pdf
from ocr.pdfa import DigitizationRecord
from ocr.signing import SignerConfig, sign_pdf, word_boxes
from storage.blobs import BlobStore, open_store
from storage.db import make_engine, migrate, session_factory
from storage.phash import dhash
from storage.registry import (
    find_or_create_component,
    get_component,
    mark_failed,
    put_blob,
    save_result,
    to_result,
)
from storage.tables import Component

log = logging.getLogger(__name__)

# Fields that name the owner of a document and so key it in the registry.
OWNER_FIELDS = ("ma_dinh_danh", "so_cmnd", "ma_so_doanh_nghiep")


@dataclass
class Context:
    """What the pipeline needs, built once per process from the settings."""

    settings: Settings
    store: BlobStore
    sessions: sessionmaker[Session]

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Context:
        settings = settings or Settings()
        engine = make_engine(settings.db_url)
        migrate(engine)
        return cls(settings, open_store(settings.objects_url), session_factory(engine))

    def pdf_location(self, comp: Component) -> str:
        if comp.pdf is None:
            return ""
        path = self.store.local_path(comp.pdf.key)
        return str(path) if path else comp.pdf.key


@dataclass
class Submission:
    component_id: str
    created: bool
    error: str | None = None


def submit(
    ctx: Context,
    data: bytes,
    source: str,
    *,
    owners: list[str] | None = None,
    dossier_code: str | None = None,
    actor: str | None = None,
) -> Submission:
    """Keep the original, register a queued component, and refuse bad input at once.

    The original is stored even when it is refused, so nothing handed in is ever lost.
    """
    with ctx.sessions.begin() as session:
        try:
            kind = check(data)
            error = None
        except BadInput as exc:
            kind, error = "", str(exc)
        media_type = MEDIA_TYPES.get(kind, "application/octet-stream")
        blob = put_blob(session, ctx.store, "originals", data, media_type)
        comp, created = find_or_create_component(
            session, original=blob, source=source, dossier_code=dossier_code, owners=owners or []
        )
        comp.digitized_by = comp.digitized_by or actor  # API key id, "cli" or the watcher
        if error:
            mark_failed(comp, error)
        return Submission(comp.id, created, error)


def digitize(
    ctx: Context,
    component_id: str,
    *,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
) -> ComponentResult:
    """Digitize one component: read every page, classify and extract fields, build the
    archival PDF/A copy (signed when a key is configured) and register the result. A
    finished component is returned as is unless `force`; a refused one returns its error."""
    say = progress or (lambda _msg: None)
    with ctx.sessions.begin() as session:
        comp = get_component(session, component_id)
        if comp is None:
            raise KeyError(component_id)
        if comp.status == "failed" and comp.media_type == "application/octet-stream":
            return result_of(comp, "")  # refused at submission: nothing to read
        if comp.status == "done" and not force:
            return result_of(comp, ctx.pdf_location(comp))
        comp.status, comp.error = "processing", None
        comp.attempts += 1
        data = ctx.store.get(comp.original.key)
        source = comp.source
        clerk = comp.digitized_by or ""
        record = DigitizationRecord(
            digitizer=clerk, source_sha256=comp.original_sha256, dossier_code=comp.dossier_key
        )
    started = time.perf_counter()
    try:
        opts = PageOptions(lang=ctx.settings.lang, timeout=ctx.settings.page_timeout)
        read = read_pages(load_pages(data), opts, ctx.settings.page_workers)
        say(f"{len(read)} page(s) read")
        pages = [r for r, _ in read]
        verdict = classify_component(pages, codes=[c for p in pages for c in p.codes])
        pdf_bytes = archival_copy(ctx.settings, read, verdict, record, clerk)
    except BadInput as exc:
        return _fail(ctx, component_id, str(exc))
    except Exception as exc:
        log.exception("component %s failed", component_id)
        _fail(ctx, component_id, f"internal error: {type(exc).__name__}: {exc}")
        raise
    with ctx.sessions.begin() as session:
        comp = get_component(session, component_id)
        assert comp is not None
        pdf = put_blob(session, ctx.store, "pdf", pdf_bytes, "application/pdf")
        result = ComponentResult(
            id=comp.id,
            source=source,
            type=verdict.type,
            type_confidence=verdict.confidence,
            pages=pages,
            fields=verdict.fields,
            pdf="",
            owners=[verdict.fields[f].value for f in OWNER_FIELDS if f in verdict.fields],
        )
        save_result(
            session,
            comp,
            result,
            pdf,
            code_pattern=ctx.settings.result_code_pattern,
            default_agency=ctx.settings.agency_code,
            phash=dhash(read[0][1].image.preview) if read else None,
        )
        session.flush()
        log.info(
            "component %s: %d page(s), type %s (%.2f) in %.1f s",
            comp.id, len(pages), verdict.type, verdict.confidence, time.perf_counter() - started,
        )  # fmt: skip
        return result_of(comp, ctx.pdf_location(comp))


def result_of(comp: Component, pdf_location: str) -> ComponentResult:
    """A component's public result, flagged for review when its type is uncertain."""
    result = to_result(comp, pdf_location)
    verdict = Classification(result.type, result.type_confidence)
    result.needs_review = comp.status == "done" and needs_review(verdict)
    return result


def archival_copy(
    settings: Settings,
    read: list[tuple[PageResult, PdfPage]],
    verdict: Classification,
    record: DigitizationRecord,
    clerk: str,
) -> bytes:
    """The component's PDF/A-2b copy with its digitization record, signed by the clerk's
    key when one is configured (`SOHOA_SIGNERS[clerk]`, else `SOHOA_SIGN_*`)."""
    signer = signer_config(settings, clerk)
    fields = {k: v.value for k, v in verdict.fields.items()}
    record.type = verdict.type
    record.title = fields.get("ten_giay_to", "")
    record.number = fields.get("so_ky_hieu", "")
    record.date = fields.get("ngay_cap", "")
    record.issuer = fields.get("co_quan_cap", "")
    record.digitizer = signer.name or record.digitizer or "sohoa"
    if settings.pdf_owner_ids:
        record.owner_ids = [fields[f] for f in OWNER_FIELDS if f in fields]
    pdf = build_searchable_pdf([p for _, p in read], record)
    if not signer.configured:
        return pdf
    first = read[0][0]
    height_pt = first.height * 72 / first.dpi
    return sign_pdf(pdf, signer, avoid=word_boxes(first.words, first.dpi, height_pt))


def signer_config(settings: Settings, clerk: str) -> SignerConfig:
    """The clerk's own signing key if configured, else the default one (maybe none)."""
    own = settings.signers.get(clerk)
    if own is None:
        own = {
            "name": settings.signer_name,
            "pkcs12": settings.sign_pkcs12,
            "password": settings.sign_pkcs12_password,
            "pkcs11_lib": settings.sign_pkcs11_lib,
            "pkcs11_token": settings.sign_pkcs11_token,
            "pkcs11_key": settings.sign_pkcs11_key,
            "pkcs11_pin": settings.sign_pkcs11_pin,
        }
    return SignerConfig(
        name=own.get("name") or "",
        pkcs12=Path(own["pkcs12"]) if own.get("pkcs12") else None,
        pkcs12_password=own.get("password"),
        pkcs11_lib=own.get("pkcs11_lib"),
        pkcs11_token=own.get("pkcs11_token"),
        pkcs11_key=own.get("pkcs11_key"),
        pkcs11_pin=own.get("pkcs11_pin"),
    )


def _fail(ctx: Context, component_id: str, error: str) -> ComponentResult:
    with ctx.sessions.begin() as session:
        comp = get_component(session, component_id)
        assert comp is not None
        mark_failed(comp, error)
        return result_of(comp, "")
