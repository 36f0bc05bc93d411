"""A scanner batch split into its components: children with their own type, fields, PDF/A
and registry record, pages read once, created once however often the batch is submitted
or assembled, on SQLite and PostgreSQL alike.

The bookkeeping tests replace Tesseract by a stand-in that returns a scripted page for each
frame (frames are made 200 + 10·n pixels wide, see tests/test_pipeline_pages.py); the
split itself uses the real type model on generated page texts.
`test_a_real_batch_through_the_cli` reads a generated 6-page batch with Tesseract.
"""

from __future__ import annotations

import io
import json
import threading
import time
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pikepdf
import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

import api.pipeline as pipeline
import api.tasks as tasks
from api.cli import main as sohoa
from api.pipeline import (
    Context,
    assemble,
    digitize,
    edit_pages,
    prepare,
    read_one,
    results_of,
    submit,
)
from api.routes_counter import dossier_view
from api.settings import Settings
from classify.corpus import generate, to_pages
from models.document import Code, PageResult
from models.errors import BadInput
from ocr.loader import frame_count, load_frame
from ocr.pdf import PdfPage, encode_page_image
from storage.blobs import sha256_hex
from storage.pages import page_rows, subset_file
from storage.tables import Component, ComponentPage
from tests.pages import DECISION, render_page
from tests.test_pipeline_pages import frames, make_ctx, number_of

SEPARATOR = Code("qr", "SOHOA-SEPARATOR")


def first_page(code: str) -> str:
    """The text of the first page of a generated document of this type."""
    (sample,) = generate(1, 5, codes=[code])
    return to_pages(sample)[0].text


class ScriptedReader:
    """Stands in for `ocr.page.read_page`: frame n reads as `script[n]`, a page text, or
    "" (a blank sheet), or a code (a separator sheet). Counts the readings."""

    def __init__(self, script: dict[int, str | Code]) -> None:
        self.script = dict(script)
        self.read: list[int] = []
        self.lock = threading.Lock()

    def __call__(self, page, index, opts, times=None):  # type: ignore[no-untyped-def]
        n = number_of(page.image.width)
        with self.lock:
            self.read.append(n)
        what = self.script[n]
        code = what if isinstance(what, Code) else None
        text = "" if code else str(what)
        result = PageResult(
            index=index, rotation=0, skew=0.0, text=text or ("TỜ PHÂN CÁCH" if code else ""),
            width=page.image.width, height=page.image.height, dpi=page.dpi,
            blank=not text and not code, codes=[code] if code else [],
        )  # fmt: skip
        return result, PdfPage(encode_page_image(page.image, page.dpi), None)


# A: a decision and its continuation, a blank sheet, B: a birth certificate, C: an ID
# card right after it (a sure change of type), a separator sheet, D: an application form.
BATCH = {
    0: first_page("quyet_dinh"),
    1: "Điều 3. Các cơ quan, đơn vị liên quan chịu trách nhiệm thi hành.\nNơi nhận: Lưu VT",
    2: "",
    3: first_page("giay_khai_sinh"),
    4: first_page("can_cuoc"),
    5: SEPARATOR,
    6: first_page("don_to_khai"),
}
EXPECTED = [([1, 2], "quyet_dinh"), ([4, 4], "giay_khai_sinh"), ([5, 5], "can_cuoc"),
            ([7, 7], "don_to_khai")]  # fmt: skip


@pytest.fixture
def ctx(sessions: sessionmaker[Session], tmp_path: Path) -> Context:
    return make_ctx(sessions, tmp_path)


@pytest.fixture
def reader(monkeypatch: pytest.MonkeyPatch) -> ScriptedReader:
    fake = ScriptedReader(BATCH)
    monkeypatch.setattr(pipeline, "read_page", fake)
    return fake


def children(ctx: Context, parent_id: str) -> list[Component]:
    with ctx.sessions() as session:
        stmt = (
            select(Component)
            .where(Component.parent_id == parent_id)
            .options(
                *(selectinload(r) for r in (Component.owners, Component.original, Component.pdf))
            )
        )
        return sorted(session.scalars(stmt), key=lambda c: c.first_page or 0)


def count(ctx: Context, table: type) -> int:
    with ctx.sessions() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def rows_of(ctx: Context, cid: str) -> list[ComponentPage]:
    with ctx.sessions() as session:
        return page_rows(session, cid)


def read_but_not_assembled(ctx: Context, data: bytes, dossier: str | None = None) -> str:
    cid = submit(ctx, data, "batch.tiff", dossier_code=dossier).component_id
    for page in prepare(ctx, cid).pending:
        read_one(ctx, cid, page)
    return cid


