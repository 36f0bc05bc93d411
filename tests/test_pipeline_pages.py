"""A component's pages: rows that progress, read one by one, edited without reading again,
joined and assembled exactly once, on SQLite and PostgreSQL alike.

Most tests replace Tesseract's reading by a fast stand-in that names each page by its
frame's width (frames are made 200 + 10·n pixels wide), so that the bookkeeping is tested
quickly; `test_multi_page_tiff_is_read_page_by_page` reads real pages.
"""

from __future__ import annotations

import io
import threading
from datetime import timedelta
from pathlib import Path

import pikepdf
import pytest
from PIL import Image
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

import api.pipeline as pipeline
from api.frames import pack_parts, unpack_parts
from api.pipeline import (
    Context,
    add_pages,
    assemble,
    digitize,
    edit_pages,
    page_thumbnail,
    prepare,
    read_one,
    submit,
)
from api.settings import Settings
from models.document import Code, PageResult, Word, page_to_dict
from models.errors import BadInput
from ocr.loader import frame_count, load_frame
from ocr.pdf import PdfPage, encode_page_image
from storage.blobs import FileBlobStore
from storage.pages import MAX_READS, claim_join, claim_page, page_rows, unfinished_ids
from storage.registry import get_component
from storage.reuse import confirm_fields
from storage.tables import Component, ComponentPage, utcnow
from tests.test_distributed import page_bytes


def frames(*numbers: int) -> bytes:
    """A TIFF whose frame for page number n is 200 + 10·n pixels wide."""
    imgs = [Image.new("L", (200 + 10 * n, 300), 255) for n in numbers]
    for img, n in zip(imgs, numbers, strict=True):
        img.paste(0, (20, 20 + n, 120, 40 + n))  # some ink, so that no page is blank
    buf = io.BytesIO()
    imgs[0].save(buf, "TIFF", save_all=True, append_images=imgs[1:], dpi=(150, 150))
    return buf.getvalue()


def number_of(width: int) -> int:
    return (width - 200) // 10


class FakeReader:
    """Stands in for `ocr.page.read_page`: counts readings, page 1 is "turned" 90°."""

    def __init__(self) -> None:
        self.read: list[int] = []
        self.lock = threading.Lock()
        self.gate: threading.Event | None = None

    def __call__(self, page, index, opts, times=None):  # type: ignore[no-untyped-def]
        n = number_of(page.image.width)
        with self.lock:
            self.read.append(n)
        if self.gate is not None:
            self.gate.wait(10)
        result = PageResult(
            index=index,
            rotation=90 if n == 1 else 0,
            skew=0.0,
            text=f"QUYẾT ĐỊNH Số: {n}/QĐ-UBND trang {n}",
            width=page.image.width,
            height=page.image.height,
            dpi=page.dpi,
        )
        return result, PdfPage(encode_page_image(page.image, page.dpi), None)


def make_ctx(sessions: sessionmaker[Session], tmp_path: Path, **settings: object) -> Context:
    """A pipeline context on these sessions (SQLite or PostgreSQL) and files in `tmp_path`."""
    config = Settings(data_dir=tmp_path / "var", page_workers=2, **settings)  # type: ignore[arg-type]
    return Context(config, FileBlobStore(tmp_path / "objects"), sessions)


@pytest.fixture
def ctx(sessions: sessionmaker[Session], tmp_path: Path) -> Context:
    return make_ctx(sessions, tmp_path)


@pytest.fixture
def reader(monkeypatch: pytest.MonkeyPatch) -> FakeReader:
    fake = FakeReader()
    monkeypatch.setattr(pipeline, "read_page", fake)
    return fake


def read_but_not_assembled(ctx: Context, data: bytes) -> str:
    cid = submit(ctx, data, "scan.tiff").component_id
    for page in prepare(ctx, cid).pending:
        read_one(ctx, cid, page)
    return cid


def rows_of(ctx: Context, cid: str) -> list[ComponentPage]:
    with ctx.sessions() as session:
        return page_rows(session, cid)


