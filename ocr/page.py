"""Read one page: find its orientation and skew, straighten it once, clean it, OCR it.

Large sheets (A3 and up: drawings) are read by their text regions only, and the image
Tesseract reads is capped in size, so that a drawing costs about what a text page does.
"""

from __future__ import annotations

import logging
import math
import resource
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import cv2
import numpy as np
from PIL import Image

from models.document import Code, PageResult, Word
from ocr.cleanup import clean_for_ocr, keep_regions, text_regions
from ocr.codes import decode_codes
from ocr.geometry import (
    blank_of_mask,
    ink_mask,
    shrink,
    straighten_array,
    straighten_pixels,
    to_gray,
)
from ocr.loader import LoadedPage
from ocr.orientation import find_orientation
from ocr.pdf import PdfPage, encode_page_image
from ocr.raster import PageImage
from ocr.tesseract import TesseractError, TesseractTimeout, recognize

log = logging.getLogger(__name__)

A4_SQ_IN = 8.27 * 11.69
# Square inches above which a scan is a large sheet: A3 is 2x A4; an A4 page skewed 20 deg
# on a canvas widened to hold it is 1.68x A4, and stays a text page.
LARGE_FORMAT_AREA = 1.8 * A4_SQ_IN
MAX_OCR_PIXELS = 18_000_000  # about A3 at 300 dpi; larger OCR images are downscaled
BESIDE_MAX_PIXELS = 40_000_000  # pages up to this encode beside the recognition (A2 at 300 dpi)


@dataclass
class PageOptions:
    lang: str = "vie"
    timeout: float = 120.0
    max_ocr_pixels: int = MAX_OCR_PIXELS
    bilevel: bool = False  # binarize the OCR image (Tesseract then skips its own Otsu)
    beside: bool = True  # codes and archival image in a thread beside the recognition


@dataclass
class OcrImage:
    """The image Tesseract reads, at `dpi`, and its scale relative to the upright page."""

    image: np.ndarray
    dpi: int
    scale: float
    regions: int = 0  # text regions kept on a large sheet (0: the whole page)


@dataclass
class StageTimes:
    """Seconds spent per stage of `read_page`, for the benchmark. Stages named in
    `overlapped` ran in a thread beside the recognition (their seconds are their own, not
    the page's: "wait" is the time the page then waited for them). `cpu["recognize"]`:
    the CPU seconds of the recognition (the `tesseract` process, or tesserocr in this
    thread), for the share of a page's CPU spent outside it."""

    seconds: dict[str, float] = field(default_factory=dict)
    overlapped: set[str] = field(default_factory=set)
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds, where measured

    def add(self, stage: str, since: float) -> float:
        now = time.perf_counter()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - since
        return now


def is_large_format(width: int, height: int, dpi: int) -> bool:
    """True for sheets well above A4 (A3, A2, A1, …)."""
    return width * height / (dpi * dpi) > LARGE_FORMAT_AREA


def ocr_image(
    upright: Image.Image | np.ndarray,
    dpi: int = 300,
    opts: PageOptions | None = None,
    *,
    large: bool | None = None,
) -> OcrImage:
    """The image Tesseract reads: grey, capped in size, cleaned (flat paper, no scanner
    edges, stretched contrast); on a large sheet only its text regions. `upright`: the
    upright page, or its grey copy as an array; `large`: whether it is a large sheet
    (default: judged by its size). The stored image keeps its colour."""
    opts = opts or PageOptions()
    gray = to_gray(upright)
    height, width = gray.shape
    if large is None:
        large = is_large_format(width, height, dpi)
    scale = min(1.0, math.sqrt(opts.max_ocr_pixels / max(1, gray.size)))
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    ocr_dpi = max(1, round(dpi * scale))
    clean = clean_for_ocr(gray, ocr_dpi, bilevel=opts.bilevel)
    if not large:
        return OcrImage(clean, ocr_dpi, scale)
    boxes = text_regions(clean, ocr_dpi)
    return OcrImage(keep_regions(clean, boxes), ocr_dpi, scale, len(boxes))


def _rescale(words: list[Word], scale: float) -> list[Word]:
    """Word boxes from OCR-image pixels back to upright-page pixels."""
    if scale == 1.0:
        return words
    f = 1.0 / scale
    return [
        replace(
            w,
            left=round(w.left * f),
            top=round(w.top * f),
            width=round(w.width * f),
            height=round(w.height * f),
        )
        for w in words
    ]


