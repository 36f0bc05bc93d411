"""Tesseract, single-threaded: in-process through tesserocr, or its command line.

`recognize` runs the `tesseract` command line by default: a process per page gives a hard
per-page timeout (the process is killed) and keeps a Tesseract crash out of the worker.
`SOHOA_OCR_ENGINE=tesserocr` reads in-process instead (its PyPI wheel bundles Tesseract
5.5 without OpenMP; the model stays loaded in one API object per thread). Both use
Debian's traineddata and give the same TSV words and text-only PDF page. Measured here
(`python -m bench.ocr_bench --pages 0 --engines "" --tesseract`, quiet-ish shared machine),
median seconds for an A4 page at 300 dpi with the text-only PDF: command line 1.12,
tesserocr 0.80. The command line stays the default for its hard timeout and crash isolation
until tesserocr has run in the threaded worker for a while.

`OMP_THREAD_LIMIT=1` is forced for the command line: unset, a page takes about eight times
longer on a small machine because OpenMP threads fight over the cores.
"""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import tempfile
import threading
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


TESSDATA = os.environ.get("TESSDATA_PREFIX", "/usr/share/tesseract-ocr/5/tessdata")
_apis = threading.local()


def engine() -> str:
    """ "tesserocr" when the library is installed (and not overridden), else "cli"."""
    if os.environ.get("SOHOA_OCR_ENGINE", "cli") != "tesserocr":
        return "cli"
    return "tesserocr" if has_tesserocr() else "cli"


def has_tesserocr() -> bool:
    """True when the tesserocr library can be imported."""
    try:
        import tesserocr  # noqa: F401
    except ImportError:
        return False
    return True


def recognize(
    image: Image.Image | np.ndarray,
    *,
    lang: str = "vie",
    psm: int = 3,
    dpi: int = 300,
    timeout: float = 120,
    text_pdf: bool = False,
    in_process: bool = False,
) -> Recognition:
    """OCR one image. With `text_pdf`, also render Tesseract's invisible-text-only PDF page
    in the same run (same pixel geometry as `image` at `dpi`). `in_process` reads through
    tesserocr whatever the configured engine (when installed): for small crops, where a
    process start and model load would cost more than the reading."""
    if engine() == "tesserocr" or (in_process and has_tesserocr()):
        return _recognize_tesserocr(image, lang, psm, dpi, timeout, text_pdf)
    return _recognize_cli(image, lang, psm, dpi, timeout, text_pdf)


def _api(lang: str, psm: int):  # noqa: ANN202 - tesserocr has no type stubs
    """This thread's tesserocr API for `lang` and `psm`, created once (model kept loaded)."""
    import tesserocr

    cache = _apis.__dict__.setdefault("by_key", {})
    api = cache.get((lang, psm))
    if api is None:
        api = tesserocr.PyTessBaseAPI(path=TESSDATA, lang=lang, psm=psm)
        if psm != 0:
            api.SetVariable("textonly_pdf", "1")
        cache[(lang, psm)] = api
    return api


def _recognize_tesserocr(
    image: Image.Image | np.ndarray, lang: str, psm: int, dpi: int, timeout: float, pdf: bool
) -> Recognition:
    api = _api(lang, psm)
    img = _as_image(image)
    img = img if img.mode in ("L", "RGB") else img.convert("RGB")
    ms = max(1, int(timeout * 1000))
    data = None
    if pdf:  # the PDF renderer needs ProcessPages, which reads a file
        api.SetVariable("tessedit_create_pdf", "1")
        api.SetVariable("user_defined_dpi", str(dpi))
        with tempfile.TemporaryDirectory(prefix="sohoa-tess-") as tmp:
            src = Path(tmp) / "page.pnm"  # uncompressed: no PNG coding on either side
            img.save(src)
            out = Path(tmp) / "out"
            ok = api.ProcessPages(str(out), str(src), timeout=ms)
            if ok:
                data = out.with_suffix(".pdf").read_bytes()
    else:
        api.SetImage(img)
        api.SetSourceResolution(dpi)
        ok = api.Recognize(timeout=ms)
    if not ok:
        api.Clear()
        raise TesseractTimeout(f"tesseract exceeded {timeout:.0f} s or failed")
    header = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\t"
    header += "left\ttop\twidth\theight\tconf\ttext\n"
    words = parse_tsv(header + (api.GetTSVText(0) or ""))
    return Recognition(words=words, text=words_to_text(words), pdf=data)


def _recognize_cli(
    image: Image.Image | np.ndarray, lang: str, psm: int, dpi: int, timeout: float, pdf: bool
) -> Recognition:
    text_pdf = pdf
    with tempfile.TemporaryDirectory(prefix="sohoa-tess-") as tmp:
        src = Path(tmp) / "page.pnm"  # uncompressed: PNG coding cost ~0.1 s on an A4 page
        img = _as_image(image)
        (img if img.mode in ("1", "L", "RGB") else img.convert("RGB")).save(src)
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
    confidence). Raises TesseractError when the page has too little text to tell.

    In-process through tesserocr when installed (0.1 s on a text-line crop instead of
    0.4 s for a `tesseract --psm 0` process, most of it start-up and loading the model;
    the same answers). `timeout` applies to the command line only: give small images."""
    if has_tesserocr():
        return _osd_tesserocr(_as_image(image), dpi)
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


def _osd_tesserocr(image: Image.Image, dpi: int) -> tuple[int, float]:
    api = _api("osd", 0)
    api.SetImage(image if image.mode in ("L", "RGB") else image.convert("L"))
    api.SetSourceResolution(dpi)
    found = api.DetectOrientationScript()
    api.Clear()
    if not found:
        raise TesseractError("orientation detection found no text")
    # orient_deg is the clockwise turn of the image from upright, as `osd` returns it
    return int(found["orient_deg"]) % 360, float(found["orient_conf"])