def texts(ctx: Context, cid: str) -> list[str]:
    with ctx.sessions() as session:
        comp = get_component(session, cid)
        assert comp is not None
        return [p["text"].split()[-1] for p in comp.pages]


def component(ctx: Context, cid: str) -> Component:
    with ctx.sessions() as session:
        comp = get_component(session, cid)
        assert comp is not None
        return comp


def pdf_pages(ctx: Context, cid: str) -> int:
    comp = component(ctx, cid)
    assert comp.pdf_sha256 is not None
    with ctx.sessions() as session:
        key = session.get(Component, cid).pdf.key  # type: ignore[union-attr]
    with pikepdf.open(io.BytesIO(ctx.store.get(key))) as pdf:
        return len(pdf.pages)


def test_frames_are_counted_and_loaded_one_at_a_time() -> None:
    data = frames(0, 1, 2)
    assert frame_count(data) == 3
    assert load_frame(data, 2).image.width == 220
    with pytest.raises(BadInput):
        load_frame(data, 3)
    pdf = pikepdf.new()
    for n in range(3):
        pdf.add_blank_page(page_size=(100 + 50 * n, 200))
    buf = io.BytesIO()
    pdf.save(buf)
    assert frame_count(buf.getvalue()) == 3
    assert load_frame(buf.getvalue(), 1).image.width == round(150 / 72 * 300)


def test_page_parts_survive_packing() -> None:
    img = Image.new("RGB", (400, 300), "white")
    img.paste((0, 0, 0), (10, 10, 200, 30))
    img.paste((200, 0, 0), (50, 100, 150, 200))  # a red stamp: a colour layer
    encoded = encode_page_image(img, 150)
    page = page_to_dict(
        PageResult(0, 90, 1.5, "Số: 1", [Word("Số:", 1, 2, 3, 4, 90.0)], codes=[Code("qr", "x")])
    )
    for text_pdf in (b"%PDF-1.5 text layer", None):
        assert unpack_parts(pack_parts(page, text_pdf, encoded)) == (page, text_pdf, encoded)


def test_page_rows_appear_and_progress(ctx: Context, reader: FakeReader) -> None:
    cid = submit(ctx, frames(0, 1, 2), "three.tiff").component_id
    plan = prepare(ctx, cid)
    rows = rows_of(ctx, cid)
    assert [(r.position, r.frame, r.status) for r in rows] == [
        (0, 0, "queued"), (1, 1, "queued"), (2, 2, "queued")
    ]  # fmt: skip
    assert plan.pending == [r.id for r in rows]
    assert component(ctx, cid).status == "processing"
    assert page_thumbnail(ctx, rows[1].id, "after") is None  # not read yet

    assert read_one(ctx, cid, rows[1].id)
    after = rows_of(ctx, cid)
    assert [r.status for r in after] == ["queued", "done", "queued"]
    assert after[1].rotation == 90 and after[1].seconds is not None and after[1].reads == 1
    assert assemble(ctx, cid).status == "processing"  # pages still to read: nothing yet

    before_jpeg = page_thumbnail(ctx, rows[1].id, "before")
    after_jpeg = page_thumbnail(ctx, rows[1].id, "after")
    assert before_jpeg and after_jpeg and before_jpeg.startswith(b"\xff\xd8")
    with Image.open(io.BytesIO(before_jpeg)) as b, Image.open(io.BytesIO(after_jpeg)) as a:
        assert b.size == (210, 300) and a.size == (300, 210)  # turned upright

    result = digitize(ctx, cid)  # reads only what is left, then assembles
    assert result.status == "done" and len(result.pages) == 3
    assert sorted(reader.read) == [0, 1, 2]
    assert all(r.status == "done" and r.thumb_after_sha256 for r in rows_of(ctx, cid))
    assert texts(ctx, cid) == ["0", "1", "2"] and pdf_pages(ctx, cid) == 3


