"""Machine-readable codes on a page: QR codes and barcodes (zxing-cpp), and the MRZ.

``decode_codes(image)`` reads every QR code and barcode of a page image. The MRZ of a chip
ID card (three 30-character lines starting ``IDVNM``) is not a barcode: ``find_mrz(text)``
picks it out of the page's OCR text and checks its ICAO 9303 check digits.

The parsers turn a code into fields (``parse_cccd_qr``, ``parse_mrz``,
``find_dossier_code``); they are pure functions, so ``classify`` can use them without
touching images. Values are never logged: they hold personal ID numbers.
"""

from __future__ import annotations

import math
import re
from datetime import date

import cv2
import numpy as np
from PIL import Image

from models.document import Code
from ocr.text import normalize_vi

__all__ = ["Code", "decode_codes", "find_dossier_code", "find_mrz", "parse_cccd_qr", "parse_mrz"]

DOSSIER_CODE = re.compile(r"\b[A-Z0-9]{2,}(?:\.[A-Z0-9]{2,}){2,3}-\d{6}-\d{4}\b")
_MRZ_CHARS = re.compile(r"[^A-Z0-9<]")


def _box(position) -> tuple[int, int, int, int]:
    pts = [position.top_left, position.top_right, position.bottom_right, position.bottom_left]
    xs, ys = [p.x for p in pts], [p.y for p in pts]
    return min(xs), min(ys), max(xs), max(ys)


QUICK_PIXELS = 2_200_000  # the first pass reads a copy of at most this many pixels (A4 at 150 dpi)
_BARS_MIN_MM = (8.0, 4.0)  # a linear barcode is at least this long and this tall
# mean gradient across bars minus along them, over a barcode-sized area (Sobel units):
# generated barcodes gave 166-239, text pages (serif, sans, photocopied, noisy) 61-83
_BARS_CONTRAST = 120.0


def decode_codes(image: Image.Image, max_side: int = 3600) -> list[Code]:
    """Every QR code and barcode zxing-cpp finds on the page, in reading order.

    Pages larger than ``max_side`` pixels on the long side are reduced by a whole factor
    first (boxes are given in the original pixels); grey conversion keeps colour stamps
    from confusing it. The first pass reads a copy of at most QUICK_PIXELS (an A4 page at
    300 dpi: 11 ms instead of 150 ms for zxing's default search of the page); when it finds
    nothing on a bigger page, the page itself is searched for QR codes (a finder-pattern
    search is cheap) and, only where an area looks like bars, for linear barcodes.
    Inverted (light on dark) codes are not searched for.
    """
    grey = image.convert("L")
    m = max(1, math.ceil(max(grey.size) / max_side))
    page = grey.reduce(m) if m > 1 else grey
    k = max(1, math.ceil(math.sqrt(page.width * page.height / QUICK_PIXELS)))
    small = page.reduce(k) if k > 1 else page
    found = _read(small, m * k)
    if not found and k > 1:
        found = _read(page, m, two_d=True)
        if not found and _bars_likely(np.asarray(small), 25.4 * m * k / _dpi_guess(image)):
            found = _read(page, m, two_d=False)
    found.sort(key=lambda c: (c.box[1], c.box[0]))
    return found


def _dpi_guess(image: Image.Image) -> float:
    """The page's resolution: its dpi tag, else as if its long side were A4's (11.69 in)."""
    dpi = image.info.get("dpi")
    if dpi and float(dpi[0]) >= 50:
        return float(dpi[0])
    return max(image.size) / 11.69


def _read(grey: Image.Image, scale: float, two_d: bool | None = None) -> list[Code]:
    """Codes zxing-cpp reads in `grey` (all formats, or only 2D or only linear ones), with
    boxes multiplied by `scale`."""
    import zxingcpp

    kw = {}
    if two_d is not None:
        kw["formats"] = _formats(two_d)
    codes = []
    for r in zxingcpp.read_barcodes(grey, try_invert=False, try_downscale=False, **kw):
        if not r.valid or not r.text:
            continue
        kind = "qr" if "QR" in r.format.name or "QR" in str(r.format) else "barcode"
        box = tuple(round(v * scale) for v in _box(r.position))
        codes.append(Code(kind, normalize_vi(r.text), str(r.format.name), box))  # type: ignore[arg-type]
    return codes


def _formats(two_d: bool):  # noqa: ANN202 - zxingcpp.BarcodeFormats
    import zxingcpp

    f = zxingcpp.BarcodeFormat
    # the 2D pass on the page is for QR codes too small for the first pass: a QR search
    # costs 8 ms on an A4 page at 300 dpi, Data Matrix 34 ms and PDF417 43 ms
    names = ["QRCode"]
    if not two_d:
        names = ["Code128", "Code39", "Code93", "Codabar", "EAN13", "EAN8", "ITF", "UPCA", "UPCE"]
    return zxingcpp.BarcodeFormats([getattr(f, n) for n in names if hasattr(f, n)])


