"""The one pipeline: every entry point (CLI, in-process worker, Celery) calls these steps.

`submit` stores the original bytes first (content-addressed) and registers a queued
component, so that a crash afterwards loses nothing. A component is then digitized in
three small steps, each safe to re-run: `prepare` gives it one row per page, `read_one`
reads one page and keeps what it found (page result, text layer, encoded image,
thumbnails), `assemble` classifies the pages, builds the archival PDF/A from the stored
parts and registers the result. `digitize` runs all three in this process; Celery runs
them as separate tasks (api/tasks.py), one per page. Editing a component's pages
(`edit_pages`, `add_pages`) reads only the new pages again.

A scanner batch (one file holding several documents, separated by blank sheets, separator
codes or a sure change of type) is split when it is assembled: it becomes the parent
(status `split`, no registry record) of one child component per document, each with its
own original (the batch's pages re-packed) and page rows reusing what was read; the same
call assembles the children (`_split`).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.exc import InterfaceError
from sqlalchemy.exc import OperationalError as DBOperationalError
from sqlalchemy.orm import Session, sessionmaker

from api.frames import pack_parts, thumbnails, unpack_parts
from api.settings import Settings
from classify import classify_component, needs_review
from classify.split import split_components
from models.document import (
    Classification,
    ComponentResult,
    FieldValue,
    PageResult,
    page_from_dict,
    page_to_dict,
)
from models.errors import BadInput
from ocr.loader import MEDIA_TYPES, check, frame_count, load_frame
from ocr.page import PageOptions, read_page
from ocr.pdf import PdfPage, build_searchable_pdf
from ocr.pdfa import DigitizationRecord
from ocr.signing import SignerConfig, sign_pdf, word_boxes
from storage.blobs import BlobStore, open_store
from storage.db import make_engine, migrate, session_factory
from storage.pages import (
    FINISHED,
    add_rows,
    claim_page,
    copy_rows,
    finish_page,
    page_rows,
    renumber,
    subset_file,
    unfinished_ids,
)
from storage.phash import dhash
from storage.registry import (
    find_or_create_component,
    get_component,
    mark_failed,
    put_blob,
    save_result,
    to_result,
)
from storage.s3 import TransientStorageError
from storage.tables import Blob, Component, ComponentPage, utcnow

log = logging.getLogger(__name__)

# Fields that name the owner of a document and so key it in the registry.
OWNER_FIELDS = ("ma_dinh_danh", "so_cmnd", "ma_so_doanh_nghiep")
# Faults that pass: the object store or the database briefly unreachable. A step hit by
# one leaves its work unfinished (not failed) for a retry.
TRANSIENT = (
    TransientStorageError,
    DBOperationalError,
    InterfaceError,
    ConnectionError,
    TimeoutError,
)


@dataclass
class Context:
    """What the pipeline needs, built once per process from the settings."""

    settings: Settings
    store: BlobStore
    sessions: sessionmaker[Session]
    _source: tuple[str, bytes] | None = field(default=None, repr=False)
    _source_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @cached_property
    def page_pool(self) -> ThreadPoolExecutor:
        """The threads pages are read in, shared by every component of this process, so
        that components digitized at once never read more pages at once than
        `settings.page_workers`."""
        return ThreadPoolExecutor(self.settings.page_workers, thread_name_prefix="page")

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

    def source_bytes(self, key: str) -> bytes:
        """A stored file the pages are read from; the last one is kept, since the pages of
        a component are mostly read one after another from the same file."""
        with self._source_lock:
            if self._source is not None and self._source[0] == key:
                return self._source[1]
            data = self.store.get(key)
            self._source = (key, data)
            return data


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


@dataclass
class Plan:
    """What `prepare` left to do: the pages to read (maybe none: assemble only), or the
    component's result when there is nothing to do (finished, or refused at submission)."""

    pending: list[int]
    result: ComponentResult | None = None


