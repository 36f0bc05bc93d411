"""The pages of a component: one row per page, committed at every status change.

A page is claimed before it is read (a conditional UPDATE, so two readers never both read
it), finished only by the reader that holds it, and the component is assembled once per
page-set revision: `claim_join` decides atomically which finished page enqueues it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pikepdf
from PIL import Image
from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import Session

from storage.tables import Component, ComponentPage, utcnow

FINISHED = ("done", "failed")
MAX_READS = 3  # a page whose reading died this many times is given up (needs attention)


def page_rows(session: Session, component_id: str) -> list[ComponentPage]:
    """The component's pages, ordered by position."""
    stmt = (
        select(ComponentPage)
        .where(ComponentPage.component_id == component_id)
        .order_by(ComponentPage.position, ComponentPage.id)
    )
    return list(session.scalars(stmt))


def add_rows(
    session: Session, component_id: str, source_sha256: str, frames: int, *, at: int
) -> list[ComponentPage]:
    """Queued rows for `frames` pages of one file, taking positions `at`, `at + 1`, …"""
    rows = [
        ComponentPage(
            component_id=component_id,
            position=at + n,
            source_sha256=source_sha256,
            frame=n,
            status="queued",
        )
        for n in range(frames)
    ]
    session.add_all(rows)
    session.flush()
    return rows


# what a copied row keeps of the page it copies: where it comes from and what reading found
_READ = (
    "source_sha256", "frame", "status", "error", "seconds", "rotation", "skew", "blank",
    "needs_attention", "thumb_before_sha256", "thumb_after_sha256", "parts_sha256",
)  # fmt: skip


def copy_rows(
    session: Session, component_id: str, rows: Sequence[ComponentPage]
) -> list[ComponentPage]:
    """Rows of another component for the same pages, already read: they point at the same
    frames and stored parts, so nothing is read again. Positions 0, 1, 2, …"""
    copies = [
        ComponentPage(
            component_id=component_id,
            position=n,
            reads=0,
            **{name: getattr(row, name) for name in _READ},
        )  # fmt: skip
        for n, row in enumerate(rows)
    ]
    session.add_all(copies)
    session.flush()
    return copies


# TIFF compressions kept as they are when frames are copied (the others are lossy or rare)
_LOSSLESS = {"raw", "tiff_lzw", "tiff_adobe_deflate", "tiff_deflate", "packbits", "group3",
             "group4"}  # fmt: skip


def subset_file(data: bytes, frames: Sequence[int]) -> bytes:
    """A PDF (from a PDF) or multi-page TIFF (from any other multi-frame image) holding
    only these pages (0-based, in this order).

    Deterministic: the same file and pages give the same bytes, so the subset is
    content-addressed like any original. PDF pages are copied as they are (pikepdf, no
    re-encoding); image frames are decoded and written again, losslessly."""
    if data[:4] in (b"II*\x00", b"MM\x00*") or b"%PDF-" not in data[:1024]:
        return _subset_tiff(data, frames)
    with pikepdf.open(io.BytesIO(data)) as src, pikepdf.new() as dst:
        for n in frames:
            dst.pages.append(src.pages[n])
        out = io.BytesIO()
        dst.save(out, deterministic_id=True, min_version=src.pdf_version)
        return out.getvalue()


def _subset_tiff(data: bytes, frames: Sequence[int]) -> bytes:
    with Image.open(io.BytesIO(data)) as im:
        compression = im.info.get("compression", "raw")
        images = []
        for n in frames:
            im.seek(n)
            images.append((im.copy(), im.info.get("dpi")))
    bilevel = all(i.mode == "1" for i, _ in images)
    if compression not in _LOSSLESS or compression.startswith("group") and not bilevel:
        compression = "tiff_adobe_deflate"
    out = io.BytesIO()
    first, dpi = images[0]
    extra = {"dpi": dpi} if dpi else {}
    first.save(out, "TIFF", save_all=True, append_images=[i for i, _ in images[1:]],
               compression=compression, **extra)  # fmt: skip
    return out.getvalue()


