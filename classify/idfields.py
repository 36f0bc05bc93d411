"""Extractors of identifier fields: ``ma_dinh_danh``, ``so_cmnd``, ``ma_so_doanh_nghiep``,
``so_phat_hanh``. Each returns ``{field: FieldValue}`` (empty when nothing trustworthy)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from classify.dates import birth_year_in, date_at
from classify.doc import Doc, Hit, find_labels, label_before, make_value, value_place
from classify.ids import (
    cccd_for_year,
    cccd_ok,
    digit_candidates,
    mst_candidates,
    mst_format,
    mst_valid,
    serial_candidates,
)
from classify.rules import PageView
from models.document import FieldValue

MISREAD_ID = re.compile(r"[\s:.]*([0-9OoIlSZB](?: ?[0-9OoIlSZB]){11})(?![\w/])")
_ID_DIGITS = str.maketrans("OoIlSZB", "0011528")
ID_CLASSES = ("not_id", "id_cccd", "id_cmnd", "id_generic")  # earlier wins a tie
# an ID that contradicts the birth date on its page by one digit, settled by the OCR
# confidences: pre-filled below the counter's review mark (0.8), so the clerk checks it
DOUBTFUL_ID = 0.6
TAX_CLASSES = ("ma_so_doanh_nghiep", "not_id")


def page_birth_year(doc: Doc, page: int) -> int | None:
    """Year of the first labelled birth date on the page."""
    for hit in find_labels(doc, "ngay_sinh", page):
        line, pos, _ = value_place(doc, hit)
        found = date_at(line.folded, pos)
        if found:
            return found.value.year
    return None


def personal_id(doc: Doc) -> FieldValue | None:
    """The first plausible 12-digit personal ID, labelled ones first; century digit checked
    against a birth year on the same line, else the page's birth date. Digits right after a
    phone, account or tax label are never taken; further digit groups of the same run only
    when a birth year confirms them."""
    ex = doc.ex
    found = []
    for p, i, line in doc.lines():
        for c in digit_candidates(line.folded, 12):
            label = label_before(doc, p, i, c.start, ID_CLASSES)
            year = birth_year_in(line.folded) or page_birth_year(doc, p)
            if label == "not_id":  # the phone's own digits, or an ID glued after them
                if c.first or year is None:
                    continue
                label = None
            digits, doubt = c.digits, False
            if not cccd_ok(digits, year, century=ex.century, max_province=ex.max_province):
                settled = _year_conflict(doc, p, digits, year) if label else None
                if settled is None:
                    continue
                digits, doubt = settled, True
            base = 0.7 + 0.1 * (label is not None) + 0.1 * (year is not None)
            base += 0.05 * (digits[:3] in ex.provinces)
            if doubt:
                base = DOUBTFUL_ID
            value = make_value(digits, base, fixes=line.fixes(c.start, c.end))
            found.append((label is None, doubt, p, i, value))
    found += [(False, False, hit.page, hit.index, v) for hit, v in _misread_ids(doc)]
    return min(found, key=lambda f: f[:4])[4] if found else None


def _number_confidence(page: PageView, digits: str) -> float | None:
    """OCR confidence of the word that reads ``digits``, else the lowest of the words
    reading parts of it (an ID printed in groups)."""
    exact = [conf for d, conf in page.numbers if d == digits]
    parts = [conf for d, conf in page.numbers if d in digits]
    return exact[0] if exact else min(parts, default=None)


def _year_confidence(page: PageView, year: int, digits: str) -> float | None:
    """OCR confidence of the first date-sized word holding ``year`` (not the ID itself)."""
    for d, conf in page.numbers:
        if 4 <= len(d) <= 8 and str(year) in d and d not in digits:
            return conf
    return None


def _year_conflict(doc: Doc, page: int, digits: str, year: int | None) -> str | None:
    """A labelled ID whose birth year differs from the page's birth date in one digit: one
    of the two was misread. The reading Tesseract was surer of wins: the ID as read, or the
    ID with its year digits taken from the birth date. None when the ID fails on its own,
    differs in more than one digit, or either word's confidence is unknown."""
    ex = doc.ex
    if year is None or not cccd_ok(digits, century=ex.century, max_province=ex.max_province):
        return None
    fixed = cccd_for_year(digits, year, ex.century)
    if fixed is None or sum(a != b for a, b in zip(fixed, digits, strict=True)) != 1:
        return None
    id_conf = _number_confidence(doc.pages[page], digits)
    year_conf = _year_confidence(doc.pages[page], year, digits)
    if id_conf is None or year_conf is None:
        return None
    return digits if id_conf >= year_conf else fixed