def digitize(
    ctx: Context,
    component_id: str,
    *,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
) -> ComponentResult:
    """Digitize one component in this process: page rows if none, every page not done
    read (in parallel, `settings.page_workers`), then classified, its archival PDF/A copy
    built (signed when a key is configured) and the result registered. A finished
    component is returned as is unless `force` (which reads every page again)."""
    plan = prepare(ctx, component_id, force=force)
    if plan.result is not None:
        return plan.result
    read_pages_of(ctx, component_id, plan.pending, progress)
    return assemble(ctx, component_id)


def prepare(ctx: Context, component_id: str, *, force: bool = False) -> Plan:
    """Start a run: create the page rows from the original if there are none (counting its
    pages without decoding them), mark the component `processing`, list pages to read."""
    with ctx.sessions.begin() as session:
        comp = _component(session, component_id)
        if comp.status == "failed" and comp.media_type == "application/octet-stream":
            return Plan([], result_of(comp, ""))  # refused at submission: nothing to read
        if comp.status == SPLIT:
            return Plan([], result_of(comp, ""))  # its children are digitized, not it
        if comp.status == "done" and not force:
            return Plan([], result_of(comp, ctx.pdf_location(comp)))
        try:
            rows = _ensure_rows(ctx, session, comp)
        except BadInput as exc:
            mark_failed(comp, str(exc))
            return Plan([], result_of(comp, ""))
        if force:
            for row in rows:
                row.status, row.reader = "queued", None
            comp.pages_revision += 1
        comp.status, comp.error = "processing", None
        comp.attempts += 1
        session.flush()
        return Plan(unfinished_ids(session, component_id))


def _ensure_rows(ctx: Context, session: Session, comp: Component) -> list[ComponentPage]:
    """The component's page rows, created from its original when it has none yet."""
    rows = page_rows(session, comp.id)
    if rows:
        return rows
    count = frame_count(ctx.source_bytes(comp.original.key))
    return add_rows(session, comp.id, comp.original_sha256, count, at=0)


def read_pages_of(
    ctx: Context,
    component_id: str,
    page_ids: list[int],
    progress: Callable[[str], None] | None = None,
) -> None:
    """Read these pages of one component in threads (Tesseract runs as its own process;
    OpenCV and numpy release the GIL). Pages being read by a dead run are taken over."""
    say = progress or (lambda _msg: None)
    reader = f"run-{uuid.uuid4().hex[:12]}"
    since = utcnow()
    futures = [
        ctx.page_pool.submit(read_one, ctx, component_id, pid, reader=reader, stale_before=since)
        for pid in page_ids
    ]
    for n, fut in enumerate(futures, start=1):
        fut.result()
        say(f"page {n}/{len(futures)} read")


def read_one(
    ctx: Context,
    component_id: str,
    page_id: int,
    *,
    reader: str | None = None,
    stale_before: datetime | None = None,
) -> bool:
    """Read one page and keep its parts; False when there was nothing to do (the page is
    done, or being read by someone else). Each status change is committed at once."""
    reader = reader or f"call-{uuid.uuid4().hex[:12]}"
    with ctx.sessions.begin() as session:
        if not claim_page(session, page_id, reader, stale_before=stale_before):
            return False
        row = session.get(ComponentPage, page_id)
        assert row is not None
        key, frame = row.source.key, row.frame
    started = time.perf_counter()
    try:
        page = load_frame(ctx.source_bytes(key), frame)
        opts = PageOptions(lang=ctx.settings.lang, timeout=ctx.settings.page_timeout,
                           beside=ctx.settings.page_beside)  # fmt: skip
        result, pdf_page = read_page(page, frame, opts)
        thumbs = thumbnails(page.image, result.rotation, result.skew)
        del page
    except TRANSIENT:
        raise  # the page stays this reader's: a retry takes it over
    except BadInput as exc:
        _page_failed(ctx, page_id, reader, str(exc))
        return True
    except Exception as exc:  # noqa: BLE001 - a page's failure is recorded on the page
        log.exception("component %s: page %d failed", component_id, page_id)
        _page_failed(ctx, page_id, reader, f"{type(exc).__name__}: {exc}")
        return True
    seconds = time.perf_counter() - started
    with ctx.sessions.begin() as session:
        parts = _store_parts(ctx, session, result, pdf_page, thumbs)
        attention = result.timed_out or any(w.startswith("OCR failed") for w in result.warnings)
        finish_page(session, page_id, reader, status="done", seconds=round(seconds, 3),
                    rotation=result.rotation, skew=result.skew, blank=result.blank,
                    needs_attention=attention, **parts)  # fmt: skip
    return True


