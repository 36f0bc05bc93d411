"""Skew, blank pages, straightening and orientation on generated Vietnamese pages.

Orientation runs the real Tesseract (OSD and recognition), so these tests also catch a
change of Tesseract's behaviour on our pages.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from PIL import Image, ImageFilter

from ocr import tesseract
from ocr.geometry import detect_skew, is_blank, straighten, straighten_array, to_gray
from ocr.orientation import Orientation, find_orientation
from tests.pages import DECISION, distort, render_page

METHODS = {"osd", "confidence-check", "osd+confidence-check"}


@functools.cache
def page(dpi: int = 300, color: bool = True, font_name: str = "serif") -> Image.Image:
    img = render_page(DECISION, dpi=dpi, font_name=font_name, color=color)
    return img if color else img.convert("L")


def degraded(img: Image.Image) -> Image.Image:
    """Blurred, washed-out print: ink at grey 110 on paper at grey 230."""
    img = img.filter(ImageFilter.GaussianBlur(1.2))
    return Image.eval(img, lambda v: 110 + v * 120 // 255)


def gray(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("L"))


# ---------------------------------------------------------------- skew

# (skew, rotation, dpi, colour, font, noise): angles spread over +-15 degrees
SKEW_CASES = [
    (-14.7, 0, 300, True, "serif", 0),
    (-12.35, 90, 200, False, "sans", 20),
    (-9.8, 180, 300, False, "serif", 40),
    (-7.25, 270, 200, True, "serif", 0),
    (-4.6, 0, 200, True, "sans", 40),
    (-2.15, 90, 300, True, "serif", 20),
    (-0.4, 0, 300, False, "sans", 0),
    (0.0, 180, 200, True, "serif", 40),
    (0.85, 270, 300, True, "sans", 20),
    (3.3, 0, 300, True, "serif", 40),
    (5.95, 90, 200, False, "serif", 0),
    (8.5, 180, 300, True, "sans", 0),
    (11.15, 270, 300, False, "serif", 40),
    (13.6, 0, 200, True, "sans", 20),
    (15.0, 90, 300, True, "serif", 0),
]


@functools.cache
def skew_error(case: tuple) -> float:
    skew, rotation, dpi, color, font, noise = case
    img = distort(page(dpi, color, font), rotation=rotation, skew=skew, noise=noise, seed=7)
    return detect_skew(np.asarray(img)) - skew  # colour arrays are accepted as they are


@pytest.mark.parametrize("case", SKEW_CASES, ids=lambda c: f"{c[0]}deg-r{c[1]}-{c[2]}dpi")
def test_skew_of_each_page(case: tuple) -> None:
    assert abs(skew_error(case)) < 0.2


def test_skew_mean_error() -> None:
    errors = [abs(skew_error(c)) for c in SKEW_CASES]
    assert np.mean(errors) < 0.1, errors


def test_skew_is_modulo_quarter_turn_and_zero_without_lines() -> None:
    img = distort(page(), skew=-44.0)  # near the edge of [-45, 45)
    assert abs(detect_skew(gray(img)) + 44.0) < 0.2
    assert abs(detect_skew(gray(distort(page(), skew=50.0))) + 40.0) < 0.2
    blank = distort(Image.new("L", (1654, 2339), 255), noise=40)
    assert detect_skew(gray(blank)) == 0.0


# ---------------------------------------------------------------- blank pages


def scanner_edges(a: np.ndarray) -> np.ndarray:
    """A dark scanner lid on the left, a shadow ramp next to it, a dark band at the bottom."""
    a = a.copy()
    a[:, :70] = 25
    a[:, 70:190] = np.minimum(a[:, 70:190], np.linspace(60, 255, 120).astype(np.uint8))
    a[-45:, :] = 40
    return a


def test_blank_page_with_noise_and_scanner_edges() -> None:
    white = distort(Image.new("L", (2480, 3508), 255), noise=40, seed=3)
    noisy = scanner_edges(gray(white))
    assert is_blank(noisy)
    assert detect_skew(noisy) == 0.0
    orientation = find_orientation(noisy)
    assert (orientation.rotation, orientation.confidence) == (0, 0.0)


def test_text_pages_are_not_blank() -> None:
    assert not is_blank(gray(distort(page(200, color=False), skew=3, noise=40)))
    two_lines = render_page(DECISION[:2], dpi=200, color=False)  # two header lines only
    assert not is_blank(scanner_edges(gray(distort(two_lines, noise=20))))


# ---------------------------------------------------------------- orientation

# (rotation, skew, dpi, variant)
ORIENTATION_CASES = [
    (0, 8.0, 300, "clean"),
    (90, -8.0, 300, "clean"),
    (180, 7.5, 300, "clean"),
    (270, -8.5, 300, "clean"),
    (0, -8.0, 300, "degraded"),
    (90, 8.0, 300, "noisy"),
    (180, -8.0, 300, "degraded"),
    (270, 8.0, 300, "degraded"),
    (0, 8.0, 200, "noisy"),
    (90, 7.0, 200, "clean"),
    (180, -7.5, 200, "degraded"),
    (270, -8.0, 200, "noisy"),
]


def scan(rotation: int, skew: float, dpi: int, variant: str) -> Image.Image:
    img = page(dpi, color=False)  # grey: a third of the work of soiling a colour page
    if variant == "degraded":
        img = degraded(img)
    noise = 0 if variant == "clean" else 40
    return distort(img, rotation=rotation, skew=skew, noise=noise, seed=rotation)


@pytest.mark.parametrize(
    "case", ORIENTATION_CASES, ids=lambda c: f"r{c[0]}-{c[1]}deg-{c[2]}dpi-{c[3]}"
)
def test_orientation(case: tuple) -> None:
    rotation, skew, dpi, variant = case
    found = find_orientation(gray(scan(*case)), dpi=dpi)
    assert isinstance(found, Orientation)
    assert found.rotation == rotation, found
    assert abs(found.skew - skew) < 0.2, found
    assert found.method in METHODS
    assert 0.0 < found.confidence <= 1.0


def test_confidence_check_overrules_osd_that_contradicts_the_lines(monkeypatch) -> None:
    """OSD sure of a quarter turn the text lines rule out is not believed."""
    monkeypatch.setattr(tesseract, "osd", lambda *a, **k: (90, 40.0))
    found = find_orientation(gray(scan(180, 6.0, 300, "noisy")))
    assert (found.rotation, found.method) == (180, "confidence-check")


def test_orientation_without_osd(monkeypatch) -> None:
    def fail(*a, **k):
        raise tesseract.TesseractError("orientation detection found no text")

    monkeypatch.setattr(tesseract, "osd", fail)
    found = find_orientation(gray(scan(270, -5.0, 200, "degraded")), dpi=200)
    assert (found.rotation, found.method) == (270, "confidence-check")


# ---------------------------------------------------------------- straighten


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_straighten_makes_the_page_upright_with_white_corners(mode: str) -> None:
    turned = scan(90, 6.5, 300, "clean").convert(mode)
    found = find_orientation(gray(turned))
    upright = straighten(turned, found.rotation, found.skew)
    assert upright.mode == mode
    white = (255, 255, 255) if mode == "RGB" else 255
    w, h = upright.size
    for xy in [(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1), (w // 2, 1)]:
        assert upright.getpixel(xy) == white, xy
    # content upright: portrait, no skew left, and orientation 0
    assert h > w
    assert abs(detect_skew(gray(upright))) < 0.2
    again = find_orientation(gray(upright))
    assert again.rotation == 0, again


def test_straighten_is_one_rotation_by_rotation_minus_skew() -> None:
    img = page(200)
    assert straighten(img, 0, 0.0).size == img.size
    assert straighten(distort(img, rotation=270), 270, 0.0).size == img.size
    turned = distort(img, rotation=180, skew=-4.0)
    upright = straighten(turned, 180, -4.0)
    # one rotation by (180 + 4) degrees counter-clockwise, expanded
    assert upright.size == turned.rotate(184.0, expand=True).size
    assert to_gray(np.asarray(upright)).shape == (upright.height, upright.width)


@pytest.mark.parametrize(("rotation", "skew"), [(0, 0.0), (90, 0.0), (270, 0.0), (180, -4.0)])
def test_straightening_the_grey_copy_gives_the_grey_of_the_straightened_page(
    rotation: int, skew: float
) -> None:
    """read_page straightens only the grey copy for Tesseract and the colour page apart:
    both must land on the same upright canvas, pixel for pixel (rounding aside)."""
    turned = distort(page(200), rotation=rotation, skew=skew)
    colour = straighten(turned, rotation, skew)
    grey = straighten_array(gray(turned), rotation, skew)
    assert grey.shape == (colour.height, colour.width)
    diff = np.abs(grey.astype(int) - gray(colour).astype(int))
    assert diff.max() <= 1
    if skew == 0.0:  # a quarter turn is a transpose: exact
        assert diff.max() == 0
    rgb = straighten_array(np.asarray(turned), rotation, skew)
    assert np.array_equal(rgb, np.asarray(colour))


# ---------------------------------------------------------------- cards and drawings alone


@functools.cache
def _eval_pages() -> list[tuple[str, Image.Image, int]]:
    """Pages of the classification benchmark (bench/classify_eval.py, its seed: other fonts,
    stamps, photocopy noise) that a reading check summing raw confidences turned: chip ID
    cards scanned alone (small landscape images at 400 dpi) and a landscape A3 drawing with
    a ruled title block."""
    from bench.classify_eval import EVAL_SEED, rendered_pages
    from classify.corpus import generate

    samples = generate(10, EVAL_SEED)
    pages = []
    for n in (6, 8, 48):
        for img, dpi in rendered_pages(samples[n], EVAL_SEED + n)[:1]:
            pages.append((samples[n].code, img, dpi))
    return pages


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_cards_and_drawings_alone_are_not_turned(rotation: int) -> None:
    """An ID card scanned alone and a landscape drawing were turned by a quarter turn or
    upside down (their text lost, the component classified `khac`) when the reading check
    summed the confidences of whatever Tesseract made of each rotation."""
    for code, img, dpi in _eval_pages():
        found = find_orientation(gray(distort(img, rotation=rotation)), dpi=dpi)
        assert found.rotation == rotation, (code, found)


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_a_stamp_over_a_drawings_lines_does_not_decide_the_orientation(rotation: int) -> None:
    """The densest ink of this landscape drawing (the benchmark's check seed, 778) is a red
    stamp over wall lines, where Tesseract reads a word or two a quarter turn off and
    nothing upright: a weak reading there must not decide; the next region (the title
    block) does."""
    from bench.classify_eval import rendered_pages
    from classify.corpus import generate

    sample = generate(10, 778)[40]
    (img, dpi), *_ = rendered_pages(sample, 778 + 40)
    assert sample.code == "ban_ve"
    found = find_orientation(gray(distort(img, rotation=rotation)), dpi=dpi)
    assert found.rotation == rotation, found


@pytest.mark.parametrize("rotation", [90, 180])
def test_a_qr_code_denser_than_the_text_does_not_decide_the_orientation(rotation: int) -> None:
    """The densest ink on an ID card scan is its QR code, which reads as nothing either way
    up: the reading check must then look at the text lines instead of calling a tie."""
    import zxingcpp

    card = render_page(
        ["CĂN CƯỚC CÔNG DÂN", "Số / No.: 079203012345", "Họ và tên / Full name: NGUYỄN VĂN AN"],
        dpi=200,
        font_pt=11,
        color=False,
    )
    code = zxingcpp.create_barcode(
        "079203012345|123456789|Nguyễn Văn An", zxingcpp.BarcodeFormat.QRCode
    )
    qr = Image.fromarray(np.array(code.to_image(scale=6))).convert("RGB")
    card.paste(qr, (card.width - qr.width - 150, 1000))
    gray = np.asarray(distort(card, rotation=rotation, skew=3.0).convert("L"))
    assert find_orientation(gray, dpi=200).rotation == rotation