def _bars_likely(grey: np.ndarray, mm_per_px: float) -> bool:
    """True when some area of the (reduced) page has strong gradients across one direction
    and little along the other over at least a barcode's size: parallel bars. Text has
    gradients both ways."""
    gx = cv2.convertScaleAbs(cv2.Sobel(grey, cv2.CV_16S, 1, 0, ksize=3))
    gy = cv2.convertScaleAbs(cv2.Sobel(grey, cv2.CV_16S, 0, 1, ksize=3))
    long_px = max(3, round(_BARS_MIN_MM[0] / mm_per_px))
    short_px = max(3, round(_BARS_MIN_MM[1] / mm_per_px))
    for across, along, size in ((gx, gy, (long_px, short_px)), (gy, gx, (short_px, long_px))):
        d = cv2.blur(cv2.subtract(across, along), size)
        if float(d.max()) >= _BARS_CONTRAST:
            return True
    return False


# --------------------------------------------------------------------------- parsers


def _ddmmyyyy(text: str) -> str | None:
    """``12032003`` -> ``2003-03-12``; None if not a real date."""
    if not re.fullmatch(r"\d{8}", text or ""):
        return None
    try:
        return date(int(text[4:]), int(text[2:4]), int(text[:2])).isoformat()
    except ValueError:
        return None


def parse_cccd_qr(text: str) -> dict[str, str]:
    """Fields of a chip ID card's QR:
    ``số CCCD|số CMND cũ|Họ tên|DDMMYYYY sinh|Giới tính|Địa chỉ|DDMMYYYY cấp``."""
    parts = normalize_vi(text).strip().split("|")
    if len(parts) < 7 or not re.fullmatch(r"\d{12}", parts[0]):
        return {}
    out = {"ma_dinh_danh": parts[0]}
    if re.fullmatch(r"\d{9}", parts[1]):
        out["so_cmnd"] = parts[1]
    if parts[2].strip():
        out["ho_ten"] = " ".join(parts[2].split())
    for name, raw in (("ngay_sinh", parts[3]), ("ngay_cap", parts[6])):
        iso = _ddmmyyyy(raw)
        if iso:
            out[name] = iso
    return out


def find_dossier_code(text: str) -> str | None:
    """A dossier code ``V1V2V3.Z1Z2.Y1Y2.MX1X2-YYMMDD-XXXX`` inside any text."""
    m = DOSSIER_CODE.search(text)
    return m.group(0) if m else None


def mrz_check_digit(text: str) -> int:
    """ICAO 9303 check digit (weights 7, 3, 1; ``<`` is 0, ``A`` is 10)."""
    total = 0
    for i, ch in enumerate(text):
        if ch.isdigit():
            v = int(ch)
        elif ch.isalpha():
            v = ord(ch) - ord("A") + 10
        else:
            v = 0
        total += v * (7, 3, 1)[i % 3]
    return total % 10


def _mrz_line(raw: str) -> str:
    """An OCR line as MRZ characters: spaces dropped, ``«`` and look-alikes mapped."""
    s = raw.strip().upper().replace(" ", "").replace("«", "<<").replace("‹", "<")
    return _MRZ_CHARS.sub("<", s)


def find_mrz(text: str) -> Code | None:
    """The three TD1 lines of a Vietnamese ID card's MRZ in OCR text, if present and their
    document-number, birth and expiry check digits hold."""
    lines = [_mrz_line(x) for x in normalize_vi(text).splitlines() if x.strip()]
    for i, line in enumerate(lines[:-2]):
        if not line.startswith("IDVNM") or len(line) < 28:
            continue
        block = [x[:30].ljust(30, "<") for x in lines[i : i + 3]]
        if parse_mrz("\n".join(block)):
            return Code("mrz", "\n".join(block), "TD1")
    return None


def _yymmdd(text: str, future: bool) -> str | None:
    if not re.fullmatch(r"\d{6}", text):
        return None
    yy, mm, dd = int(text[:2]), int(text[2:4]), int(text[4:])
    this = date.today().year % 100
    century = 2000 if (yy <= this + (50 if future else 0)) else 1900
    try:
        return date(century + yy, mm, dd).isoformat()
    except ValueError:
        return None


def parse_mrz(text: str) -> dict[str, str]:
    """Fields of a TD1 MRZ (``IDVNM…``): the 12-digit ID from the optional data, birth
    date, expiry, name (without diacritics, as the MRZ prints it). Empty when a check
    digit fails."""
    lines = [x for x in text.splitlines() if x]
    if len(lines) < 3 or not lines[0].startswith("IDVNM"):
        return {}
    l1, l2, l3 = (x.ljust(30, "<") for x in lines[:3])
    number, check = l1[5:14], l1[14]
    if not check.isdigit() or mrz_check_digit(number) != int(check):
        return {}
    if not (l2[6].isdigit() and mrz_check_digit(l2[:6]) == int(l2[6])):
        return {}
    out: dict[str, str] = {}
    optional = re.match(r"\d{12}", l1[15:])
    if optional:
        out["ma_dinh_danh"] = optional.group(0)
    birth = _yymmdd(l2[:6], future=False)
    if birth:
        out["ngay_sinh"] = birth
    if l2[14].isdigit() and mrz_check_digit(l2[8:14]) == int(l2[14]):
        expiry = _yymmdd(l2[8:14], future=True)
        if expiry:
            out["hieu_luc_den"] = expiry
    surname, _, given = l3.partition("<<")
    name = " ".join([*surname.split("<"), *given.split("<")]).strip()
    if name:
        out["ho_ten"] = " ".join(name.split())
    return out
