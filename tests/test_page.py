"""`read_page` end to end on generated scans of each kind: upright, deskewed and read."""

from __future__ import annotations

import collections
import functools

import pytest
from PIL import Image

from ocr.geometry import straighten
from ocr.loader import LoadedPage
from ocr.page import (
    PageOptions,
    StageTimes,
    is_large_format,
    ocr_image,
    read_page,
    read_pages,
)
from ocr.text import normalize_vi
from tests.pages import (
    DECISION,
    distort,
    jpeg_artefacts,
    photocopy,
    render_page,
    scanner_edges,
    words_of,
)

DPI = 200


@functools.cache
def upright(color: bool = True) -> Image.Image:
    img = render_page(DECISION, dpi=DPI, color=color)
    return img if color else img.convert("L")


TRUTH = words_of(DECISION)


def recall(text: str, truth: list[str] = TRUTH) -> float:
    want = collections.Counter(normalize_vi(w) for w in truth)
    got = collections.Counter(text.split())
    return sum((want & got).values()) / sum(want.values())


def scan(kind: str, rotation: int, skew: float) -> Image.Image:
    if kind == "colour":
        return distort(upright(), rotation=rotation, skew=skew)
    if kind == "grey-noise":
        return distort(upright(False), rotation=rotation, skew=skew, noise=10, seed=3)
    if kind == "photocopy-edges":
        return photocopy(scanner_edges(distort(upright(False), rotation=rotation, skew=skew)))
    assert kind == "jpeg"
    return jpeg_artefacts(distort(upright(), rotation=rotation, skew=skew), quality=30)


@pytest.mark.parametrize(
    ("kind", "rotation", "skew"),
    [
        ("colour", 90, 13.7),
        ("grey-noise", 180, -8.4),
        ("photocopy-edges", 270, 11.2),
        ("jpeg", 0, -14.6),
    ],
)
def test_each_kind_of_scan_is_turned_deskewed_and_read(
    kind: str, rotation: int, skew: float
) -> None:
    times = StageTimes()
    result, pdf_page = read_page(
        LoadedPage(scan(kind, rotation, skew), DPI), 3, PageOptions(), times
    )
    assert result.index == 3 and not result.blank and not result.timed_out
    assert result.rotation == rotation
    assert abs(result.skew - skew) < 0.2
    assert recall(result.text) >= 0.97, result.text
    assert pdf_page.text_pdf and pdf_page.text_pdf.startswith(b"%PDF")
    assert result.height > result.width  # upright portrait
    assert {"orientation", "straighten", "cleanup", "recognize"} <= times.seconds.keys()
    # word boxes lie on the upright page
    assert all(w.left + w.width <= result.width + 2 for w in result.words)


def test_the_stored_image_keeps_its_colour_while_ocr_reads_grey() -> None:
    page = upright()
    ocr = ocr_image(page, DPI)
    assert ocr.image.ndim == 2 and ocr.scale == 1.0 and ocr.regions == 0
    _, pdf_page = read_page(LoadedPage(page, DPI), 0, PageOptions())
    assert not pdf_page.image.gray  # the red stamp is still there


