"""Machine-readable codes on a page: QR codes and barcodes (zxing-cpp), and the MRZ.

``decode_codes(image)`` reads every QR code and barcode of a page image. The MRZ of a chip
ID card (three 30-character lines starting ``IDVNM``) is not a barcode: ``find_mrz(text)``
picks it out of the page's OCR text and checks its ICAO 9303 check digits.

The parsers turn a code into fields (``parse_cccd_qr``, ``parse_mrz``,
``find_dossier_code``); they are pure functions, so ``classify`` can use them without
touching images. Values are never logged: they hold personal ID numbers.
"""

from __future__ import annotations

import re
from datetime import date

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


def decode_codes(image: Image.Image, max_side: int = 2500) -> list[Code]:
    """Every QR code and barcode zxing-cpp finds on the page, in reading order.

    Large pages are scaled down to ``max_side`` pixels on the long side first (boxes are
    given in the original pixels); grey conversion keeps colour stamps from confusing it.
    """
    import zxingcpp

    grey = image.convert("L")
    scale = 1.0
    if max(grey.size) > max_side:
        scale = max(grey.size) / max_side
        grey = grey.resize((round(grey.width / scale), round(grey.height / scale)))
    codes = []
    for r in zxingcpp.read_barcodes(grey):
        if not r.valid or not r.text:
            continue
        kind = "qr" if "QR" in r.format.name or "QR" in str(r.format) else "barcode"
        box = tuple(round(v * scale) for v in _box(r.position))
        codes.append(Code(kind, normalize_vi(r.text), str(r.format.name), box))  # type: ignore[arg-type]
    codes.sort(key=lambda c: (c.box[1], c.box[0]))
    return codes


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