def test_edit_pages_reorders_and_deletes_without_reading_again(
    ctx: Context, reader: FakeReader
) -> None:
    cid = submit(ctx, frames(0, 1, 2), "three.tiff").component_id
    first = digitize(ctx, cid)
    code = component(ctx, cid).result_code
    rows = rows_of(ctx, cid)
    stamps = {r.id: (r.seconds, r.started_at) for r in rows}
    read_before = list(reader.read)

    edit_pages(ctx, cid, [rows[2].id, rows[0].id])
    assert component(ctx, cid).status == "queued"
    result = digitize(ctx, cid)

    assert result.status == "done" and result.id == first.id
    assert reader.read == read_before  # no page read again
    assert texts(ctx, cid) == ["2", "0"] and pdf_pages(ctx, cid) == 2
    kept = rows_of(ctx, cid)
    assert [r.id for r in kept] == [rows[2].id, rows[0].id] and [r.position for r in kept] == [0, 1]
    assert all(r.reads == 1 and (r.seconds, r.started_at) == stamps[r.id] for r in kept)
    assert component(ctx, cid).result_code == code  # the same registry record

    with pytest.raises(BadInput):
        edit_pages(ctx, cid, [])
    with pytest.raises(BadInput):
        edit_pages(ctx, cid, [rows[1].id])  # deleted: no longer a page of this component
    other = submit(ctx, frames(5), "other.tiff").component_id
    digitize(ctx, other)
    with pytest.raises(BadInput):
        edit_pages(ctx, cid, [rows[0].id, rows_of(ctx, other)[0].id])


def test_add_pages_appends_and_replaces_reading_only_the_new_ones(
    ctx: Context, reader: FakeReader
) -> None:
    cid = submit(ctx, frames(0, 1, 2), "three.tiff").component_id
    digitize(ctx, cid)
    rows = rows_of(ctx, cid)
    reader.read.clear()

    (again,) = add_pages(ctx, cid, frames(7), replace=rows[1].id)  # page 2 scanned again
    appended = add_pages(ctx, cid, frames(8, 9))
    assert component(ctx, cid).status == "queued"
    assert [r.status for r in rows_of(ctx, cid)] == ["done", "queued", "done", "queued", "queued"]
    result = digitize(ctx, cid)

    assert result.status == "done" and sorted(reader.read) == [7, 8, 9]
    assert texts(ctx, cid) == ["0", "7", "2", "8", "9"] and pdf_pages(ctx, cid) == 5
    after = rows_of(ctx, cid)
    assert [r.id for r in after] == [rows[0].id, again, rows[2].id, *appended]
    assert after[1].frame == 0 and after[4].frame == 1  # frames of their own files
    assert after[1].source_sha256 != after[0].source_sha256

    with pytest.raises(BadInput):
        add_pages(ctx, cid, b"not a scan")
    with pytest.raises(BadInput):
        add_pages(ctx, cid, frames(3), replace=rows[1].id)  # already replaced


def test_reassembly_keeps_the_clerks_fields(ctx: Context, reader: FakeReader) -> None:
    cid = submit(ctx, frames(0, 1), "two.tiff").component_id
    digitize(ctx, cid)
    assert component(ctx, cid).type == "quyet_dinh"
    with ctx.sessions.begin() as session:
        comp = get_component(session, cid)
        assert comp is not None
        confirm_fields(comp, {"so_ky_hieu": "999/QĐ-UBND", "trich_yeu": "sửa bởi cán bộ"})
    rows = rows_of(ctx, cid)
    edit_pages(ctx, cid, [rows[1].id, rows[0].id])
    result = digitize(ctx, cid)
    assert result.fields["so_ky_hieu"].value == "999/QĐ-UBND"
    assert result.fields["so_ky_hieu"].source == "clerk"
    assert result.fields["trich_yeu"].value == "sửa bởi cán bộ"