def renumber(rows: list[ComponentPage]) -> None:
    """Positions 0, 1, 2, … in the order given."""
    for n, row in enumerate(rows):
        row.position = n


def unfinished_ids(session: Session, component_id: str) -> list[int]:
    """Pages still to read, in position order: failed ones are tried again, except those
    given up after `MAX_READS` readings that never finished (a new scan replaces them)."""
    given_up = (ComponentPage.status == "failed") & (ComponentPage.reads >= MAX_READS)
    stmt = (
        select(ComponentPage.id)
        .where(
            ComponentPage.component_id == component_id,
            ComponentPage.status != "done",
            ~given_up,
        )
        .order_by(ComponentPage.position)
    )
    return list(session.scalars(stmt))


def claim_page(
    session: Session, page_id: int, reader: str, *, stale_before: datetime | None = None
) -> bool:
    """Mark the page `reading` by `reader` unless it is done or someone else reads it.

    A page in `reading` is taken over when it is this reader's (a redelivered task) or
    when its reading started before `stale_before` (its reader died)."""
    mine = ComponentPage.reader == reader
    if stale_before is not None:
        mine = or_(mine, ComponentPage.started_at < stale_before)
    stmt = (
        update(ComponentPage)
        .where(
            ComponentPage.id == page_id,
            or_(
                ComponentPage.status.in_(("queued", "failed")),
                (ComponentPage.status == "reading") & mine,
            ),
        )
        .values(
            status="reading",
            reader=reader,
            started_at=utcnow(),
            error=None,
            reads=ComponentPage.reads + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return session.execute(stmt).rowcount == 1


def finish_page(session: Session, page_id: int, reader: str, **values: Any) -> bool:
    """Record the reading's outcome if `reader` still holds the page (it may have been
    deleted by an edit, or taken over after a time-out)."""
    stmt = (
        update(ComponentPage)
        .where(
            ComponentPage.id == page_id,
            ComponentPage.status == "reading",
            ComponentPage.reader == reader,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return session.execute(stmt).rowcount == 1


def claim_join(session: Session, component_id: str) -> bool:
    """True for exactly one caller once every page of the current run (`attempts`) is
    finished: that caller enqueues the assembly. Atomic on SQLite and PostgreSQL alike
    (the UPDATE locks the component's row; a second one re-checks and finds it claimed)."""
    unfinished = exists().where(
        ComponentPage.component_id == component_id, ComponentPage.status.not_in(FINISHED)
    )
    stmt = (
        update(Component)
        .where(
            Component.id == component_id,
            Component.status == "processing",
            Component.joined_attempt != Component.attempts,
            ~unfinished,
        )
        .values(joined_attempt=Component.attempts)
        .execution_options(synchronize_session=False)
    )
    return session.execute(stmt).rowcount == 1


def give_up_stale_pages(session: Session, started_before: datetime) -> int:
    """Pages whose reading started before the cut-off and died `MAX_READS` times: failed."""
    stmt = (
        update(ComponentPage)
        .where(
            ComponentPage.status == "reading",
            ComponentPage.started_at < started_before,
            ComponentPage.reads >= MAX_READS,
        )
        .values(
            status="failed",
            needs_attention=True,
            error=f"reading did not finish in {MAX_READS} attempts",
        )
        .execution_options(synchronize_session=False)
    )
    return session.execute(stmt).rowcount


def stale_component_ids(session: Session, idle: timedelta) -> list[str]:
    """Unfinished components (queued, processing, reviewable) on which nothing has moved
    for `idle`: their messages were lost, or their last task died and did not come back."""
    cutoff = utcnow() - idle
    recent_page = exists().where(
        ComponentPage.component_id == Component.id, ComponentPage.updated_at >= cutoff
    )
    stmt = (
        select(Component.id)
        .where(
            Component.status.in_(("queued", "processing", "reviewable")),
            Component.updated_at < cutoff,
            ~recent_page,
        )
        .order_by(Component.created_at)
    )
    return list(session.scalars(stmt))