def _children_cpu() -> float:
    """CPU seconds of the child processes ended and waited for (the `tesseract` runs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def read_page(
    page: LoadedPage, index: int, opts: PageOptions, times: StageTimes | None = None
) -> tuple[PageResult, PdfPage]:
    """Turn the page upright, deskew it and OCR it. A timeout leaves the page without text.

    Only the grey copy is straightened on the way to Tesseract; the upright colour page
    (needed for its codes and the archival image) is made beside the recognition."""
    times = times or StageTimes()
    t = time.perf_counter()
    gray = np.asarray(page.image if page.image.mode == "L" else page.image.convert("L"))
    shrunk = shrink(gray)  # one small copy for the blank test and the orientation
    blank = blank_of_mask(ink_mask(shrunk[0]))
    t = times.add("blank", t)
    if blank:
        result = PageResult(
            index=index,
            rotation=0,
            skew=0.0,
            text="",
            width=page.image.width,
            height=page.image.height,
            dpi=page.dpi,
            blank=True,
        )
        pdf_page = PdfPage(encode_page_image(page.image, page.dpi), None)
        times.add("encode", t)
        return result, pdf_page
    orient = find_orientation(gray, dpi=page.dpi, lang=opts.lang, shrunk=shrunk)
    del shrunk
    t = times.add("orientation", t)
    upright_gray = straighten_array(gray, orient.rotation, orient.skew)
    del gray
    t = times.add("straighten", t)
    large = page.image.width * page.image.height > BESIDE_MAX_PIXELS
    # a grey scan's upright page is the array just made; a colour one is straightened apart
    stored = (Image.fromarray(upright_gray), upright_gray) if page.image.mode == "L" else None
    turn = (orient.rotation, orient.skew)
    result = PageResult(
        index=index,
        rotation=orient.rotation,
        skew=orient.skew,
        text="",
        width=upright_gray.shape[1],
        height=upright_gray.shape[0],
        dpi=page.dpi,
    )
    text_pdf = None
    # judged on the scan, not on the upright canvas: straightening a skewed A4 scan widens
    # its canvas past the large-sheet area, and its text is no drawing's
    sheet = is_large_format(page.image.width, page.image.height, page.dpi)
    ocr = ocr_image(upright_gray, page.dpi, opts, large=sheet)
    del upright_gray
    t = times.add("cleanup", t)
    beside = None
    if opts.beside and not large:  # from here on, so that it slows no step before this
        beside = _BESIDE.submit(_codes_and_image, page, turn, index, stored, True)
    cpu = time.thread_time() + _children_cpu()
    try:
        psm = 11 if ocr.regions else 3  # sparse text on drawings
        rec = recognize(
            ocr.image, lang=opts.lang, psm=psm, dpi=ocr.dpi, timeout=opts.timeout, text_pdf=True
        )
        result.words, result.text, text_pdf = _rescale(rec.words, ocr.scale), rec.text, rec.pdf
    except TesseractTimeout as exc:
        log.warning("page %d: %s; kept without text", index, exc)
        result.timed_out = True
        result.warnings.append(str(exc))
    except TesseractError as exc:
        log.warning("page %d: OCR failed: %s", index, exc)
        result.warnings.append(f"OCR failed: {exc}")
    del ocr
    times.cpu["recognize"] = time.thread_time() + _children_cpu() - cpu
    t = times.add("recognize", t)
    if beside is None:  # a large sheet (one full-size copy at a time), or asked to stay serial
        result.codes, image, spent = _codes_and_image(page, turn, index, stored, not large)
    else:
        result.codes, image, spent = beside.result()
        times.overlapped.update(spent)  # their names
        t = times.add("wait", t)
    for stage, seconds in spent.items():
        times.seconds[stage] = times.seconds.get(stage, 0.0) + seconds
    return result, PdfPage(image, text_pdf)


# Codes and the archival image are worked out beside the recognition: Tesseract runs in its
# own process (or in tesserocr without the GIL), so their 0.1 to 0.3 s leave the page's
# wall time when a core is free; a sheet over BESIDE_MAX_PIXELS (A1) does them after the
# recognition, so that its full-size copies are not all in memory at once.
_BESIDE = ThreadPoolExecutor(max_workers=4, thread_name_prefix="beside-ocr")


def _codes_and_image(
    page: LoadedPage,
    turn: tuple[int, float],
    index: int,
    stored: tuple[Image.Image, np.ndarray] | None,
    keep: bool,
) -> tuple[list[Code], PageImage, dict[str, float]]:
    """The page's codes and archival image from its upright copy (`stored`, or the scan
    turned by `turn`: rotation, skew), and the seconds each step took. `keep`: hand the
    warped pixels to the encoder (one copy out of Pillow fewer; not on a large sheet)."""
    t0 = time.perf_counter()
    if stored is None:
        upright, pixels = straighten_pixels(page.image, *turn, keep=keep)
    else:
        upright, pixels = stored
    t1 = time.perf_counter()
    codes = read_codes(upright, index)
    t2 = time.perf_counter()
    image = encode_page_image(upright, page.dpi, pixels)
    spent = {"codes": t2 - t1, "encode": time.perf_counter() - t2}
    if stored is None:
        spent["upright"] = t1 - t0
    return codes, image, spent


def read_codes(upright: Image.Image, index: int) -> list[Code]:
    """QR codes and barcodes on the upright page; a decoder failure never fails the page."""
    try:
        return decode_codes(upright)
    except Exception as exc:  # noqa: BLE001 - codes are a bonus over OCR, never a blocker
        log.warning("page %d: code decoding failed: %s", index, type(exc).__name__)
        return []


def read_pages(
    pages: Iterator[LoadedPage], opts: PageOptions, workers: int
) -> list[tuple[PageResult, PdfPage]]:
    """Read pages in parallel, decoding at most `workers + 1` pages at once; finished pages
    are kept only as encoded bytes. Threads suffice: Tesseract runs as its own process and
    OpenCV and numpy release the GIL for the image work."""
    results: list[Future[tuple[PageResult, PdfPage]]] = []
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="page") as pool:
        for index, page in enumerate(pages):
            while sum(not f.done() for f in results) > workers:
                time.sleep(0.01)
            results.append(pool.submit(read_page, page, index, opts))
    return [f.result() for f in results]