def test_a_page_is_read_once_whoever_asks(ctx: Context, reader: FakeReader) -> None:
    cid = submit(ctx, frames(0, 1), "two.tiff").component_id
    plan = prepare(ctx, cid)
    first, second = plan.pending
    assert read_one(ctx, cid, first, reader="task-a")
    assert not read_one(ctx, cid, first, reader="task-a")  # redelivered: done, nothing to do
    assert not read_one(ctx, cid, first, reader="task-b")  # a duplicate: nothing either
    assert reader.read == [0]

    with ctx.sessions.begin() as session:  # task-c holds page 2 now
        assert claim_page(session, second, "task-c")
    assert not read_one(ctx, cid, second, reader="task-d")  # someone else reads it
    assert read_one(ctx, cid, second, reader="task-c")  # task-c's redelivery takes it back
    assert reader.read == [0, 1]
    assert [r.reads for r in rows_of(ctx, cid)] == [1, 2]


def test_a_dead_readers_page_is_taken_over_once_stale(ctx: Context, reader: FakeReader) -> None:
    cid = submit(ctx, frames(0), "one.tiff").component_id
    (page,) = prepare(ctx, cid).pending
    with ctx.sessions.begin() as session:
        assert claim_page(session, page, "dead-task")
    assert not read_one(ctx, cid, page, reader="new", stale_before=utcnow() - timedelta(hours=1))
    assert read_one(ctx, cid, page, reader="new", stale_before=utcnow() + timedelta(seconds=1))
    assert assemble(ctx, cid).status == "done"


