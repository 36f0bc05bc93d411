"""Tesseract through its command line, one single-threaded process per call.

`OMP_THREAD_LIMIT=1` is forced: unset, a page takes about eight times longer on a
small machine because OpenMP threads fight over the cores. One process per page
and call also gives a hard per-page timeout for free.
"""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from models.document import Word
from ocr.text import normalize_vi


class TesseractTimeout(Exception):
    """Tesseract did not finish within its time limit."""


class TesseractError(Exception):
    """Tesseract failed on an image."""


@dataclass
class Recognition:
    """Words with boxes and confidences, the page text, and optionally a text-only PDF page."""

    words: list[Word]
    text: str
    pdf: bytes | None = None


def tesseract_env() -> dict[str, str]:
    env = dict(os.environ)
    env["OMP_THREAD_LIMIT"] = "1"
    return env


def _as_image(image: Image.Image | np.ndarray) -> Image.Image:
    return Image.fromarray(image) if isinstance(image, np.ndarray) else image


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    try:
        proc = subprocess.run(
            ["tesseract", *args], env=tesseract_env(), capture_output=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as exc:
        raise TesseractTimeout(f"tesseract exceeded {timeout:.0f} s") from exc
    if proc.returncode != 0:
        raise TesseractError(proc.stderr.decode("utf-8", "replace").strip()[-500:])
    return proc


def recognize(
    image: Image.Image | np.ndarray,
    *,
    lang: str = "vie",
    psm: int = 3,
    dpi: int = 300,
    timeout: float = 120,
    text_pdf: bool = False,
) -> Recognition:
    """OCR one image. With `text_pdf`, also render Tesseract's invisible-text-only PDF page
    in the same run (same pixel geometry as `image` at `dpi`)."""
    with tempfile.TemporaryDirectory(prefix="sohoa-tess-") as tmp:
        src = Path(tmp) / "page.png"
        _as_image(image).save(src, dpi=(dpi, dpi))
        out = Path(tmp) / "out"
        args = [str(src), str(out), "-l", lang, "--psm", str(psm), "--dpi", str(dpi)]
        if text_pdf:
            args += ["-c", "textonly_pdf=1"]
        args += ["tsv"] + (["pdf"] if text_pdf else [])
        _run(args, timeout)
        words = parse_tsv(out.with_suffix(".tsv").read_text(encoding="utf-8"))
        pdf = out.with_suffix(".pdf").read_bytes() if text_pdf else None
    return Recognition(words=words, text=words_to_text(words), pdf=pdf)


def parse_tsv(tsv: str) -> list[Word]:
    """Words (level 5, non-empty) from Tesseract's TSV, NFC, with a reading-order line index."""
    words: list[Word] = []
    line_ids: dict[tuple[str, str, str, str], int] = {}
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        if row.get("level") != "5":
            continue
        text = normalize_vi((row.get("text") or "").strip())
        if not text:
            continue
        key = (row["page_num"], row["block_num"], row["par_num"], row["line_num"])
        line = line_ids.setdefault(key, len(line_ids))
        words.append(
            Word(
                text=text,
                left=int(row["left"]),
                top=int(row["top"]),
                width=int(row["width"]),
                height=int(row["height"]),
                confidence=max(0.0, float(row["conf"])),
                line=line,
            )
        )
    return words


def words_to_text(words: list[Word]) -> str:
    """Join words into lines in the order Tesseract read them."""
    lines: dict[int, list[str]] = {}
    for w in words:
        lines.setdefault(w.line, []).append(w.text)
    return "\n".join(" ".join(ws) for _, ws in sorted(lines.items()))


_OSD_ROTATE = re.compile(r"Rotate:\s*(\d+)")
_OSD_CONF = re.compile(r"Orientation confidence:\s*([\d.]+)")


def osd(
    image: Image.Image | np.ndarray, *, dpi: int = 300, timeout: float = 30
) -> tuple[int, float]:
    """Tesseract's orientation guess: (clockwise degrees the image is turned from upright,
    confidence). Raises TesseractError when the page has too little text to tell."""
    with tempfile.TemporaryDirectory(prefix="sohoa-osd-") as tmp:
        src = Path(tmp) / "page.png"
        _as_image(image).save(src, dpi=(dpi, dpi))
        proc = _run([str(src), "-", "--psm", "0", "--dpi", str(dpi), "-l", "osd"], timeout)
    out = proc.stdout.decode("utf-8", "replace")
    rot, conf = _OSD_ROTATE.search(out), _OSD_CONF.search(out)
    if not rot or not conf:
        raise TesseractError("orientation detection found no text")
    # "Rotate: N" is the clockwise turn that makes the image upright,
    # so the image itself stands turned (360 - N) clockwise from upright.
    return (360 - int(rot.group(1))) % 360, float(conf.group(1))
