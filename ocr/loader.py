"""Turn the bytes of a scan (PNG, JPEG, TIFF, PDF) into page images, refusing bad input early.

Every image comes out as 8-bit RGB or L, upright per its EXIF tag, with a plausible dpi.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pikepdf
from pdf2image import convert_from_bytes
from pdf2image.exceptions import PDFPageCountError, PDFSyntaxError
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from models.errors import BadInput

# A1 at 300 dpi is 7016 x 9933 (70 Mpx); allow up to A0 at 300 dpi and refuse beyond.
MAX_PIXELS = 150_000_000
MAX_PAGES = 500
PDF_DPI = 300
MEDIA_TYPES = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "tiff": "image/tiff",
    "pdf": "application/pdf",
}

Image.MAX_IMAGE_PIXELS = MAX_PIXELS


@dataclass
class LoadedPage:
    """One page image as scanned, with the resolution it was scanned at."""

    image: Image.Image
    dpi: int


def sniff(data: bytes) -> str:
    """The format of `data` from its magic bytes: png, jpeg, tiff or pdf."""
    if not data:
        raise BadInput("empty file (0 bytes)")
    head = data[:1024]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if b"%PDF-" in head:
        return "pdf"
    raise BadInput("not a PNG, JPEG, TIFF or PDF file")


def check(data: bytes) -> str:
    """Refuse truncated, empty or absurd files before any processing; return the format."""
    kind = sniff(data)
    if kind == "pdf":
        _pdf_page_sizes(data)
    else:
        for _frame in _frames(data, kind):
            pass
    return kind


def load_pages(data: bytes) -> Iterator[LoadedPage]:
    """Yield every page of the file, one at a time so that big scans stay bounded in memory."""
    kind = sniff(data)
    if kind == "pdf":
        yield from _pdf_pages(data)
        return
    for frame in _frames(data, kind):
        yield LoadedPage(image=_upright_8bit(frame), dpi=_dpi_of(frame))


def _upright_8bit(frame: Image.Image) -> Image.Image:
    """The frame turned per its EXIF tag and in 8-bit L or RGB: the frame itself when it
    already is, else a new image (the frame's pixels are then released at once: an A1
    scan's decoded frame is ~200 MB that nothing else needs)."""
    image = frame
    if frame.getexif().get(ExifTags.Base.Orientation, 1) not in (0, 1):
        image = ImageOps.exif_transpose(frame)
    image = to_8bit(image)
    if image is not frame:
        frame.close()
    return image


def _frames(data: bytes, kind: str) -> Iterator[Image.Image]:
    """Every frame of a raster file, size-checked before it is decoded, then fully decoded
    (verify() misses truncated JPEG scans); any decoding failure becomes BadInput. Each
    frame is its own image (opened afresh and sought to), so a frame handed out stays
    valid while the next is read, and nothing here keeps one alive."""
    with _bad_raster(kind):
        for n in range(_raster_count(data)):
            frame = _open_frame(data, n)
            yield frame
            del frame


def frame_count(data: bytes) -> int:
    """The number of pages in the file, without decoding any of them."""
    kind = sniff(data)
    if kind == "pdf":
        return len(_pdf_page_sizes(data))
    with _bad_raster(kind):
        return _raster_count(data)


def load_frame(data: bytes, index: int) -> LoadedPage:
    """Page `index` (0-based) of the file, as `load_pages` yields it, decoding only that
    page (a page task never decodes the whole file)."""
    kind = sniff(data)
    if kind == "pdf":
        sizes = _pdf_page_sizes(data)
        if not 0 <= index < len(sizes):
            raise BadInput(f"the PDF has no page {index + 1}")
        return _pdf_page(data, index + 1, sizes[index])
    with _bad_raster(kind):
        if not 0 <= index < _raster_count(data):
            raise BadInput(f"the {kind} file has no page {index + 1}")
        frame = _open_frame(data, index)
        return LoadedPage(image=_upright_8bit(frame), dpi=_dpi_of(frame))


def _raster_count(data: bytes) -> int:
    with Image.open(io.BytesIO(data)) as im:
        count = getattr(im, "n_frames", 1)
    if count > MAX_PAGES:
        raise BadInput(f"more than {MAX_PAGES} pages")
    return int(count)


def _open_frame(data: bytes, n: int) -> Image.Image:
    """Frame `n`, size-checked, then decoded."""
    frame = Image.open(io.BytesIO(data))
    if n:
        frame.seek(n)
    _check_size(frame.size)
    frame.load()
    return frame


@contextmanager
def _bad_raster(kind: str) -> Iterator[None]:
    """Any decoding failure inside becomes BadInput."""
    try:
        yield
    except BadInput:
        raise
    except Image.DecompressionBombError as exc:
        raise BadInput(f"image too large: {exc}") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise BadInput(f"unreadable {kind} image: {exc}") from exc


def to_8bit(im: Image.Image) -> Image.Image:
    """Convert any Pillow mode (1, P, LA, RGBA, CMYK, I;16, I, F) to 8-bit L or RGB on white."""
    if im.mode in ("L", "RGB"):
        return im
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        import numpy as np

        a = np.asarray(im, dtype=np.float64)
        hi = float(a.max()) or 1.0
        scale = 255.0 / (65535.0 if hi > 255 else 255.0)
        return Image.fromarray(np.clip(a * scale, 0, 255).astype("uint8"), "L")
    if im.mode == "1":
        return im.convert("L")
    if im.mode in ("P", "PA"):
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "LA", "La", "RGBa"):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        out = Image.alpha_composite(white, rgba).convert("RGB")
        return out.convert("L") if im.mode in ("LA", "La") else out
    return im.convert("RGB")