def test_a_batch_becomes_one_child_per_document(ctx: Context, reader: ScriptedReader) -> None:
    data = frames(*BATCH)
    sub = submit(ctx, data, "batch.tiff", owners=["079203012345"], dossier_code="HS-1")
    parent = digitize(ctx, sub.component_id)
    assert parent.status == "split" and parent.fields == {}
    kids = children(ctx, sub.component_id)
    assert [([c.first_page, c.last_page], c.type) for c in kids] == EXPECTED
    assert sorted(reader.read) == list(BATCH)  # every page read once, none again
    for kid, (pages, _type) in zip(kids, EXPECTED, strict=True):
        assert kid.status == "done" and kid.registry_status == "draft" and kid.result_code
        assert kid.source == f"batch.tiff#pages={pages[0]}-{pages[1]}"
        assert kid.dossier_key == "HS-1" and kid.dossier_id is not None
        assert "079203012345" in [o.owner_id for o in kid.owners]  # the clerk's owner
        # its own original: the batch's pages re-packed, content-addressed
        original = ctx.store.get(kid.original.key)
        assert sha256_hex(original) == kid.original_sha256
        frames_ = range(pages[0] - 1, pages[1])
        assert frame_count(original) == len(frames_)
        assert [number_of(load_frame(original, i).image.width) for i in range(len(frames_))] == [
            *frames_
        ]
        with pikepdf.open(io.BytesIO(ctx.store.get(kid.pdf.key))) as pdf:  # type: ignore[union-attr]
            assert len(pdf.pages) == len(frames_)
        # its page rows point at the batch's frames and reuse what was read
        batch_rows = {r.frame: r for r in rows_of(ctx, sub.component_id)}
        for row in rows_of(ctx, kid.id):
            assert row.source_sha256 == sha256_hex(data)
            assert row.parts_sha256 == batch_rows[row.frame].parts_sha256
            assert row.status == "done" and row.reads == 0
    with ctx.sessions() as session:
        batch = session.get(Component, sub.component_id)
        assert batch is not None and batch.registry_status is None and batch.pdf_sha256 is None


def test_resubmitting_the_batch_creates_nothing(ctx: Context, reader: ScriptedReader) -> None:
    data = frames(*BATCH)
    first = submit(ctx, data, "batch.tiff")
    digitize(ctx, first.component_id)
    before = (count(ctx, Component), count(ctx, ComponentPage), len(reader.read))
    again = submit(ctx, data, "batch.tiff")
    assert again.component_id == first.component_id and not again.created
    assert digitize(ctx, again.component_id).status == "split"
    assert digitize(ctx, again.component_id, force=True).status == "split"
    assert (count(ctx, Component), count(ctx, ComponentPage), len(reader.read)) == before
    results = results_of(ctx, first.component_id)
    assert [(c.first_page, r.type) for r, c in results] == [(p[0], t) for p, t in EXPECTED]


def test_assembling_twice_creates_the_children_once(ctx: Context, reader: ScriptedReader) -> None:
    cid = read_but_not_assembled(ctx, frames(*BATCH))
    go = threading.Barrier(2)

    def run() -> None:
        go.wait()
        assemble(ctx, cid)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assemble(ctx, cid)  # and once more, redelivered
    kids = children(ctx, cid)
    assert [([c.first_page, c.last_page], c.type) for c in kids] == EXPECTED
    assert count(ctx, Component) == 1 + len(EXPECTED)
    assert all(c.status == "done" for c in kids)


