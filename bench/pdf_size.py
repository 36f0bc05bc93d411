"""Archival PDF per page: bytes, share of the page time, and how well the stored copy reads.

    .venv/bin/python -m bench.pdf_size            # add --no-ocrmypdf to skip the peer

For each generated page (A4 decision with a red stamp, at 300 and 200 dpi, a bilevel scan, a
noisy grey scan) it reads the page as the pipeline does (`ocr.page.read_page`: orientation,
deskew, OCR, image encoding), builds the PDF/A-2b copy, and prints:

- bytes of sohoa's copy, and of OCRmyPDF's (`--output-type pdfa-2`, default optimization)
  for the same page image if OCRmyPDF is installed;
- the image encoding plus PDF building time as a share of the page time;
- word recall of the page's OCR, and of a re-OCR of the stored copy rasterized at the
  page's dpi (the copy should read as well as the original);
- whether the copy passes the PDF/A-2b check.

Timings are wall-clock on whatever else the machine is doing: compare shares, not seconds.
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

from ocr.loader import LoadedPage
from ocr.page import PageOptions, read_page
from ocr.pdf import PdfPage, build_searchable_pdf
from ocr.pdfa import check_pdfa
from ocr.raster import encode_page_image
from ocr.tesseract import recognize
from tests.conftest import word_recall
from tests.pages import DECISION, distort, render_page, words_of


def pages() -> dict[str, tuple[Image.Image, int]]:
    a4_300 = render_page(DECISION, dpi=300)
    return {
        "A4 colour 300 dpi": (a4_300, 300),
        "A4 colour 200 dpi": (render_page(DECISION, dpi=200), 200),
        "A4 bilevel 300 dpi": (a4_300.convert("L").point(lambda v: 0 if v < 140 else 255), 300),
        "A4 grey noisy 300 dpi": (distort(a4_300.convert("L"), noise=12, seed=1), 300),
    }


def rasterize(pdf: bytes, dpi: int) -> Image.Image:
    out = subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-f", "1", "-l", "1", "-png", "-"],
        input=pdf,
        capture_output=True,
        check=True,
    ).stdout
    return Image.open(io.BytesIO(out))


def ocrmypdf_bytes(image: Image.Image, dpi: int) -> tuple[int, float] | None:
    exe = shutil.which("ocrmypdf") or str(Path(sys.executable).parent / "ocrmypdf")
    if not Path(exe).exists():
        return None
    with tempfile.TemporaryDirectory(prefix="sohoa-bench-") as tmp:
        src, dst = Path(tmp) / "page.png", Path(tmp) / "out.pdf"
        image.save(src, dpi=(dpi, dpi))
        started = time.perf_counter()
        proc = subprocess.run(
            [exe, "-l", "vie", "--output-type", "pdfa-2", "--jobs", "1", "--image-dpi",
             str(dpi), str(src), str(dst)],
            capture_output=True, env={"OMP_THREAD_LIMIT": "1", "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        if proc.returncode != 0:
            print(f"ocrmypdf failed: {proc.stderr.decode()[-300:]}", file=sys.stderr)
            return None
        return dst.stat().st_size, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-ocrmypdf", action="store_true")
    args = parser.parse_args()
    expected = words_of(DECISION)
    header = (
        f"{'page':<24}{'kind':>5}{'sohoa B':>10}{'OCRmyPDF B':>12}{'page s':>8}"
        f"{'build s':>9}{'share':>7}{'recall':>8}{'re-OCR':>8}{'PDF/A':>7}"
    )
    print(header)
    print("-" * len(header))
    for name, (image, dpi) in pages().items():
        started = time.perf_counter()
        result, pdf_page = read_page(LoadedPage(image, dpi), 0, PageOptions())
        page_seconds = time.perf_counter() - started
        # the PDF share: encoding the image (already inside read_page) plus building the file
        started = time.perf_counter()
        encoded = encode_page_image(image, dpi)
        pdf = build_searchable_pdf([PdfPage(encoded, pdf_page.text_pdf)])
        build_seconds = time.perf_counter() - started
        again = recognize(rasterize(pdf, dpi).convert("L"), dpi=dpi)
        peer = None if args.no_ocrmypdf else ocrmypdf_bytes(image, dpi)
        print(
            f"{name:<24}{encoded.kind:>5}{len(pdf):>10,}"
            f"{(f'{peer[0]:,}' if peer else '-'):>12}{page_seconds:>8.2f}{build_seconds:>9.3f}"
            f"{build_seconds / page_seconds:>7.1%}{word_recall(expected, result.text):>8.3f}"
            f"{word_recall(expected, again.text):>8.3f}{'yes' if not check_pdfa(pdf) else 'NO':>7}"
        )
    print(
        "\nshare = (image encoding + PDF building) / page time (orientation, deskew, OCR, "
        "encoding); re-OCR = word recall of the stored copy rasterized at the page's dpi."
    )


if __name__ == "__main__":
    main()