def _store_parts(
    ctx: Context,
    session: Session,
    result: PageResult,
    pdf_page: PdfPage,
    thumbs: tuple[bytes, bytes],
) -> dict[str, str]:
    """Blob references of what a read page is kept as: three objects per page."""
    parts = pack_parts(page_to_dict(result), pdf_page.text_pdf, pdf_page.image)
    put = lambda kind, data, media: put_blob(session, ctx.store, kind, data, media).sha256  # noqa: E731
    return {
        "parts_sha256": put("pages", parts, "application/octet-stream"),
        "thumb_before_sha256": put("thumbs", thumbs[0], "image/jpeg"),
        "thumb_after_sha256": put("thumbs", thumbs[1], "image/jpeg"),
    }


def _page_failed(ctx: Context, page_id: int, reader: str, error: str) -> None:
    with ctx.sessions.begin() as session:
        finish_page(session, page_id, reader, status="failed", error=error, needs_attention=True)


@dataclass
class _Assembly:
    """What assemble reads from the database before the slow part."""

    revision: int
    source: str
    clerk: str
    record: DigitizationRecord
    parts: list[tuple[int, str]]  # position, key of the page's parts
    batch: str | None = None  # key of the original when its pages may be split


ASSEMBLING = ("processing", "reviewable")
SPLIT = "split"  # a batch cut into child components; it has no result of its own


def assemble(ctx: Context, component_id: str) -> ComponentResult:
    """Classify the read pages (in position order) and save the type, fields and pages at
    once (status `reviewable`: a clerk can check them), then build the archival PDF/A from
    the stored parts and register the result (`done`). An earlier result is replaced, but
    fields a clerk corrected are kept. A no-op for a finished component, or one with pages
    still to read; a component with a failed page fails. Run twice at once, one result is
    kept."""
    with ctx.sessions.begin() as session:
        comp = _component(session, component_id)
        if comp.status == SPLIT:
            return _assemble_children(ctx, component_id)  # a redelivered batch's assembly
        if comp.status not in ASSEMBLING:
            return result_of(comp, ctx.pdf_location(comp))
        plan = _assembly(session, comp)
        if isinstance(plan, ComponentResult):
            return plan
    started = time.perf_counter()
    try:
        pages, read = _load_parts(ctx, plan.parts)
        groups = _groups(pages) if plan.batch and ctx.settings.split_batches else []
        if len(groups) > 1:
            assert plan.batch is not None
            return _split(ctx, component_id, plan.revision, plan.batch, groups)
        verdict = classify_component(pages, codes=[c for p in pages for c in p.codes])
        result = ComponentResult(
            id=component_id,
            source=plan.source,
            type=verdict.type,
            type_confidence=verdict.confidence,
            pages=pages,
            fields=verdict.fields,
            pdf="",
            status="reviewable",
            owners=[verdict.fields[f].value for f in OWNER_FIELDS if f in verdict.fields],
        )
        if not _save(ctx, result, plan.revision, ASSEMBLING, None):
            return _current(ctx, component_id)  # assembled meanwhile, or its pages edited
        reviewable = time.perf_counter()
        verdict.fields = result.fields  # with the clerk's corrections
        pdf_bytes = archival_copy(ctx.settings, read, verdict, plan.record, plan.clerk)
        built = time.perf_counter()
    except TRANSIENT:
        raise
    except BadInput as exc:
        return _fail(ctx, component_id, str(exc), plan.revision)
    except Exception as exc:
        log.exception("component %s failed", component_id)
        _fail(ctx, component_id, f"internal error: {type(exc).__name__}: {exc}", plan.revision)
        raise
    result.status = "done"
    phash = dhash(read[0][1].image.preview) if read else None
    _save(ctx, result, plan.revision, ("reviewable",), pdf_bytes, phash)
    log.info(
        "component %s: %d page(s), type %s (%.2f); reviewable in %.2f s, archival copy "
        "%.2f s, registered %.2f s",
        component_id, len(pages), result.type, result.type_confidence,
        reviewable - started, built - reviewable, time.perf_counter() - built,
    )  # fmt: skip
    return _current(ctx, component_id)


