"""The searchable PDF of a component: page images (colour kept) under an invisible text layer.

Each page image goes in as a JPEG through img2pdf (no re-encoding by a PDF library); the
text layer is Tesseract's text-only PDF page of the same image, laid over it with pikepdf,
so every word sits where it was read.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import img2pdf
import pikepdf
from PIL import Image

JPEG_QUALITY = 80


@dataclass
class PdfPage:
    """An upright page image, encoded for the PDF, and Tesseract's text-only PDF page (or None).

    Pages hold encoded bytes, not decoded images, so a long dossier stays small in memory.
    """

    image: bytes
    text_pdf: bytes | None


def encode_page_image(image: Image.Image, dpi: int) -> bytes:
    """The page image as it goes into the PDF: JPEG, colour kept, resolution recorded."""
    buf = io.BytesIO()
    mode = "L" if image.mode == "L" else "RGB"
    image.convert(mode).save(buf, "JPEG", quality=JPEG_QUALITY, dpi=(dpi, dpi), optimize=True)
    return buf.getvalue()


def build_searchable_pdf(pages: list[PdfPage]) -> bytes:
    """One PDF with a page per image, each at its true size, with its text layer on top."""
    if not pages:
        raise ValueError("a PDF needs at least one page")
    base = img2pdf.convert([p.image for p in pages], rotation=img2pdf.Rotation.ifvalid)
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(base)) as pdf:
        pdf.docinfo["/Producer"] = "sohoa"
        for page, spec in zip(pdf.pages, pages, strict=True):
            if spec.text_pdf:
                with pikepdf.open(io.BytesIO(spec.text_pdf)) as text:
                    page.add_overlay(text.pages[0])
        pdf.save(out, min_version="1.4")  # the legal floor for an electronic copy
    return out.getvalue()