def _misread_ids(doc: Doc) -> Iterator[tuple[Hit, FieldValue]]:
    """Personal IDs right after an ID label with up to three digits read as look-alike
    letters (``O7S2I9174820``: ``S``/``Z``/``B`` too, which folding keeps as letters)."""
    ex = doc.ex
    for hit in find_labels(doc, "id_cccd"):
        m = MISREAD_ID.match(hit.line.folded, hit.end)
        if not m:
            continue
        raw = m.group(1).replace(" ", "")
        letters = sum(not c.isdigit() for c in raw)
        if not 0 < letters <= 3:
            continue
        digits = raw.translate(_ID_DIGITS)
        year = birth_year_in(hit.line.folded) or page_birth_year(doc, hit.page)
        if cccd_ok(digits, year, century=ex.century, max_province=ex.max_province):
            base = 0.75 + 0.05 * (year is not None)
            yield hit, make_value(digits, base, exact=hit.exact, fixes=letters + 1)


def tax_code(doc: Doc) -> FieldValue | None:
    """A valid tax/business code introduced by its label (same line or the line above)."""
    for p, i, line in doc.lines():
        for digits, start, end in mst_candidates(line.folded):
            if label_before(doc, p, i, start, TAX_CLASSES) != "ma_so_doanh_nghiep":
                continue
            if not mst_valid(digits):
                continue
            hits = [h for h in find_labels(doc, "ma_so_doanh_nghiep", p) if h.index in (i, i - 1)]
            exact = any(h.exact for h in hits)
            return make_value(mst_format(digits), 0.95, exact=exact, fixes=line.fixes(start, end))
    return None


def extract_ma_dinh_danh(doc: Doc, strategies: tuple[str, ...]) -> dict[str, FieldValue]:
    """Owner's ID: a personal ID (``personal``) or the organization's tax code (``tax_code``)."""
    for strategy in strategies:
        value = personal_id(doc) if strategy == "personal" else tax_code(doc)
        if value:
            return {"ma_dinh_danh": value}
    return {}


def extract_so_cmnd(doc: Doc, strategies: tuple[str, ...]) -> dict[str, FieldValue]:
    """A 9-digit old ID number, only when an ID label introduces it."""
    for p, i, line in doc.lines():
        for c in digit_candidates(line.folded, 9, whole_only=True):
            label = label_before(doc, p, i, c.start, ID_CLASSES)
            if label in (None, "not_id"):
                continue
            base = 0.85 if label == "id_cmnd" else 0.75
            return {"so_cmnd": make_value(c.digits, base, fixes=line.fixes(c.start, c.end))}
    return {}


def extract_ma_so_doanh_nghiep(doc: Doc, strategies: tuple[str, ...]) -> dict[str, FieldValue]:
    value = tax_code(doc)
    return {"ma_so_doanh_nghiep": value} if value else {}


def extract_so_phat_hanh(doc: Doc, strategies: tuple[str, ...]) -> dict[str, FieldValue]:
    """Land certificate serial (``AK 123456``), not the registry entry (``Số vào sổ``)."""
    found = []
    for p, i, line in doc.lines():
        for start, mid, end in serial_candidates(line.folded):
            if "vao so" in line.key[:start]:
                continue
            label = label_before(doc, p, i, start, ("so_phat_hanh",))
            text = f"{line.restore(start, mid)} {line.folded[end - 6 : end]}"
            value = make_value(text, 0.85 if label else 0.7, fixes=line.fixes(start, end))
            found.append((label is None, p, i, value))
    return {"so_phat_hanh": min(found, key=lambda f: f[:3])[3]} if found else {}