def _save(
    ctx: Context,
    result: ComponentResult,
    revision: int,
    statuses: tuple[str, ...],
    pdf_bytes: bytes | None,
    phash: str | None = None,
) -> bool:
    """Write the result if the component is still this assembly's to write (in `statuses`,
    same page revision); fields a clerk corrected meanwhile win, and so does a type a
    clerk chose while the component was reviewable."""
    with ctx.sessions.begin() as session:
        if not _hold(session, result.id, revision, statuses):
            return False
        comp = get_component(session, result.id)
        assert comp is not None
        if comp.status == "reviewable" and comp.type != result.type and comp.type:
            result.type, result.type_confidence = comp.type, comp.type_confidence or 0.0
        clerk = {f.name: FieldValue(f.value, f.source, f.confidence) for f in comp.fields}
        result.fields = {
            **result.fields,
            **{k: v for k, v in clerk.items() if v.source == "clerk"},
        }
        pdf = None
        if pdf_bytes is not None:
            pdf = put_blob(session, ctx.store, "pdf", pdf_bytes, "application/pdf")
        save_result(
            session,
            comp,
            result,
            pdf,
            code_pattern=ctx.settings.result_code_pattern,
            default_agency=ctx.settings.agency_code,
            phash=phash,
        )
        return True


def _current(ctx: Context, component_id: str) -> ComponentResult:
    with ctx.sessions() as session:
        comp = get_component(session, component_id)
        assert comp is not None
        return result_of(comp, ctx.pdf_location(comp))


def _assembly(session: Session, comp: Component) -> _Assembly | ComponentResult:
    """The inputs of an assembly, or the result when there is nothing to assemble."""
    rows = page_rows(session, comp.id)
    if not rows or any(r.status not in FINISHED for r in rows):
        return result_of(comp, "")  # pages still to read: their join assembles it later
    failed = [r for r in rows if r.status == "failed"]
    if failed:
        first = failed[0]
        mark_failed(comp, f"page {first.position + 1}: {first.error or 'could not be read'}")
        return result_of(comp, "")
    clerk = comp.digitized_by or ""
    whole = [(r.source_sha256, r.frame) for r in rows] == [
        (comp.original_sha256, n) for n in range(len(rows))
    ]  # the file as uploaded, pages neither edited nor added: a batch to split, maybe
    batch = comp.status == "processing" and comp.parent_id is None and len(rows) > 1
    return _Assembly(
        revision=comp.pages_revision,
        source=comp.source,
        clerk=clerk,
        record=DigitizationRecord(
            digitizer=clerk, source_sha256=comp.original_sha256, dossier_code=comp.dossier_key
        ),
        parts=[(r.position, _key(session, r.parts_sha256)) for r in rows],
        batch=comp.original.key if whole and batch and comp.registry_status is None else None,
    )


def _groups(pages: list[PageResult]) -> list[list[int]]:
    """The documents of a batch as groups of page positions (`classify.split`)."""
    return split_components(pages, [p.codes for p in pages])


def _split(
    ctx: Context, component_id: str, revision: int, original_key: str, groups: list[list[int]]
) -> ComponentResult:
    """Cut a batch into one child component per group of pages, then assemble them.

    Each child's original is its pages re-packed from the batch's file (content-addressed:
    the same batch gives the same children), its page rows point at the batch's frames and
    reuse their stored parts (nothing is read again). Children are created in the
    transaction that marks the batch `split`, under the batch's row lock: of two assemblies
    at once only one creates them, and the other just assembles what is left."""
    started = time.perf_counter()
    data = ctx.source_bytes(original_key)
    subsets = [subset_file(data, group) for group in groups]
    with ctx.sessions.begin() as session:
        if _hold(session, component_id, revision, ("processing",)):
            batch = _component(session, component_id)
            rows = page_rows(session, component_id)
            for group, subset in zip(groups, subsets, strict=True):
                _child(ctx, session, batch, [rows[n] for n in group], subset)
            batch.status, batch.error, batch.page_count = SPLIT, None, len(rows)
            log.info("component %s: split into %d components in %.2f s", component_id,
                     len(groups), time.perf_counter() - started)  # fmt: skip
    return _assemble_children(ctx, component_id)


