"""Archival PDF per page: bytes, CPU share of the page, and how well the stored copy reads.

    .venv/bin/python -m bench.pdf_size            # add --no-ocrmypdf to skip the peer
    .venv/bin/python -m bench.pdf_size --no-ocrmypdf --cv2-threads 1 --repeat 5

For each generated page (an A4 decision with a red stamp at 300 dpi, upright and turned and
skewed as scanned, and at 200 dpi; a bilevel scan; a noisy grey scan; an A3 building drawing at
200 dpi in colour and in grey, skewed) it reads the page as the pipeline does
(`ocr.page.read_page`: orientation, deskew, OCR, image encoding), builds the PDF/A-2b copy,
and prints:

- bytes of sohoa's copy, and of OCRmyPDF's (`--output-type pdfa-2`, default optimization)
  for the same page image if OCRmyPDF is installed;
- `page CPU`: CPU seconds of the page, `read_page`'s own (every thread of this process,
  `time.process_time`, the archival encoding included) plus its Tesseract process's
  (`RUSAGE_CHILDREN`); `copy CPU`: CPU seconds of encoding the upright page
  (`encode_page_image`) plus building its PDF (`build_searchable_pdf`); `share` = copy CPU /
  page CPU. CPU, not wall time: when every core runs a page (one worker per core) the copy's
  CPU is what it adds to the page. Each figure is the median of `--repeat` runs;
- word recall of the page's OCR, and of a re-OCR of the stored copy rasterized at the
  page's dpi (the copy should read as well as the original);
- whether the copy passes the PDF/A-2b check.

OpenCV's thread pool is left at its default (one thread per core) unless `--cv2-threads`
says otherwise; the figures name the setting used. Report the load average beside them.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import cv2
from PIL import Image

from bench.cpu import process_cpu
from ocr.geometry import straighten_pixels
from ocr.loader import LoadedPage
from ocr.page import PageOptions, read_page
from ocr.pdf import PdfPage, build_searchable_pdf
from ocr.pdfa import check_pdfa
from ocr.raster import encode_page_image
from ocr.tesseract import recognize
from tests.conftest import word_recall
from tests.pages import DECISION, distort, render_drawing, render_page, words_of

T = TypeVar("T")


def pages() -> dict[str, tuple[Image.Image, int, list[str]]]:
    """Page images as scanned, their dpi and the words printed on them."""
    a4_300 = render_page(DECISION, dpi=300)
    bilevel = a4_300.convert("L").point(lambda v: 0 if v < 140 else 255)
    text = words_of(DECISION)
    colour_drawing, colour_words = render_drawing(dpi=200, seed=0, color=True)
    grey_drawing, grey_words = render_drawing(dpi=200, seed=1, color=False)
    return {
        "A4 colour 300 dpi": (a4_300, 300, text),
        "A4 colour 300 turned": (distort(a4_300, rotation=90, skew=3.0), 300, text),
        "A4 colour 200 dpi": (render_page(DECISION, dpi=200), 200, text),
        "A4 bilevel 300 dpi": (bilevel, 300, text),
        "A4 grey noisy 300 dpi": (distort(a4_300.convert("L"), noise=12, seed=1), 300, text),
        "A3 drawing colour 200": (distort(colour_drawing, skew=2.0, noise=4), 200, colour_words),
        "A3 drawing grey 200": (
            distort(grey_drawing.convert("L"), skew=-2.0, noise=4),
            200,
            grey_words,
        ),
    }  # fmt: skip


def cpu_of(fn: Callable[[], T], repeat: int) -> tuple[float, T]:
    """The median CPU seconds of `repeat` calls of `fn`, and the last call's result."""
    spent = []
    for _ in range(repeat):
        started = process_cpu()
        result = fn()
        spent.append(process_cpu() - started)
    return statistics.median(spent), result


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
    parser.add_argument("--repeat", type=int, default=3, help="runs per CPU figure (median)")
    parser.add_argument("--cv2-threads", type=int, help="cv2.setNumThreads for the whole run")
    args = parser.parse_args()
    os.environ["OMP_THREAD_LIMIT"] = "1"
    if args.cv2_threads is not None:
        cv2.setNumThreads(args.cv2_threads)
    print(f"OpenCV threads: {cv2.getNumThreads()}; load average at start: {os.getloadavg()}")
    header = (
        f"{'page':<23}{'kind':>5}{'sohoa B':>9}{'OCRmyPDF B':>11}{'page CPU':>9}"
        f"{'copy CPU':>9}{'share':>7}{'recall':>7}{'re-OCR':>7}{'PDF/A':>6}"
    )
    print(header)
    print("-" * len(header))
    for name, (image, dpi, expected) in pages().items():
        loaded = LoadedPage(image, dpi)
        page_cpu, (result, pdf_page) = cpu_of(
            lambda loaded=loaded: read_page(loaded, 0, PageOptions()), args.repeat
        )
        upright, pixels = straighten_pixels(image, result.rotation, result.skew, keep=True)

        text_pdf = pdf_page.text_pdf

        def copy(upright=upright, pixels=pixels, dpi=dpi, text_pdf=text_pdf) -> tuple[str, bytes]:
            encoded = encode_page_image(upright, dpi, pixels)
            return encoded.kind, build_searchable_pdf([PdfPage(encoded, text_pdf)])

        copy_cpu, (kind, pdf) = cpu_of(copy, args.repeat)
        again = recognize(rasterize(pdf, dpi).convert("L"), dpi=dpi)
        peer = None if args.no_ocrmypdf else ocrmypdf_bytes(image, dpi)
        print(
            f"{name:<23}{kind:>5}{len(pdf):>9,}{(f'{peer[0]:,}' if peer else '-'):>11}"
            f"{page_cpu:>9.2f}{copy_cpu:>9.3f}{copy_cpu / page_cpu:>7.1%}"
            f"{word_recall(expected, result.text):>7.3f}{word_recall(expected, again.text):>7.3f}"
            f"{'yes' if not check_pdfa(pdf) else 'NO':>6}",
            flush=True,
        )
    print(f"load average at the end: {os.getloadavg()}")
    print(
        "\npage CPU = read_page's CPU (this process, all threads) + Tesseract's; copy CPU = "
        "encode_page_image + build_searchable_pdf; share = copy CPU / page CPU; re-OCR = word "
        "recall of the stored copy rasterized at the page's dpi."
    )


if __name__ == "__main__":
    main()