def test_a_capped_ocr_image_gives_word_boxes_on_the_full_page() -> None:
    page = upright()
    opts = PageOptions(max_ocr_pixels=page.width * page.height // 2)
    ocr = ocr_image(page, DPI, opts)
    assert ocr.image.size <= opts.max_ocr_pixels * 1.01 and ocr.dpi < DPI
    result, _ = read_page(LoadedPage(page, DPI), 0, opts)
    assert recall(result.text) >= 0.9
    right = max(w.left + w.width for w in result.words)
    assert 0.6 * page.width < right <= page.width  # scaled back, not left at the small size


@pytest.mark.parametrize("color", [True, False])
def test_codes_and_the_stored_image_beside_or_after_the_recognition_agree(color: bool) -> None:
    """The colour page is straightened apart from the grey copy Tesseract reads (beside
    the recognition, or after it with `beside=False`): same canvas, same words."""
    scanned = LoadedPage(distort(upright(color), rotation=270, skew=5.5), DPI)
    results = {}
    for beside in (True, False):
        times = StageTimes()
        result, pdf_page = read_page(scanned, 0, PageOptions(beside=beside), times)
        assert (pdf_page.image.width, pdf_page.image.height) == (result.width, result.height)
        assert pdf_page.image.gray != color  # a colour scan is stored in colour
        assert ("codes" in times.overlapped) == beside
        assert ("upright" in times.seconds) == color  # a grey scan reuses Tesseract's copy
        assert times.cpu["recognize"] > 0.1  # the tesseract process's CPU is counted
        results[beside] = result
    assert results[True].rotation == results[False].rotation == 270
    assert results[True].words == results[False].words
    assert recall(results[True].text) >= 0.97


def test_a_skewed_a4_scan_on_a_widened_canvas_is_not_read_as_a_drawing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ocr.page

    scanned = distort(upright(), rotation=90, skew=-14.5)  # canvas widened for the skew
    straightened = straighten(scanned, 90, -14.5)
    assert is_large_format(straightened.width, straightened.height, DPI)  # by its canvas
    looked_for = []
    monkeypatch.setattr(ocr.page, "text_regions", lambda *a: looked_for.append(a) or [])
    result, _ = read_page(LoadedPage(scanned, DPI), 0, PageOptions())
    assert not looked_for and recall(result.text) >= 0.97


def test_a_timed_out_page_is_kept_without_text_and_flagged() -> None:
    result, pdf_page = read_page(LoadedPage(upright(), DPI), 0, PageOptions(timeout=0.01))
    assert result.timed_out and result.text == "" and result.warnings
    assert pdf_page.text_pdf is None and pdf_page.image.width == result.width


def test_blank_pages_are_reported_blank() -> None:
    white = Image.new("L", upright().size, 255)
    result, pdf_page = read_page(LoadedPage(white, DPI), 0, PageOptions())
    assert result.blank and result.text == "" and pdf_page.text_pdf is None
    black = Image.new("L", (400, 600), 0)
    assert read_page(LoadedPage(black, DPI), 1, PageOptions())[0].blank


def test_read_pages_keeps_page_order_across_workers() -> None:
    pages = [
        LoadedPage(distort(upright(), rotation=r, skew=s), DPI)
        for r, s in [(0, 2.0), (180, -3.0), (90, 0.0)]
    ]
    pages.insert(1, LoadedPage(Image.new("L", (800, 1100), 255), DPI))
    read = read_pages(iter(pages), PageOptions(), workers=2)
    assert [r.index for r, _ in read] == [0, 1, 2, 3]
    assert [r.blank for r, _ in read] == [False, True, False, False]
    assert [r.rotation for r, _ in read] == [0, 0, 180, 90]
    assert all(recall(r.text) >= 0.97 for r, _ in read if not r.blank)


@pytest.mark.parametrize("engine", ["cli", "tesserocr"])
def test_both_tesseract_engines_read_the_same_words_and_time_out(
    engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ocr import tesseract

    if engine == "tesserocr":
        pytest.importorskip("tesserocr")
    monkeypatch.setenv("SOHOA_OCR_ENGINE", engine)
    assert tesseract.engine() == engine
    page = upright(False)
    rec = tesseract.recognize(page, dpi=DPI, text_pdf=True)
    assert recall(rec.text) >= 0.97
    assert rec.pdf and rec.pdf.startswith(b"%PDF")
    assert rec.words[0].confidence > 50 and rec.words[0].line == 0
    with pytest.raises(tesseract.TesseractTimeout):
        tesseract.recognize(page, dpi=DPI, timeout=0.01)
    assert recall(tesseract.recognize(page, dpi=DPI, psm=6).text) >= 0.97  # usable after