def _child(
    ctx: Context, session: Session, batch: Component, rows: list[ComponentPage], data: bytes
) -> Component:
    """The child component of `batch` for these (read) pages, whose original is `data`."""
    first, last = rows[0].frame + 1, rows[-1].frame + 1
    blob = put_blob(session, ctx.store, "originals", data, batch.media_type)
    child, created = find_or_create_component(
        session,
        original=blob,
        source=f"{batch.source}#pages={first}-{last}",
        dossier_code=batch.dossier_key or None,
        owners=[o.owner_id for o in batch.owners if o.source == "clerk"],
    )
    if created:  # else: the same pages were cut out before (a retried split): left as is
        child.parent_id, child.first_page, child.last_page = batch.id, first, last
        child.digitized_by = batch.digitized_by
        child.status, child.attempts = "processing", 1
        copy_rows(session, child.id, rows)
    return child


def child_ids(session: Session, parent_id: str) -> list[str]:
    """The components cut out of a batch, in page order."""
    stmt = (
        select(Component.id)
        .where(Component.parent_id == parent_id)
        .order_by(Component.first_page, Component.id)
    )
    return list(session.scalars(stmt))


def _assemble_children(ctx: Context, parent_id: str) -> ComponentResult:
    """Assemble the batch's children not yet assembled (a no-op for finished ones); the
    batch's own result (status `split`)."""
    with ctx.sessions() as session:
        ids = child_ids(session, parent_id)
    for cid in ids:
        assemble(ctx, cid)
    return _current(ctx, parent_id)


def results_of(ctx: Context, component_id: str) -> list[tuple[ComponentResult, Component]]:
    """What a submitted file gave: its own result, or its children's when it was split
    (each with its component row, for the batch it came from and its page range)."""
    with ctx.sessions() as session:
        comp = _component(session, component_id)
        ids = child_ids(session, component_id) if comp.status == SPLIT else [component_id]
        comps = [_component(session, cid) for cid in ids] or [comp]
        return [(result_of(c, ctx.pdf_location(c)), c) for c in comps]


def _key(session: Session, sha: str | None) -> str:
    blob = session.get(Blob, sha) if sha else None
    return blob.key if blob else ""


def _load_parts(
    ctx: Context, parts: list[tuple[int, str]]
) -> tuple[list[PageResult], list[tuple[PageResult, PdfPage]]]:
    """The stored page results and PDF pages, renumbered by position."""
    read = []
    for position, key in parts:
        page_dict, text_pdf, image = unpack_parts(ctx.store.get(key))
        page = page_from_dict(page_dict)
        page.index = position
        read.append((page, PdfPage(image, text_pdf)))
    return [p for p, _ in read], read


def _hold(
    session: Session, component_id: str, revision: int, statuses: tuple[str, ...] = ASSEMBLING
) -> bool:
    """Take the component's row for a write if it is still this assembly's (in `statuses`,
    same pages): the first statement writes, so SQLite takes its write lock and PostgreSQL
    its row lock before anything is decided."""
    stmt = (
        update(Component)
        .where(
            Component.id == component_id,
            Component.status.in_(statuses),
            Component.pages_revision == revision,
        )
        .values(pages_revision=revision)
        .execution_options(synchronize_session=False)
    )
    return session.execute(stmt).rowcount == 1


