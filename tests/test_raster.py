"""Page images for the archival copy: G4 coding, ink layers, and the banded path of big sheets."""

from __future__ import annotations

import io
import subprocess

import cv2
import numpy as np
import pikepdf
import pytest
from PIL import Image, ImageDraw

from ocr import raster
from ocr.pdf import PdfPage, build_searchable_pdf
from ocr.raster import PageImage, encode_g4, encode_page_image
from tests.pages import DECISION, render_page


def rendered(image: PageImage) -> np.ndarray:
    """The page as a viewer shows it (poppler, at the page's dpi), as RGB."""
    out = subprocess.run(
        ["pdftoppm", "-r", str(image.dpi), "-png", "-"],
        input=build_searchable_pdf([PdfPage(image, None)]),
        capture_output=True,
        check=True,
    ).stdout
    return np.asarray(Image.open(io.BytesIO(out)).convert("RGB"))


def layers(image: PageImage) -> dict[str, np.ndarray]:
    """Each image of the page's PDF decoded by pikepdf: a mask as True where it paints."""
    out = {}
    with pikepdf.open(io.BytesIO(build_searchable_pdf([PdfPage(image, None)]))) as pdf:
        for name, obj in pdf.pages[0].Resources.XObject.items():
            pixels = np.asarray(pikepdf.PdfImage(obj).as_pil_image())
            out[name] = ~pixels if obj.get("/ImageMask") else pixels
    return out


@pytest.fixture(scope="module")
def ink() -> np.ndarray:
    """A bilevel pattern with text, thin lines, holes and a solid block (True = ink)."""
    img = Image.new("L", (400, 300), 255)
    draw = ImageDraw.Draw(img)
    draw.text((10, 10), "Số: 123/QĐ-UBND", fill=0)
    draw.rectangle((50, 60, 350, 200), outline=0, width=3)
    draw.ellipse((100, 100, 200, 190), fill=0)
    draw.line((0, 299, 399, 250), fill=0, width=1)
    return np.asarray(img) < 128


def test_g4_page_is_lossless(ink: np.ndarray) -> None:
    page = PageImage("g4", ink.shape[1], ink.shape[0], 100, encode_g4(ink), gray=True)
    page.g4_ink_black = True
    assert np.array_equal(layers(page)["/Im0"] == 0, ink)  # ink decodes to 0: black
    shown = rendered(page).max(axis=2) < 128  # a viewer may shift an edge by a pixel
    grow = np.ones((3, 3), np.uint8)
    assert (shown <= cv2.dilate(ink.view(np.uint8), grow).astype(bool)).all()
    assert (cv2.erode(ink.view(np.uint8), grow).astype(bool) <= shown).all()


def test_g4_codes_ink_as_black_runs_and_old_images_still_render(ink: np.ndarray) -> None:
    """New data codes ink as the fax black runs (/BlackIs1 false, the usual convention);
    page parts stored before coded paper as black runs and must render the same."""
    h, w = ink.shape
    new = PageImage("g4", w, h, 100, encode_g4(ink), gray=True, g4_ink_black=True)
    old = PageImage("g4", w, h, 100, encode_g4(~ink), gray=True)  # as stored before
    assert not old.g4_ink_black  # the default: what a stored part without the field was
    with pikepdf.open(io.BytesIO(build_searchable_pdf([PdfPage(new, None)]))) as pdf:
        parms = pdf.pages[0].Resources.XObject.Im0.DecodeParms
        assert parms.get("/BlackIs1", False) is False and parms.K == -1
    assert np.array_equal(rendered(new), rendered(old))
    # paper as the white runs: the usual coding is also the smaller one
    assert len(new.data) < len(old.data)


def test_g4_of_a_view_is_the_g4_of_its_copy(ink: np.ndarray) -> None:
    """A crop of a larger mask (strided rows, bool or 0/255) codes as its own copy."""
    mask = np.where(ink, 255, 0).astype(np.uint8)
    view = mask[40:220, 30:370]
    assert encode_g4(view) == encode_g4(np.ascontiguousarray(view)) == encode_g4(view > 0)
    data, box = raster.encode_g4_box(mask)
    x, y, bw, bh = box
    assert data == encode_g4(mask[y : y + bh, x : x + bw])
    assert raster.encode_g4_box(np.zeros((5, 5), np.uint8))[1] == (0, 0, 1, 1)


