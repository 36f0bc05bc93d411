"""The archival copy: PDF/A-2b, searchable word by word, compact, colour kept; bad input PDFs."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import time
import unicodedata
from datetime import UTC, datetime
from html import unescape as html_unescape
from pathlib import Path

import numpy as np
import pikepdf
import pytest
from PIL import Image, ImageDraw

from ocr.loader import check, load_pages
from ocr.pdf import PdfPage, build_searchable_pdf
from ocr.pdfa import DigitizationRecord, check_pdfa, read_record
from ocr.raster import encode_page_image
from ocr.tesseract import Recognition, recognize
from tests.conftest import word_recall
from tests.pages import DECISION, render_page, words_of

DPI = 300
DC = "{http://purl.org/dc/elements/1.1/}"
RECORD = DigitizationRecord(
    type="quyet_dinh",
    title="Quyết định",
    number="123/QĐ-UBND",
    date="2023-05-05",
    issuer="UBND TỈNH TÂY NINH",
    digitizer="Nguyễn Thị Số Hóa",
    time=datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
    source_sha256="ab" * 32,
    dossier_code="000.00.31.H56-261123-0001",
    owner_ids=[],
)


@pytest.fixture(scope="module")
def page() -> Image.Image:
    """An A4 decision at 300 dpi with its red stamp."""
    return render_page(DECISION, dpi=DPI)


@pytest.fixture(scope="module")
def ocr(page: Image.Image) -> tuple[Recognition, float]:
    """The one Tesseract run of this module, with its duration."""
    started = time.perf_counter()
    rec = recognize(page.convert("L"), dpi=DPI, text_pdf=True)
    return rec, time.perf_counter() - started


@pytest.fixture(scope="module")
def archived(page: Image.Image, ocr: tuple[Recognition, float], tmp_path_factory) -> Path:
    rec, _ = ocr
    path = tmp_path_factory.mktemp("pdf") / "copy.pdf"
    path.write_bytes(build_searchable_pdf([PdfPage(encode_page_image(page, DPI), rec.pdf)], RECORD))
    return path


def render(path: Path, dpi: int) -> Image.Image:
    out = subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-f", "1", "-l", "1", "-png", str(path)],
        capture_output=True,
        check=True,
    ).stdout
    return Image.open(io.BytesIO(out)).convert("RGB")


def test_copy_is_pdfa_2b(archived: Path) -> None:
    data = archived.read_bytes()
    assert check_pdfa(data) == []
    assert re.match(rb"%PDF-1\.[4-7]\n%[\x80-\xff]{4}", data)  # version and binary comment
    with pikepdf.open(archived) as pdf:
        assert "/Encrypt" not in pdf.trailer and len(pdf.trailer.ID) == 2
        (intent,) = pdf.Root.OutputIntents
        assert intent.S == "/GTS_PDFA1" and intent.DestOutputProfile.N == 3
        assert intent.DestOutputProfile.read_bytes()[36:40] == b"acsp"  # an ICC profile
        meta = pdf.Root.Metadata
        assert meta.Subtype == "/XML" and "/Filter" not in meta
        xmp = meta.read_bytes().decode()
        assert re.search(r"pdfaid:part(>|=\")2", xmp) and re.search(r"conformance(>|=\")B", xmp)
        for key in ("/OpenAction", "/AA", "/AcroForm", "/Names"):
            assert key not in pdf.Root
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
                assert obj.get("/S") != "/JavaScript"
                assert not obj.get("/Interpolate", False)
    qpdf = subprocess.run(["qpdf", "--check", str(archived)], capture_output=True, text=True)
    assert qpdf.returncode == 0, qpdf.stdout + qpdf.stderr


@pytest.mark.skipif(not shutil.which("gs"), reason="Ghostscript not installed")
def test_ghostscript_reads_the_copy_cleanly(archived: Path) -> None:
    gs = subprocess.run(
        ["gs", "-q", "-dNOPAUSE", "-dBATCH", "-dPDFSTOPONERROR", "-sDEVICE=nullpage",
         str(archived)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert gs.returncode == 0 and "rror" not in gs.stdout + gs.stderr, gs.stdout + gs.stderr


GS_PDFA_DEF = sorted(Path("/usr/share/ghostscript").glob("*/lib/PDFA_def.ps"))


@pytest.mark.skipif(not shutil.which("gs") or not GS_PDFA_DEF, reason="Ghostscript not installed")
def test_ghostscripts_pdfa_output_as_a_reference(archived: Path, tmp_path: Path) -> None:
    """Ghostscript, an independent PDF/A writer, turns our copy into its own PDF/A-2b (with
    the same sRGB profile): our check accepts that reference, and our copy carries every
    catalog entry and PDF/A identification the reference does."""
    srgb = Path(pikepdf.__file__).parent / "pdfa" / "data" / "sRGB.icc"
    shutil.copy(srgb, tmp_path / "srgb.icc")
    definition = re.sub(r"(?m)^/ICCProfile \(.*?\)", "/ICCProfile (srgb.icc)",
                        GS_PDFA_DEF[-1].read_text(encoding="latin-1"))  # fmt: skip
    (tmp_path / "PDFA_def.ps").write_text(definition, encoding="latin-1")
    # policy 1: Ghostscript 10.0 cannot carry Vietnamese DOCINFO strings into its XMP and
    # would abort; it drops them instead (ours keeps them, in XMP as well)
    gs = subprocess.run(
        ["gs", "-q", "-dPDFA=2", "-dBATCH", "-dNOPAUSE", "--permit-file-read=srgb.icc",
         "-sColorConversionStrategy=RGB", "-dPDFACompatibilityPolicy=1", "-sDEVICE=pdfwrite",
         "-o", "reference.pdf", "PDFA_def.ps", str(archived)],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert gs.returncode == 0 and "abort" not in gs.stdout + gs.stderr, gs.stdout + gs.stderr
    reference = (tmp_path / "reference.pdf").read_bytes()
    assert check_pdfa(reference) == []
    with pikepdf.open(io.BytesIO(reference)) as ref, pikepdf.open(archived) as ours:
        assert set(ref.Root.keys()) <= set(ours.Root.keys())
        for pdf in (ref, ours):
            (intent,) = pdf.Root.OutputIntents
            assert intent.S == "/GTS_PDFA1" and intent.DestOutputProfile.N == 3
            xmp = pdf.Root.Metadata.read_bytes().decode()
            assert re.search(r"pdfaid:part(>|=[\"'])2", xmp), xmp
            assert "/Encrypt" not in pdf.trailer and len(pdf.trailer.ID) == 2


def test_validator_rejects_what_is_not_pdfa(archived: Path) -> None:
    """The conformance check can fail: no output intent, no PDF/A id, JavaScript."""
    for damage in ("intent", "pdfaid", "javascript"):
        with pikepdf.open(archived) as pdf:
            if damage == "intent":
                del pdf.Root.OutputIntents
            elif damage == "pdfaid":
                with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
                    del meta["pdfaid:part"]
            else:
                pdf.Root.OpenAction = pikepdf.Dictionary(
                    S=pikepdf.Name.JavaScript, JS="app.alert(1)"
                )
            buf = io.BytesIO()
            pdf.save(buf)
        assert check_pdfa(buf.getvalue()), damage


def test_digitization_record_is_in_xmp(archived: Path) -> None:
    rec = read_record(archived.read_bytes())
    assert rec[f"{DC}type"] == {"quyet_dinh"}
    assert rec[f"{DC}identifier"] == "123/QĐ-UBND"
    assert rec[f"{DC}date"] == ["2023-05-05"]
    assert rec[f"{DC}publisher"] == {"UBND TỈNH TÂY NINH"}
    assert rec[f"{DC}contributor"] == {"Nguyễn Thị Số Hóa"}
    assert rec[f"{DC}source"] == "sha256:" + "ab" * 32
    assert rec[f"{DC}relation"] == {"dossier:000.00.31.H56-261123-0001"}
    assert rec["{http://ns.adobe.com/xap/1.0/}CreateDate"].startswith("2026-11-23T09:30:00")
    assert all(unicodedata.is_normalized("NFC", str(v)) for v in rec.values())


def test_owner_ids_only_when_policy_allows(page: Image.Image) -> None:
    img = encode_page_image(page.reduce(3), 100)
    without = read_record(build_searchable_pdf([PdfPage(img, None)], DigitizationRecord()))
    assert f"{DC}relation" not in without
    allowed = DigitizationRecord(owner_ids=["079203012345"])
    got = read_record(build_searchable_pdf([PdfPage(img, None)], allowed))
    assert got[f"{DC}relation"] == {"owner:079203012345"}


def test_text_layer_reads_nfc_vietnamese_in_order(archived: Path) -> None:
    text = subprocess.run(
        ["pdftotext", "-layout", str(archived), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert unicodedata.is_normalized("NFC", text)
    assert word_recall(words_of(DECISION), text) >= 0.95
    order = [text.find(s) for s in ("QUYẾT ĐỊNH", "Căn cứ Luật", "Điều 1.", "Điều 3.")]
    assert -1 not in order and order == sorted(order)


def test_each_word_is_placed_over_its_image(archived: Path, ocr: tuple[Recognition, float]) -> None:
    """Selecting a word highlights that word: its box in the text layer is where it was read."""
    html = subprocess.run(
        ["pdftotext", "-bbox", str(archived), "-"], capture_output=True, text=True, check=True
    ).stdout
    boxes = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
        html,
    )
    words = ocr[0].words
    assert len(boxes) == len(words) > 100
    k = 72 / DPI
    placed = [(t, float(a), float(b), float(c), float(d)) for a, b, c, d, t in boxes]
    for word in words:
        left, right = word.left * k, (word.left + word.width) * k
        top, bottom = word.top * k, (word.top + word.height) * k
        same = [p for p in placed if unicodedata.normalize("NFC", html_unescape(p[0])) == word.text]
        assert same, word
        _, x0, y0, x1, y1 = min(same, key=lambda p: abs(p[1] - left) + abs(p[2] - top))
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        assert left <= cx <= right and top - 3 <= cy <= bottom + 3, word
        assert min(x1, right) - max(x0, left) >= 0.5 * (right - left) - 0.5, word


def test_a4_text_page_is_small_keeps_red_and_reads_as_well(
    archived: Path, page: Image.Image, ocr: tuple[Recognition, float]
) -> None:
    assert archived.stat().st_size <= 200_000
    shown = np.asarray(render(archived, DPI)).astype(int)
    original = np.asarray(page).astype(int)
    red = (original[..., 0] > 150) & (original[..., 1] < 80)  # the stamp's ring
    assert red.sum() > 1000
    r, g, b = shown[red].mean(axis=0)
    assert r > 150 and r - g > 80 and r - b > 80  # still red
    ink = original.max(axis=2) < 60
    assert shown[ink].mean() < 70  # text still black
    again = recognize(Image.fromarray(shown.astype(np.uint8)).convert("L"), dpi=DPI)
    expected = words_of(DECISION)
    assert word_recall(expected, again.text) >= word_recall(expected, ocr[0].text) - 0.01


def test_bilevel_grey_and_photo_pages_get_their_encoding(page: Image.Image) -> None:
    small = page.reduce(3)  # 100 dpi keeps this test fast
    bilevel = small.convert("L").point(lambda v: 0 if v < 128 else 255)
    grey = small.convert("L")
    rng = np.random.default_rng(0)
    photo = Image.fromarray(rng.integers(40, 220, (small.height, small.width, 3), np.uint8))
    kinds = {}
    for name, img in {"bilevel": bilevel, "grey": grey, "photo": photo}.items():
        enc = encode_page_image(img, 100)
        kinds[name] = enc.kind
        with pikepdf.open(io.BytesIO(build_searchable_pdf([PdfPage(enc, None)]))) as pdf:
            filters = {str(x.Filter) for x in pdf.pages[0].Resources.XObject.values()}
            spaces = {str(x.get("/ColorSpace")) for x in pdf.pages[0].Resources.XObject.values()}
            assert float(pdf.pages[0].mediabox[2]) == pytest.approx(img.width * 72 / 100)
        if name == "bilevel":
            assert filters == {"/CCITTFaxDecode"}
        if name == "grey":
            assert "/DeviceRGB" not in spaces
    assert kinds == {"bilevel": "g4", "grey": "mrc", "photo": "jpeg"}


def test_stamps_and_pen_ink_get_sharp_layers_of_their_colour(tmp_path: Path) -> None:
    """A red stamp and a blue signature are masks at full resolution, painted red and blue."""
    img = render_page(DECISION[:6], dpi=150)  # with its red stamp
    ImageDraw.Draw(img).line((200, 600, 700, 640), fill=(20, 40, 170), width=4)  # blue pen
    enc = encode_page_image(img, 150)
    assert enc.kind == "mrc"
    colours = sorted(colour for _, colour in enc.colour_layers)
    assert len(colours) == 2
    blue, red = colours
    assert red[0] > 150 > max(red[1:]) and blue[2] > 120 > max(blue[:2])
    with pikepdf.open(io.BytesIO(build_searchable_pdf([PdfPage(enc, None)]))) as pdf:
        masks = [x for x in pdf.pages[0].Resources.XObject.values() if x.get("/ImageMask")]
        assert len(masks) == 3
    # each mask is the box around its ink at the page's full resolution
    boxes = [*enc.colour_boxes, enc.ink_box]
    assert sorted((m.Width, m.Height) for m in masks) == sorted((b[2], b[3]) for b in boxes)
    for x, y, w, h in boxes:
        assert min(x, y) >= 0 and x + w <= img.width and y + h <= img.height
    # drawn where they were: the stamp's and the pen's pixels come out red and blue
    path = tmp_path / "layers.pdf"
    path.write_bytes(build_searchable_pdf([PdfPage(enc, None)]))
    shown = render(path, 150)
    src, out = np.asarray(img).astype(int), np.asarray(shown).astype(int)
    assert src.shape == out.shape
    for channel, others in ((0, [1, 2]), (2, [0, 1])):
        ink = (src[..., channel] > 150) & (src[..., others].max(axis=2) < 60)
        hit = (out[..., channel] > 120) & (out[..., others].max(axis=2) < 100)
        assert ink.sum() > 100 and (ink & hit).sum() > 0.9 * ink.sum()


def _pdf_with(extra: str) -> bytes:
    """A one-page PDF carrying JavaScript and a form, or a legacy TCVN3 text layer."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    font = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                              BaseFont=pikepdf.Name.Helvetica)  # fmt: skip
    pdf.pages[0].Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    # ".VnTime" text as a legacy font's bytes: it extracts as garbage like this
    garbage = "Céng hßa x· héi chñ nghÜa ViÖt Nam"
    pdf.pages[0].Contents = pdf.make_stream(
        b"BT /F1 14 Tf 72 760 Td " + pikepdf.String(garbage).unparse() + b" Tj ET"
    )
    if extra == "js":
        js = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS="app.alert('x')")
        pdf.Root.OpenAction = js
        pdf.Root.Names = pikepdf.Dictionary(
            JavaScript=pikepdf.Dictionary(Names=["a", pdf.make_indirect(js)])
        )
        field = pdf.make_indirect(
            pikepdf.Dictionary(
                FT=pikepdf.Name.Tx,
                T="ho_ten",
                V="x",
                Subtype=pikepdf.Name.Widget,
                Rect=[72, 600, 300, 620],
                P=pdf.pages[0].obj,
            )  # fmt: skip
        )
        pdf.pages[0].Annots = pdf.make_indirect([field])
        pdf.Root.AcroForm = pikepdf.Dictionary(Fields=[field])
    buf = io.BytesIO()
    pdf.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize("extra", ["js", "tcvn3"])
def test_input_pdf_is_rasterized_never_passed_through(extra: str) -> None:
    """JavaScript, forms and legacy text layers do not reach the copy: every input page is
    rasterized and OCRed, and the copy is rebuilt from images."""
    data = _pdf_with(extra)
    assert check(data) == "pdf"
    pages = [
        PdfPage(encode_page_image(p.image.reduce(3), p.dpi // 3), None) for p in load_pages(data)
    ]
    copy = build_searchable_pdf(pages)
    assert check_pdfa(copy) == []
    with pikepdf.open(io.BytesIO(copy)) as pdf:
        assert not {"/OpenAction", "/Names", "/AcroForm"} & set(pdf.Root.keys())
        assert "/Annots" not in pdf.pages[0] and "/Font" not in pdf.pages[0].Resources
    assert b"JavaScript" not in copy and b"app.alert" not in copy
    text = subprocess.run(["pdftotext", "-", "-"], input=copy, capture_output=True).stdout
    assert "héi" not in text.decode()
