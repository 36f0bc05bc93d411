"""Read one page: find its orientation and skew, straighten it once, OCR it."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from PIL import Image

from models.document import PageResult
from ocr.geometry import is_blank, straighten
from ocr.loader import LoadedPage
from ocr.orientation import find_orientation
from ocr.pdf import PdfPage, encode_page_image
from ocr.tesseract import TesseractError, TesseractTimeout, recognize

log = logging.getLogger(__name__)


@dataclass
class PageOptions:
    lang: str = "vie"
    timeout: float = 120.0


def ocr_image(upright: Image.Image) -> Image.Image:
    """The image Tesseract reads: grey, contrast stretched. The stored image keeps its colour."""
    gray = np.asarray(upright.convert("L"))
    cdf = np.cumsum(np.bincount(gray.ravel(), minlength=256))
    lo, hi = np.searchsorted(cdf, (0.01 * cdf[-1], 0.99 * cdf[-1]))
    if hi - lo < 16:
        return Image.fromarray(gray)
    lut = np.clip((np.arange(256, dtype=np.float32) - lo) * (255.0 / (hi - lo)), 0, 255)
    return Image.fromarray(lut.astype(np.uint8)[gray])


def read_page(page: LoadedPage, index: int, opts: PageOptions) -> tuple[PageResult, PdfPage]:
    """Turn the page upright, deskew it and OCR it. A timeout leaves the page without text."""
    gray = np.asarray(page.image.convert("L"))
    if is_blank(gray):
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
        return result, PdfPage(encode_page_image(page.image, page.dpi), None)
    orient = find_orientation(gray, dpi=page.dpi, lang=opts.lang)
    upright = straighten(page.image, orient.rotation, orient.skew)
    result = PageResult(
        index=index,
        rotation=orient.rotation,
        skew=orient.skew,
        text="",
        width=upright.width,
        height=upright.height,
        dpi=page.dpi,
    )
    text_pdf = None
    try:
        rec = recognize(
            ocr_image(upright), lang=opts.lang, dpi=page.dpi, timeout=opts.timeout, text_pdf=True
        )
        result.words, result.text, text_pdf = rec.words, rec.text, rec.pdf
    except TesseractTimeout as exc:
        log.warning("page %d: %s; kept without text", index, exc)
        result.timed_out = True
        result.warnings.append(str(exc))
    except TesseractError as exc:
        log.warning("page %d: OCR failed: %s", index, exc)
        result.warnings.append(f"OCR failed: {exc}")
    return result, PdfPage(encode_page_image(upright, page.dpi), text_pdf)


def read_pages(
    pages: Iterator[LoadedPage], opts: PageOptions, workers: int
) -> list[tuple[PageResult, PdfPage]]:
    """Read pages in parallel (Tesseract runs as a process, so threads suffice), decoding
    at most `workers + 1` pages at once; finished pages are kept only as encoded bytes."""
    results: list[Future[tuple[PageResult, PdfPage]]] = []
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="page") as pool:
        for index, page in enumerate(pages):
            while sum(not f.done() for f in results) > workers:
                time.sleep(0.01)
            results.append(pool.submit(read_page, page, index, opts))
    return [f.result() for f in results]
