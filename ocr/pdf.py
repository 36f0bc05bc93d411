"""The archival PDF of a component: PDF/A-2b, page images under an invisible text layer.

Each page is drawn from its encoded image (`ocr.raster`: CCITT G4, mixed raster content or
JPEG, written as is, never re-encoded by a PDF library) at its true size; Tesseract's
text-only PDF page of the same image is laid over it with pikepdf, so every word sits where
it was read. `ocr.pdfa` then makes the file PDF/A-2b with the digitization record in XMP.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pikepdf
from pikepdf import Dictionary, Name

from ocr.pdfa import DigitizationRecord, make_pdfa, save_options
from ocr.raster import PageImage, encode_page_image

__all__ = ["PdfPage", "build_searchable_pdf", "encode_page_image"]


@dataclass
class PdfPage:
    """An upright page image, encoded for the PDF, and Tesseract's text-only PDF page (or None).

    Pages hold encoded bytes, not decoded images, so a long dossier stays small in memory.
    """

    image: PageImage
    text_pdf: bytes | None


def build_searchable_pdf(pages: list[PdfPage], record: DigitizationRecord | None = None) -> bytes:
    """One PDF/A-2b with a page per image, each at its true size, with its text layer on top."""
    if not pages:
        raise ValueError("a PDF needs at least one page")
    pdf = pikepdf.new()
    for spec in pages:
        page = _image_page(pdf, spec.image)
        if spec.text_pdf:
            with pikepdf.open(io.BytesIO(spec.text_pdf)) as text:
                page.add_overlay(text.pages[0])
    make_pdfa(pdf, record or DigitizationRecord())
    out = io.BytesIO()
    pdf.save(out, **save_options())
    return out.getvalue()


def _image_page(pdf: pikepdf.Pdf, img: PageImage) -> pikepdf.Page:
    """A page of the image's physical size showing its layers."""
    w_pt, h_pt = img.width * 72 / img.dpi, img.height * 72 / img.dpi
    xobjects = Dictionary()
    place = f"{w_pt:.4f} 0 0 {h_pt:.4f} 0 0 cm"
    if img.kind == "jpeg":
        xobjects.Im0 = _jpeg_image(pdf, img.data, img.width, img.height, img.gray)
        ops = f"q {place} /Im0 Do Q"
    elif img.kind == "g4":
        xobjects.Im0 = _g4_image(pdf, img.data, img.width, img.height, img.g4_ink_black, mask=False)
        ops = f"q {place} /Im0 Do Q"
    elif img.kind == "mrc":
        assert img.background is not None
        bw, bh = img.background_size
        xobjects.Bg0 = _jpeg_image(pdf, img.background, bw, bh, img.gray)
        ops = f"q {place} /Bg0 Do Q"
        boxes = list(img.colour_boxes) or [None] * len(img.colour_layers)
        layers = [*img.colour_layers, (img.data, img.ink)]  # black ink last, on top
        for n, ((data, colour), box) in enumerate(zip(layers, [*boxes, img.ink_box], strict=True)):
            name = f"Fg{n}"
            x, y, w, h = box or (0, 0, img.width, img.height)
            xobjects[f"/{name}"] = _g4_image(pdf, data, w, h, img.g4_ink_black, mask=True)
            at = _placement(x, y, w, h, img)
            ops += f" q {_fill(colour, img.gray)} {at} /{name} Do Q"
    else:
        raise ValueError(f"unknown page image kind {img.kind!r}")
    page = pikepdf.Page(
        Dictionary(
            Type=Name.Page,
            MediaBox=[0, 0, w_pt, h_pt],
            Resources=Dictionary(XObject=xobjects),
            Contents=pdf.make_stream(ops.encode()),
        )
    )
    pdf.pages.append(page)
    return pdf.pages[-1]


def _placement(x: int, y: int, w: int, h: int, img: PageImage) -> str:
    """The `cm` operator that draws a `w` x `h` image at pixel (x, y) from the page's top left."""
    k = 72 / img.dpi
    return f"{w * k:.4f} 0 0 {h * k:.4f} {x * k:.4f} {(img.height - y - h) * k:.4f} cm"


def _fill(colour: tuple[int, int, int], gray: bool) -> str:
    r, g, b = (c / 255 for c in colour)
    return f"{r:.3f} g" if gray else f"{r:.3f} {g:.3f} {b:.3f} rg"


def _jpeg_image(pdf: pikepdf.Pdf, data: bytes, w: int, h: int, gray: bool) -> pikepdf.Stream:
    stream = pikepdf.Stream(pdf, b"")
    stream.write(data, filter=Name.DCTDecode)
    stream.Type, stream.Subtype = Name.XObject, Name.Image
    stream.Width, stream.Height, stream.BitsPerComponent = w, h, 8
    stream.ColorSpace = Name.DeviceGray if gray else Name.DeviceRGB
    return stream


def _g4_image(
    pdf: pikepdf.Pdf, data: bytes, w: int, h: int, ink_black: bool, *, mask: bool
) -> pikepdf.Stream:
    """A CCITT G4 image: ink decodes to 0, black in DeviceGray and painted in the current
    fill colour as an image mask. `ink_black`: ink is coded as the fax black runs
    (`ocr.raster.encode_g4`); older page images coded it as white runs (`/BlackIs1 true`)."""
    parms = Dictionary(K=-1, Columns=w, Rows=h)
    if not ink_black:
        parms.BlackIs1 = True
    stream = pikepdf.Stream(pdf, b"")
    stream.write(data, filter=Name.CCITTFaxDecode, decode_parms=parms)
    stream.Type, stream.Subtype = Name.XObject, Name.Image
    stream.Width, stream.Height, stream.BitsPerComponent = w, h, 1
    if mask:
        stream.ImageMask = True
    else:
        stream.ColorSpace = Name.DeviceGray
    return stream
