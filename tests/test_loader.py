"""Loading scans: every accepted format, every mode, and clear refusals of bad input."""

from __future__ import annotations

import io
import struct
import zlib

import img2pdf
import pikepdf
import pytest
from PIL import Image

from models.errors import BadInput
from ocr.loader import check, load_pages, sniff
from tests.conftest import jpeg_bytes, png_bytes


def page(mode: str = "RGB", size: tuple[int, int] = (400, 560)) -> Image.Image:
    img = Image.new("RGB", size, "white")
    img.paste((0, 0, 0), (40, 40, 300, 60))
    return img.convert(mode) if mode != "RGB" else img


def huge_png_header(w: int, h: int) -> bytes:
    """A PNG whose header claims w x h pixels, with a tiny (invalid) body: a decompression bomb."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"hello, this is a text file\n" * 10, "not a PNG"),
        (b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n", "PDF"),
        (huge_png_header(100_000, 100_000), "exceeds"),
        (png_bytes(Image.new("RGB", (1, 1), "white")), "too small"),
    ],
)
def test_bad_input_is_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(BadInput, match=reason):
        check(data)


def test_truncated_images_are_refused() -> None:
    for data in (png_bytes(page()), jpeg_bytes(page())):
        with pytest.raises(BadInput, match="unreadable"):
            check(data[: len(data) // 2])


def test_encrypted_pdf_is_refused() -> None:
    pdf = pikepdf.open(io.BytesIO(img2pdf.convert(jpeg_bytes(page()))))
    buf = io.BytesIO()
    pdf.save(buf, encryption=pikepdf.Encryption(owner="o", user="secret"))
    with pytest.raises(BadInput, match="encrypted"):
        check(buf.getvalue())


@pytest.mark.parametrize("mode", ["1", "L", "P", "RGBA", "LA", "CMYK", "I;16"])
def test_every_mode_becomes_8bit(mode: str) -> None:
    img = page("L").convert("I;16") if mode == "I;16" else page(mode)
    buf = io.BytesIO()
    img.save(buf, "TIFF" if mode in ("CMYK", "I;16") else "PNG")
    (loaded,) = list(load_pages(buf.getvalue()))
    assert loaded.image.mode in ("L", "RGB")
    px = loaded.image.convert("L")
    assert px.getpixel((10, 10)) > 200 and px.getpixel((100, 50)) < 60, mode


def test_exif_rotated_jpeg_is_turned_as_the_camera_meant() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    data = jpeg_bytes(page(size=(400, 560)), exif=exif.tobytes())
    (loaded,) = list(load_pages(data))
    assert loaded.image.size == (560, 400)


def test_multipage_tiff_and_pdf_give_every_page() -> None:
    buf = io.BytesIO()
    first, *rest = [page(), page(), page()]
    first.save(buf, "TIFF", save_all=True, append_images=rest, dpi=(300, 300))
    pages = list(load_pages(buf.getvalue()))
    assert len(pages) == 3 and pages[0].dpi == 300
    pdf = img2pdf.convert([jpeg_bytes(page()), jpeg_bytes(page(size=(400, 300)))])
    assert sniff(pdf) == "pdf"
    pdf_pages = list(load_pages(pdf))
    assert len(pdf_pages) == 2
    assert pdf_pages[0].dpi == 300 and pdf_pages[0].image.height > pdf_pages[0].image.width
