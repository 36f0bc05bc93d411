"""Fields read from machine codes (QR, barcode, MRZ), preferred over OCR.

A code is anything with ``kind`` (``qr``, ``barcode``, ``mrz``) and ``text``, such as
``ocr.codes.Code``. The chip ID card's QR gives the ID, old ID, name, birth and issue dates;
the MRZ the ID, birth date and expiry; a one-stop receipt or result QR/barcode the dossier
code (``ma_ho_so``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from classify.textview import fold
from models.document import FieldValue, PageResult
from ocr.codes import find_dossier_code, find_mrz, parse_cccd_qr, parse_mrz


class CodeLike(Protocol):
    kind: str
    text: str


def page_codes(pages: Sequence[PageResult], codes: Iterable[CodeLike] = ()) -> list[CodeLike]:
    """The decoded codes plus the MRZ found in the pages' OCR text (if its checks hold)."""
    out = list(codes)
    if not any(c.kind == "mrz" for c in out):
        for p in pages:
            mrz = find_mrz(p.text)
            if mrz:
                out.append(mrz)
    return out


def code_fields(codes: Iterable[CodeLike]) -> dict[str, FieldValue]:
    """Fields from the codes; the first code giving a field wins, QR before MRZ."""
    found: dict[str, FieldValue] = {}
    ordered = sorted(codes, key=lambda c: {"qr": 0, "barcode": 1, "mrz": 2}.get(c.kind, 3))
    for c in ordered:
        source = "mrz" if c.kind == "mrz" else "qr"
        values = parse_mrz(c.text) if c.kind == "mrz" else parse_cccd_qr(c.text)
        dossier = find_dossier_code(c.text) if c.kind != "mrz" else None
        if dossier:
            values = {**values, "ma_ho_so": dossier}
        for name, value in values.items():
            found.setdefault(name, FieldValue(value, source, 0.99))
    return found


def is_id_card_code(codes: Iterable[CodeLike]) -> bool:
    """A chip ID card's QR or a valid ``IDVNM`` MRZ is among the codes."""
    return any(
        (c.kind == "mrz" and parse_mrz(c.text)) or (c.kind == "qr" and parse_cccd_qr(c.text))
        for c in codes
    )


def merge(ocr: dict[str, FieldValue], coded: dict[str, FieldValue]) -> dict[str, FieldValue]:
    """OCR fields overridden by code fields. The MRZ spells names without diacritics: an
    OCR name that folds to the same letters is kept (it has them)."""
    out = dict(ocr)
    for name, value in coded.items():
        same = name in ocr and fold(ocr[name].value).upper() == fold(value.value).upper()
        if name == "ho_ten" and value.source == "mrz" and same:
            out[name] = FieldValue(ocr[name].value, "mrz", value.confidence)
            continue
        out[name] = value
    return out