def edit_pages(ctx: Context, component_id: str, page_ids: list[int]) -> None:
    """The component's pages become exactly `page_ids`, in that order (rows not listed are
    deleted); it goes back to `queued` to be re-assembled without reading any page again."""
    if not page_ids:
        raise BadInput("a component needs at least one page")
    if len(set(page_ids)) != len(page_ids):
        raise BadInput("a page is listed twice")
    with ctx.sessions.begin() as session:
        comp = _unsplit(session, component_id)
        rows = {r.id: r for r in page_rows(session, component_id)}
        unknown = [i for i in page_ids if i not in rows]
        if unknown:
            raise BadInput(f"not pages of this component: {unknown}")
        for pid, row in rows.items():
            if pid not in page_ids:
                session.delete(row)
        renumber([rows[i] for i in page_ids])
        _requeue(comp)


def add_pages(
    ctx: Context, component_id: str, data: bytes, *, replace: int | None = None
) -> list[int]:
    """Add the pages of a file to the component, at its end or in place of page `replace`
    (a page scanned again); returns the new page ids. The component goes back to `queued`:
    digitizing it then reads only the new pages and re-assembles it."""
    kind = check(data)
    with ctx.sessions.begin() as session:
        comp = _unsplit(session, component_id)
        rows = _ensure_rows(ctx, session, comp)
        at = len(rows)
        if replace is not None:
            old = next((r for r in rows if r.id == replace), None)
            if old is None:
                raise BadInput(f"page {replace} is not a page of this component")
            at = rows.index(old)
            rows.remove(old)
            session.delete(old)
        blob = put_blob(session, ctx.store, "originals", data, MEDIA_TYPES[kind])
        new = add_rows(session, component_id, blob.sha256, frame_count(data), at=at)
        renumber([*rows[:at], *new, *rows[at:]])
        _requeue(comp)
        session.flush()
        return [r.id for r in new]


def _component(session: Session, component_id: str) -> Component:
    """The component, or KeyError."""
    comp = get_component(session, component_id)
    if comp is None:
        raise KeyError(component_id)
    return comp


def _unsplit(session: Session, component_id: str) -> Component:
    """The component, unless it is a split batch (whose pages live in its children)."""
    comp = _component(session, component_id)
    if comp.status == SPLIT:
        raise BadInput("this scan was split into components: edit their pages instead")
    return comp


def _requeue(comp: Component) -> None:
    """The page set changed: a new revision, to be dispatched again by the caller."""
    comp.pages_revision += 1
    comp.status, comp.error = "queued", None


def page_thumbnail(ctx: Context, page_id: int, which: Literal["before", "after"]) -> bytes | None:
    """A page's thumbnail (JPEG) as scanned or as turned upright; None until it is read."""
    with ctx.sessions() as session:
        row = session.get(ComponentPage, page_id)
        if row is None:
            return None
        sha = row.thumb_before_sha256 if which == "before" else row.thumb_after_sha256
        key = _key(session, sha)
    return ctx.store.get(key) if key else None


def warm_up() -> None:
    """Load the classifier once, before the first component needs it (seconds saved on
    the first result a clerk waits for)."""
    page = PageResult(index=0, rotation=0, skew=0.0, text="QUYẾT ĐỊNH Về việc cấp giấy phép")
    try:
        classify_component([page])
    except Exception:  # noqa: BLE001 - a warm-up never stops a worker from starting
        log.warning("classifier warm-up failed", exc_info=True)


def result_of(comp: Component, pdf_location: str) -> ComponentResult:
    """A component's public result, flagged for review when its type is uncertain."""
    result = to_result(comp, pdf_location)
    result.needs_review = component_needs_review(comp)
    return result


def component_needs_review(comp: Component) -> bool:
    """True once the component's type is known (reviewable or done) and uncertain."""
    verdict = Classification(comp.type or "", comp.type_confidence or 0.0)
    return comp.status in ("reviewable", "done") and needs_review(verdict)


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


def _fail(ctx: Context, component_id: str, error: str, revision: int) -> ComponentResult:
    """Mark the component failed, unless another run finished it or its pages changed."""
    with ctx.sessions.begin() as session:
        held = _hold(session, component_id, revision)
        comp = get_component(session, component_id)
        assert comp is not None
        if held:
            mark_failed(comp, error)
        return result_of(comp, "")