def test_the_join_fires_once_per_run(ctx: Context, reader: FakeReader) -> None:
    cid = submit(ctx, frames(0, 1, 2), "three.tiff").component_id
    pages = prepare(ctx, cid).pending

    def join() -> bool:
        with ctx.sessions.begin() as session:
            return claim_join(session, cid)

    read_one(ctx, cid, pages[0])
    read_one(ctx, cid, pages[1])
    assert not join()  # a page is left
    read_one(ctx, cid, pages[2])
    wins: list[bool] = []
    threads = [threading.Thread(target=lambda: wins.append(join())) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [False] * 5 + [True]
    assert not join()


def test_two_assemblies_at_once_give_one_result(
    ctx: Context, reader: FakeReader, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = read_but_not_assembled(ctx, frames(0, 1))
    saved: list[str] = []
    real_save = pipeline.save_result

    def save_once(session, comp, result, *args, **kwargs):  # type: ignore[no-untyped-def]
        if result.status == "done":
            saved.append(comp.id)
        return real_save(session, comp, result, *args, **kwargs)

    monkeypatch.setattr(pipeline, "save_result", save_once)
    barrier = threading.Barrier(2)
    real_copy = pipeline.archival_copy

    def copy_together(*args, **kwargs):  # type: ignore[no-untyped-def]
        barrier.wait(30)  # both have built their PDF before either writes
        return real_copy(*args, **kwargs)

    monkeypatch.setattr(pipeline, "archival_copy", copy_together)
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(assemble(ctx, cid).status)) for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == ["done", "done"] and saved == [cid]
    assert assemble(ctx, cid).status == "done" and saved == [cid]  # a redelivered assembly


def test_reviewable_before_the_archival_copy_and_a_clerks_fix_kept(
    ctx: Context, reader: FakeReader, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = read_but_not_assembled(ctx, frames(0, 1))
    building, release = threading.Event(), threading.Event()
    real_copy = pipeline.archival_copy

    def slow_copy(*args, **kwargs):  # type: ignore[no-untyped-def]
        building.set()
        release.wait(30)
        return real_copy(*args, **kwargs)

    monkeypatch.setattr(pipeline, "archival_copy", slow_copy)
    t = threading.Thread(target=assemble, args=(ctx, cid))
    t.start()
    try:
        assert building.wait(30)
        comp = component(ctx, cid)
        assert comp.status == "reviewable" and comp.type == "quyet_dinh"
        assert comp.pdf_sha256 is None and len(comp.pages) == 2
        assert comp.registry_status is None  # registered once its PDF exists
        with ctx.sessions.begin() as session:  # the clerk corrects while the PDF is built
            comp = get_component(session, cid)
            assert comp is not None
            comp.type, comp.type_confidence = "giay_phep_xay_dung", 1.0
            confirm_fields(comp, {"so_ky_hieu": "5/GPXD"})
    finally:
        release.set()
        t.join(60)
    comp = component(ctx, cid)
    assert comp.status == "done" and comp.pdf_sha256 and comp.registry_status == "draft"
    assert comp.type == "giay_phep_xay_dung"
    assert {f.name: (f.value, f.source) for f in comp.fields}["so_ky_hieu"] == ("5/GPXD", "clerk")


def test_an_unreadable_page_fails_the_component_until_scanned_again(
    ctx: Context, reader: FakeReader, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = submit(ctx, frames(0, 1), "two.tiff").component_id
    real_load = pipeline.load_frame

    def broken_second(data: bytes, index: int):  # type: ignore[no-untyped-def]
        if index == 1 and number_of(real_load(data, index).image.width) == 1:
            raise BadInput("page image is corrupt")
        return real_load(data, index)

    monkeypatch.setattr(pipeline, "load_frame", broken_second)
    result = digitize(ctx, cid)
    assert result.status == "failed" and "page 2" in (result.error or "")
    rows = rows_of(ctx, cid)
    assert rows[1].status == "failed" and rows[1].needs_attention
    add_pages(ctx, cid, frames(4), replace=rows[1].id)
    assert digitize(ctx, cid).status == "done"
    assert texts(ctx, cid) == ["0", "4"]


def test_pages_given_up_are_not_retried_by_a_new_run(ctx: Context, reader: FakeReader) -> None:
    cid = submit(ctx, frames(0, 1), "two.tiff").component_id
    pages = prepare(ctx, cid).pending
    with ctx.sessions.begin() as session:
        session.execute(
            update(ComponentPage)
            .where(ComponentPage.id == pages[1])
            .values(status="failed", reads=MAX_READS, error="reading did not finish")
        )
        assert unfinished_ids(session, cid) == [pages[0]]


def test_sweep_sends_stalled_components_again(
    ctx: Context, reader: FakeReader, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.worker import CeleryDispatcher

    ctx.settings = ctx.settings.model_copy(
        update={"broker_url": "redis://127.0.0.1:9/0", "task_time_limit": 60.0}
    )
    dispatcher = CeleryDispatcher(ctx, sweep_seconds=3600)
    sent: list[str] = []
    monkeypatch.setattr(dispatcher, "enqueue", sent.append)
    stalled = submit(ctx, frames(0, 1), "stalled.tiff").component_id
    moving = submit(ctx, frames(2), "moving.tiff").component_id
    pages = prepare(ctx, stalled).pending
    prepare(ctx, moving)
    long_ago = utcnow() - timedelta(minutes=5)
    with ctx.sessions.begin() as session:
        for pid, reads in zip(pages, (1, MAX_READS), strict=True):
            assert claim_page(session, pid, "dead")
            session.execute(
                update(ComponentPage)
                .where(ComponentPage.id == pid)
                .values(started_at=long_ago, updated_at=long_ago, reads=reads)
            )
        session.execute(
            update(Component).where(Component.id == stalled).values(updated_at=long_ago)
        )
    assert dispatcher.sweep() == [stalled] and sent == [stalled]
    rows = rows_of(ctx, stalled)
    assert [r.status for r in rows] == ["reading", "failed"]  # the page read 3 times: given up
    assert rows[1].needs_attention


def test_multi_page_tiff_is_read_page_by_page(tmp_path: Path) -> None:
    ctx = Context.from_settings(Settings(data_dir=tmp_path / "var", page_workers=2))
    cid = submit(ctx, page_bytes(42, pages=2), "two.tiff").component_id
    seen: list[str] = []
    result = digitize(ctx, cid, progress=seen.append)
    assert result.status == "done" and result.type == "quyet_dinh"
    assert len(result.pages) == 2 and all("42/QĐ-UBND" in p.text for p in result.pages)
    assert seen == ["page 1/2 read", "page 2/2 read"]
    rows = rows_of(ctx, cid)
    assert [(r.frame, r.status, r.blank) for r in rows] == [(0, "done", False), (1, "done", False)]
    assert all(r.seconds and r.seconds > 0 for r in rows)
    assert pdf_pages(ctx, cid) == 2