def _check_size(size: tuple[int, int]) -> None:
    w, h = size
    if w < 16 or h < 16:
        raise BadInput(f"image of {w}x{h} pixels is too small to be a page")
    if w * h > MAX_PIXELS:
        raise BadInput(f"image of {w}x{h} pixels exceeds the {MAX_PIXELS:,} pixel limit")


def _dpi_of(im: Image.Image) -> int:
    dpi = im.info.get("dpi")
    if dpi:
        try:
            d = int(round(float(dpi[0])))
        except (TypeError, ValueError, IndexError):
            d = 0
        if 100 <= d <= 1200:
            return d
    # Unknown: assume the long side is an A4 page's (11.69 in), within a sane range.
    return int(min(600, max(150, round(max(im.size) / 11.69 / 50) * 50)))


def _pdf_page_sizes(data: bytes) -> list[tuple[float, float]]:
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            if len(pdf.pages) > MAX_PAGES:
                raise BadInput(f"more than {MAX_PAGES} pages")
            sizes = []
            for page in pdf.pages:
                box = page.mediabox
                sizes.append((abs(float(box[2] - box[0])), abs(float(box[3] - box[1]))))
    except pikepdf.PasswordError as exc:
        raise BadInput("encrypted PDF: a password is needed to open it") from exc
    except pikepdf.PdfError as exc:
        raise BadInput(f"unreadable PDF: {exc}") from exc
    if not sizes:
        raise BadInput("PDF has no pages")
    return sizes


def _pdf_pages(data: bytes) -> Iterator[LoadedPage]:
    for n, size in enumerate(_pdf_page_sizes(data), start=1):
        yield _pdf_page(data, n, size)


def _pdf_page(data: bytes, n: int, size: tuple[float, float]) -> LoadedPage:
    """PDF page `n` (1-based) of `size` points, rasterized at up to `PDF_DPI`."""
    w_pt, h_pt = size
    dpi = PDF_DPI
    while (w_pt / 72 * dpi) * (h_pt / 72 * dpi) > MAX_PIXELS and dpi > 50:
        dpi //= 2
    try:
        (img,) = convert_from_bytes(data, dpi=dpi, first_page=n, last_page=n)
    except (PDFPageCountError, PDFSyntaxError, ValueError) as exc:
        raise BadInput(f"PDF page {n} could not be rasterized: {exc}") from exc
    return LoadedPage(image=to_8bit(img), dpi=dpi)