def test_a_crash_between_split_and_children_is_finished_by_a_retry(
    ctx: Context, reader: ScriptedReader, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid = read_but_not_assembled(ctx, frames(*BATCH))
    real = pipeline._assemble_children

    def crash(_ctx: Context, _parent: str) -> None:
        raise ConnectionError("worker lost")

    monkeypatch.setattr(pipeline, "_assemble_children", crash)
    with pytest.raises(ConnectionError):
        assemble(ctx, cid)
    assert {c.status for c in children(ctx, cid)} == {"processing"}
    monkeypatch.setattr(pipeline, "_assemble_children", real)
    assert assemble(ctx, cid).status == "split"  # the redelivered task
    assert [c.status for c in children(ctx, cid)] == ["done"] * len(EXPECTED)
    assert sorted(reader.read) == list(BATCH)


def test_one_document_scan_is_not_split(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    decision, annex = first_page("quyet_dinh"), "Phụ lục kèm theo\n1. Nguyễn Văn An"
    monkeypatch.setattr(pipeline, "read_page", ScriptedReader({0: decision, 1: annex, 2: ""}))
    sub = submit(ctx, frames(0, 1, 2), "one.tiff")
    result = digitize(ctx, sub.component_id)
    assert result.status == "done" and result.type == "quyet_dinh"
    assert len(result.pages) == 3  # a trailing blank sheet stays, as before
    assert children(ctx, sub.component_id) == [] and count(ctx, Component) == 1
    [(only, comp)] = results_of(ctx, sub.component_id)
    assert only.id == sub.component_id and comp.parent_id is None and comp.registry_status


def test_pages_of_a_split_batch_are_edited_in_its_children(
    ctx: Context, reader: ScriptedReader
) -> None:
    cid = submit(ctx, frames(*BATCH), "batch.tiff").component_id
    digitize(ctx, cid)
    with pytest.raises(BadInput, match="split"):
        edit_pages(ctx, cid, [r.id for r in rows_of(ctx, cid)][:2])
    kid = children(ctx, cid)[0]
    first = rows_of(ctx, kid.id)[0]
    edit_pages(ctx, kid.id, [first.id])  # the decision without its second page
    again = digitize(ctx, kid.id)
    assert again.status == "done" and len(again.pages) == 1
    assert children(ctx, again.id) == []  # a child is never split again
    assert sorted(reader.read) == list(BATCH)


def test_the_counter_lists_the_children_not_the_batch(ctx: Context, reader: ScriptedReader) -> None:
    batch = submit(ctx, frames(*BATCH), "batch.tiff", dossier_code="HS-2").component_id
    later = submit(ctx, frames(9), "later.tiff", dossier_code="HS-2").component_id
    reader.script[9] = first_page("gcn_qsdd")
    digitize(ctx, later)
    digitize(ctx, batch)  # its children are made after the file handed in later
    view = dossier_view(ctx, "HS-2")
    assert view is not None
    kids = children(ctx, batch)
    assert [(c["id"], c["batch"]) for c in view["components"]] == [
        *((c.id, {"id": batch, "pages": [c.first_page, c.last_page]}) for c in kids),
        (later, None),
    ]  # in the order handed in, the batch's documents in its place
    pages = [len(c["pages"]) for c in view["components"]]
    assert pages == [*(c.last_page - c.first_page + 1 for c in kids), 1]  # type: ignore[operator]


def test_celery_tasks_split_the_batch_in_its_one_assembly(
    ctx: Context, reader: ScriptedReader, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Celery path (api/tasks.py) with the broker replaced by a local queue: prepare,
    one task per page, the join's assembly, and that assembly delivered twice."""
    sent: list[tuple[str, tuple[object, ...]]] = []
    monkeypatch.setattr(tasks, "worker_context", lambda: ctx)
    monkeypatch.setattr(tasks, "send", lambda _task, name, *args: sent.append((name, args)))
    cid = submit(ctx, frames(*BATCH), "batch.tiff").component_id
    tasks.prepare_component.apply(args=(cid,))
    while any(name == "sohoa.read_page" for name, _ in sent):
        name, args = sent.pop(0)
        assert name == "sohoa.read_page"
        tasks.read_page_task.apply(args=args)
    assert sent == [("sohoa.assemble", (cid,))]  # the join fired once
    for _ in range(2):
        assert tasks.assemble_component.apply(args=(cid,)).get() == "split"
    kids = children(ctx, cid)
    assert [([c.first_page, c.last_page], c.type, c.status) for c in kids] == [
        (p, t, "done") for p, t in EXPECTED
    ]
    assert sorted(reader.read) == list(BATCH)


def test_subsets_are_deterministic_and_keep_the_pages() -> None:
    pdf = pikepdf.new()
    for n in range(4):
        pdf.add_blank_page(page_size=(100 + 50 * n, 200))
    buf = io.BytesIO()
    pdf.save(buf)
    one, two = subset_file(buf.getvalue(), [1, 3]), subset_file(buf.getvalue(), [1, 3])
    assert one == two
    with pikepdf.open(io.BytesIO(one)) as sub:
        assert [float(p.mediabox[2]) for p in sub.pages] == [150.0, 250.0]
    tiff = frames(0, 1, 2, 3)
    cut = subset_file(tiff, [2, 3])
    assert cut == subset_file(tiff, [2, 3])
    assert [load_frame(cut, i).image.width for i in range(frame_count(cut))] == [220, 230]
    assert load_frame(cut, 0).dpi == 150


def qr_sheet(text: str) -> Image.Image:
    sheet = render_page(["TỜ PHÂN CÁCH HỒ SƠ"], dpi=200, color=False)
    code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode).to_image(scale=5)
    sheet.paste(Image.fromarray(np.array(code)).convert("RGB"), (300, 600))
    return sheet


BIRTH = [
    ("ỦY BAN NHÂN DÂN", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
    ("XÃ TÂN BÌNH", "Độc lập - Tự do - Hạnh phúc"),
    "",
    "GIẤY KHAI SINH",
    "Số: 45   Quyển số: 01/2023",
    "Họ, chữ đệm, tên: NGUYỄN THỊ AN",
    "Ngày, tháng, năm sinh: 12/03/2023",
    "Số định danh cá nhân: 072323001234",
]
FORM = [
    ("", "Mẫu CT01"),
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "",
    "TỜ KHAI THAY ĐỔI THÔNG TIN CƯ TRÚ",
    "Kính gửi: Công an xã Tân Bình",
    "1. Họ, chữ đệm và tên: Trần Văn Cường",
    "2. Số định danh cá nhân: 072090001234",
]
CONTINUATION = [
    "Điều 3. Chánh Văn phòng UBND tỉnh, Giám đốc Sở Xây dựng và các cơ quan,",
    "đơn vị liên quan chịu trách nhiệm thi hành Quyết định này.",
    "",
    ("Nơi nhận:", "CHỦ TỊCH"),
    "- Như Điều 3;",
    "- Lưu: VT.",
]


def test_a_real_batch_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Six generated pages at 200 dpi read by Tesseract: a decision (2 pages), a blank
    sheet, a birth certificate, a separator QR sheet, an application form."""
    blank = Image.new("RGB", (1654, 2339), "white")
    sheets = [render_page(DECISION), render_page(CONTINUATION), blank, render_page(BIRTH),
              qr_sheet("SOHOA-SEPARATOR"), render_page(FORM)]  # fmt: skip
    path = tmp_path / "batch.tiff"
    sheets[0].save(path, "TIFF", save_all=True, append_images=sheets[1:], dpi=(200, 200),
                   compression="tiff_adobe_deflate")  # fmt: skip

    def run() -> list[dict]:
        out = io.StringIO()
        with redirect_stdout(out):
            assert sohoa(["digitize", "--json", str(path)]) == 0
        return json.loads(out.getvalue())["components"]

    comps = run()
    got = [(c["batch_pages"], c["type"], c["status"], len(c["pages"])) for c in comps]
    assert got == [
        ([1, 2], "quyet_dinh", "done", 2),
        ([4, 4], "giay_khai_sinh", "done", 1),
        ([6, 6], "don_to_khai", "done", 1),
    ]
    assert comps[0]["fields"]["so_ky_hieu"] == "123/QĐ-UBND"
    assert comps[0]["source"] == f"{path}#pages=1-2"
    assert len({c["batch"] for c in comps}) == 1 and len({c["sha256"] for c in comps}) == 3
    assert [c["id"] for c in run()] == [c["id"] for c in comps]  # submitted again: the same


def test_splitting_can_be_turned_off(
    sessions: sessionmaker[Session], tmp_path: Path, reader: ScriptedReader
) -> None:
    ctx = make_ctx(sessions, tmp_path, split_batches=False)
    result = digitize(ctx, submit(ctx, frames(*BATCH), "batch.tiff").component_id)
    assert result.status == "done" and len(result.pages) == len(BATCH)
    assert count(ctx, Component) == 1


def test_the_api_links_a_batch_and_its_parts(tmp_path: Path, reader: ScriptedReader) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from tests.test_api import make_keys

    with TestClient(create_app(Settings(data_dir=tmp_path / "api-var"))) as client:
        client.headers["X-API-Key"] = make_keys(client)["clerk"]
        r = client.post(
            "/api/v1/dossiers/000.00.01.H56-231123-0007/files",
            files={"file": ("batch.tiff", frames(*BATCH), "image/tiff")},
        )
        assert r.status_code == 202, r.text
        url, body = r.json()["url"], {}
        for _ in range(300):
            body = client.get(url).json()
            if body["status"] == "split" and body["parts"]:
                break
            time.sleep(0.1)
        assert body["status"] == "split" and len(body["parts"]) == len(EXPECTED)
        for part, (pages, code) in zip(body["parts"], EXPECTED, strict=True):
            for _ in range(300):  # the parts are assembled after the split
                kid = client.get(f"/api/v1/components/{part}").json()
                if kid["status"] == "done":
                    break
                time.sleep(0.1)
            assert kid["batch"] == body["id"] and kid["batch_pages"] == pages
            assert kid["type"] == code and kid["parts"] == []


def test_frames_of_an_animated_png_are_cut_into_a_tiff() -> None:
    frames_ = [Image.new("RGB", (40, 30), (n * 60, 0, 0)) for n in range(3)]
    buf = io.BytesIO()
    frames_[0].save(buf, "PNG", save_all=True, append_images=frames_[1:])
    assert frame_count(buf.getvalue()) == 3
    cut = subset_file(buf.getvalue(), [2, 0])
    assert cut[:4] in (b"II*\x00", b"MM\x00*") and frame_count(cut) == 2
    pixels = [load_frame(cut, i).image.getpixel((0, 0)) for i in range(2)]
    assert pixels == [(120, 0, 0), (0, 0, 0)]  # the frames asked for, in order, lossless