def coloured_page() -> Image.Image:
    """Black text, a red stamp and a blue pen stroke at 150 dpi."""
    img = render_page(DECISION[:8], dpi=150)
    ImageDraw.Draw(img).line((200, 600, 700, 640), fill=(20, 40, 170), width=4)
    return img


def test_mrc_masks_hold_the_dark_ink_of_each_colour() -> None:
    """Dark pixels (darker than the page's Otsu threshold) go to exactly one mask:
    colourless ink to the black one, red ink to the red one, other colours to the third;
    paper and light pixels to none. Pixels within 2 levels of a limit may go either way."""
    img = coloured_page()
    enc = encode_page_image(img, 150)
    assert enc.kind == "mrc" and len(enc.colour_layers) == 2
    rgb = np.asarray(img).astype(int)
    gray = cv2.cvtColor(np.asarray(img), cv2.COLOR_RGB2GRAY).astype(int)
    otsu, _ = cv2.threshold(gray[::2, ::2].astype(np.uint8), 0, 255, cv2.THRESH_OTSU)
    limit = min(otsu, 160)
    chroma = rgb.max(axis=2) - rgb.min(axis=2)
    plain, coloured = chroma <= raster.INK_MAX_CHROMA - 2, chroma > raster.INK_MAX_CHROMA + 2
    reddish = rgb[..., 0] >= rgb[..., 1:].max(axis=2)
    dark = gray < limit - 2
    decoded = layers(enc)
    got = {}
    boxes = [*enc.colour_boxes, enc.ink_box]
    for name, (x, y, w, h) in zip(("/Fg0", "/Fg1", "/Fg2"), boxes, strict=True):
        got[name] = np.zeros(gray.shape, bool)
        got[name][y : y + h, x : x + w] = decoded[name]
    red, other = ("/Fg0", "/Fg1") if enc.colour_layers[0][1][0] > 150 else ("/Fg1", "/Fg0")
    black = got["/Fg2"]
    for want, mask in ((dark & plain, black), (dark & coloured & reddish, got[red]),
                       (dark & coloured & ~reddish, got[other])):  # fmt: skip
        assert want.sum() > 100 and (mask[want]).all()
    assert not (black & got[red]).any() and not (got[red] & got[other]).any()
    assert not (black & coloured).any() and not ((got[red] | got[other]) & plain).any()
    assert not ((black | got[red] | got[other]) & (gray >= limit + 2)).any()


@pytest.mark.parametrize("grey", [False, True])
def test_a_big_sheet_worked_in_bands_gives_the_same_image(
    monkeypatch: pytest.MonkeyPatch, grey: bool
) -> None:
    """A sheet too big to convert whole (A1) is read a band of rows at a time; the result
    is the same as for the page converted whole."""
    img = coloured_page()
    if grey:
        img = img.convert("L")
    whole = encode_page_image(img, 150, np.asarray(img) if not grey else None)
    monkeypatch.setattr(raster, "WHOLE_PIXELS", 1000)
    monkeypatch.setattr(raster, "BAND_ROWS", 36)  # bands that do not divide the page
    banded = encode_page_image(img, 150)
    assert banded == whole


def test_grey_photo_in_rgb_is_one_grey_jpeg() -> None:
    """A photograph-like page with no colour, scanned as RGB, is stored as a grey JPEG
    (one component, as its DeviceGray colour space says)."""
    rng = np.random.default_rng(0)
    grey = rng.integers(40, 220, (300, 200), np.uint8)
    enc = encode_page_image(Image.fromarray(np.dstack([grey] * 3)), 100)
    assert enc.kind == "jpeg" and enc.gray
    assert Image.open(io.BytesIO(enc.data)).mode == "L"
    colour = encode_page_image(Image.fromarray(np.dstack([grey, grey, grey // 2])), 100)
    assert colour.kind == "jpeg" and not colour.gray
    assert Image.open(io.BytesIO(colour.data)).mode == "RGB"


def test_an_rgb_scan_of_a_bilevel_page_is_g4() -> None:
    img = Image.new("RGB", (200, 150), "white")
    ImageDraw.Draw(img).rectangle((20, 20, 120, 80), fill="black")
    enc = encode_page_image(img, 100)
    assert enc.kind == "g4" and enc.gray
    assert (rendered(enc)[20:81, 20:121] < 128).all()
