"""Clean an upright page for OCR: flatten the paper, drop scanner edges, stretch, despeckle,
binarize.

Only the image Tesseract reads goes through here; the stored image keeps its colour.

The paper is estimated on a small copy by a grey closing (dark strokes thinner than the
kernel vanish, so what is left is the paper with its shadows and the large dark areas:
scanner edges, black borders, punched holes). Dividing the page by that estimate makes
the paper uniformly white: a shadow falling over the text is lifted, and a black border
becomes paper, since it is its own background.
"""

from __future__ import annotations

import cv2
import numpy as np

from ocr.geometry import to_gray

_WORK_DPI = 50  # resolution of the copy the paper is estimated on
_CLOSE_MM = 8.0  # strokes and letters thinner than this are ink, not paper
_INK_PERCENTILE = 2.0  # grey level of the darkest ink, as a percentile of the page
_MIN_RANGE = 24  # grey levels between ink and paper below which nothing is stretched
_DARK_PAPER = 0.35  # paper darker than this fraction of the page's is a border, not shade
_EDGE_BAND = 0.25  # a dark band touching an edge along this fraction of a side is a border
_DENOISE_MIN_DPI = 150  # below, strokes are thin enough for a 3x3 median to break them


def _paper_small(gray: np.ndarray, dpi: int) -> tuple[np.ndarray, np.ndarray]:
    """A copy of the page at about `_WORK_DPI` and its paper (the copy without its ink)."""
    h, w = gray.shape
    k = max(1, dpi // _WORK_DPI)
    if min(h, w) < 2 * k:
        k = 1
    # an integer factor on a cropped multiple takes OpenCV's fast path for INTER_AREA
    small = cv2.resize(
        gray[: h // k * k, : w // k * k], (w // k, h // k), interpolation=cv2.INTER_AREA
    )
    side = max(3, round(_CLOSE_MM / 25.4 * dpi / k) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (side, side))
    paper = cv2.morphologyEx(small, cv2.MORPH_CLOSE, kernel, borderType=cv2.BORDER_REPLICATE)
    return small, cv2.blur(paper, (3, 3))


def paper_background(gray: np.ndarray, dpi: int) -> np.ndarray:
    """The paper without its ink, at full size: shading, shadows and dark borders kept."""
    h, w = gray.shape
    return cv2.resize(_paper_small(gray, dpi)[1], (w, h), interpolation=cv2.INTER_LINEAR)


def flatten(gray: np.ndarray, dpi: int) -> np.ndarray:
    """Page divided by its paper: white, even paper; shadows lifted; black borders removed."""
    paper = paper_background(gray, dpi)
    return cv2.divide(gray, np.maximum(paper, 1), scale=255)


def contrast_lut(flat: np.ndarray) -> np.ndarray | None:
    """Look-up table mapping the darkest ink of a flattened page to black and its paper to
    white, or None when the page has too little contrast to stretch."""
    hist = np.bincount(flat.ravel(), minlength=256).cumsum()
    lo = int(np.searchsorted(hist, _INK_PERCENTILE / 100 * hist[-1]))
    hi = int(np.searchsorted(hist, 0.5 * hist[-1]))  # after flattening the median is paper
    if hi - lo < _MIN_RANGE:
        return None
    lut = np.clip((np.arange(256, dtype=np.float32) - lo) * (255.0 / (hi - lo)), 0, 255)
    return lut.astype(np.uint8)


def stretch_contrast(flat: np.ndarray) -> np.ndarray:
    """`contrast_lut` applied to a flattened page."""
    lut = contrast_lut(flat[::4, ::4])
    return flat if lut is None else cv2.LUT(flat, lut)


def _dark_areas(
    small: np.ndarray, small_paper: np.ndarray, size: tuple[int, int]
) -> np.ndarray | None:
    """Full-size mask of the black borders and scanner edges: where the paper itself is
    dark, and dark bands along an image edge (too thin to count as paper), widened by a
    pixel of the small copy to cover the blurred edge of the paper estimate; None when
    there is none (no full-size pass then)."""
    level = float(np.percentile(small_paper, 90))
    dark = small_paper < _DARK_PAPER * level
    n, labels, stats, _ = cv2.connectedComponentsWithStats(
        (small < _DARK_PAPER * level).view(np.uint8), connectivity=8
    )
    h, w = small.shape
    x, y, bw, bh = (stats[:, i] for i in range(4))
    on_edge = (x == 0) | (y == 0) | (x + bw == w) | (y + bh == h)
    band = on_edge & ((bw >= _EDGE_BAND * w) | (bh >= _EDGE_BAND * h))
    band[0] = False
    if band.any():
        dark |= band[labels]
    if not dark.any():
        return None
    grown = cv2.dilate(dark.view(np.uint8), np.ones((3, 3), np.uint8))
    return cv2.resize(grown, size, interpolation=cv2.INTER_NEAREST).view(bool)


def binarize(gray: np.ndarray) -> np.ndarray:
    """Black ink on white (0/255) by Otsu's threshold, meant for a flattened page."""
    _, out = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return out


def clean_for_ocr(image: np.ndarray, dpi: int, *, bilevel: bool = False) -> np.ndarray:
    """The grey (or, with `bilevel`, black-and-white) image Tesseract should read."""
    gray = to_gray(image)
    h, w = gray.shape
    small, small_paper = _paper_small(gray, dpi)
    lut = contrast_lut(cv2.divide(small, np.maximum(small_paper, 1), scale=255))
    paper = cv2.resize(np.maximum(small_paper, 1), (w, h), interpolation=cv2.INTER_LINEAR)
    out = cv2.divide(gray, paper, scale=255)
    if lut is not None:
        out = cv2.LUT(out, lut)
    if dpi >= _DENOISE_MIN_DPI:  # photocopy specks and grain: Tesseract garbles whole words
        out = cv2.medianBlur(out, 3)
    dark = _dark_areas(small, small_paper, (w, h))
    if dark is not None:
        out[dark] = 255
    return binarize(out) if bilevel else out


Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels

_REGION_DPI = 100  # resolution text regions are looked for at
_CHAR_MM = (1.2, 12.0)  # height range of a character
_CHAR_MAX_WIDTH_MM = 15.0
_LINE_ASPECT = 8.0  # a component longer than this times its thickness is a drawn line
_JOIN_MM = (4.0, 1.0)  # gap across which characters join into one text region
_PAD_MM = 1.0


def text_regions(gray: np.ndarray, dpi: int) -> list[Box]:
    """Boxes around the text of a drawing (labels, title block) on a clean grey page:
    character-sized ink components joined into lines; walls, frames, dimension and
    hatching lines are left out."""
    h, w = gray.shape
    k = max(1, dpi // _REGION_DPI)
    if min(h, w) < k:
        k = 1
    # an integer factor on a cropped multiple takes OpenCV's fast path (~25x quicker)
    small = cv2.resize(
        gray[: h // k * k, : w // k * k], (w // k, h // k), interpolation=cv2.INTER_AREA
    )
    _, ink = cv2.threshold(small, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    mm = dpi / k / 25.4  # pixels of the small copy per millimetre
    cw, ch = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    area = stats[:, cv2.CC_STAT_AREA]
    long_side, short_side = np.maximum(cw, ch), np.maximum(1, np.minimum(cw, ch))
    is_char = (
        (ch >= _CHAR_MM[0] * mm)
        & (ch <= _CHAR_MM[1] * mm)
        & (cw <= _CHAR_MAX_WIDTH_MM * mm)
        & (long_side <= _LINE_ASPECT * short_side)
        & (area >= 0.15 * cw * ch)  # not a thin diagonal (hatching)
    )
    # dots and diacritics are below the character height: keep small blobs near characters
    is_small = (ch < _CHAR_MM[0] * mm) & (cw < _CHAR_MM[0] * mm * 2)
    is_char[0] = is_small[0] = False
    chars = is_char[labels].view(np.uint8)
    join = cv2.getStructuringElement(
        cv2.MORPH_RECT, (max(1, round(_JOIN_MM[0] * mm)), max(1, round(_JOIN_MM[1] * mm)))
    )
    lines = cv2.dilate(chars, join)
    chars |= is_small[labels].view(np.uint8) & lines
    n, line_of = cv2.connectedComponents(lines, connectivity=8)
    # each region is the box of its characters (not of the widened line, which could
    # reach a frame line next to the text)
    ys, xs = np.nonzero(chars)
    ids = line_of[ys, xs]
    x0 = np.full(n, w, np.int64)
    y0 = np.full(n, h, np.int64)
    x1 = np.zeros(n, np.int64)
    y1 = np.zeros(n, np.int64)
    np.minimum.at(x0, ids, xs)
    np.minimum.at(y0, ids, ys)
    np.maximum.at(x1, ids, xs + 1)
    np.maximum.at(y1, ids, ys + 1)
    pad = round(_PAD_MM * mm)
    return [
        (
            max(0, int(x0[i] - pad) * k),
            max(0, int(y0[i] - pad) * k),
            min(w, int(x1[i] + pad) * k),
            min(h, int(y1[i] + pad) * k),
        )
        for i in range(1, n)
        if x1[i] > x0[i]
    ]


def keep_regions(gray: np.ndarray, boxes: list[Box]) -> np.ndarray:
    """The page with everything outside `boxes` painted white."""
    out = np.full_like(gray, 255)
    for x0, y0, x1, y1 in boxes:
        out[y0:y1, x0:x1] = gray[y0:y1, x0:x1]
    return out
