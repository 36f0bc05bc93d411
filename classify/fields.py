"""Field extraction: which extractor fills which field, and the text fields themselves.

Every extractor takes the prepared ``Doc`` and the strategies the catalogue lists for the
field, and returns ``{field: FieldValue}`` (source ``ocr``, NFC, confidence 0..1), empty when
nothing trustworthy was found. Names are returned as printed (often capitals): converting
case would alter what the clerk compares with the paper; search is case-insensitive anyway.
Dates are ISO ``YYYY-MM-DD``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from classify.catalogue import Catalogue, DocType
from classify.dates import date_at, iso
from classify.doc import Doc, find_labels, make_value, stop_at, value_place
from classify.idfields import (
    extract_ma_dinh_danh,
    extract_ma_so_doanh_nghiep,
    extract_so_cmnd,
    extract_so_phat_hanh,
)
from classify.issuer import NUMBERISH, extract_co_quan_cap
from classify.rules import PageView
from classify.textview import Line, key
from models.document import FieldValue

Extractor = Callable[[Doc, tuple[str, ...]], dict[str, FieldValue]]

# scan noise may precede the label ("ị Số: 555923333", "_Số: 690829737"); ";" for ":"
NUMBER_LABEL = re.compile(
    r"^[\W_]*(?:[^\W\d_][\W_]+)?[Ss][oO0]\s*[:.;]\s*"
    r"|^[\W_]*(?:[^\W\d_][\W_]+)?[Ss][oO0]\s+(?=\d)"
)
# one symbol part: capitals and digits, one small letter after two capitals at most (TTr),
# then a word end, so
# that a place name after the number ("437/GPXD - Hải Phòng") is not taken for a part
_PART = r"[A-Z0-9][A-Z0-9.]*(?:(?<=[A-Z0-9.]{2})[a-z][A-Z0-9.]*)?(?![A-Za-z0-9])"
_SYMBOL = rf"(?=[A-Z]){_PART}(?:\s*-\s*{_PART})*"  # QĐ-UBND, TTr-UBND, CAT-PC06
NUMBER_VALUE = re.compile(rf"\d+(?: \d+)*(?:\s*/\s*(?:19|20)\d{{2}})?(?:\s*/\s*{_SYMBOL})?")
PLACE_DATE = re.compile(
    r"(?<![A-Za-z])[A-Za-z][A-Za-z.]*\s*,\s*(?=(?i:ngay)\W{0,3}[0-9OoIl])"
    r"|^\W*(?=(?i:ngay)\W{0,3}[0-9OoIl])"
)
SUBJECT = re.compile(r"^\W*(?:ve\s*viec|v\s*/\s*v)\b\s*:?\s*", re.I)
SUBJECT_END = tuple(key(s) for s in ("Căn cứ", "Kính gửi", "Nơi nhận"))
FORM_CODE = re.compile(
    r"\b(?i:mau)\s*(?:(?i:so)\s*)?:?\s*([A-Z]{0,4}\s*-?\s*\d{1,3}[a-z]?(?:\s*/\s*[A-Z0-9][A-Z0-9-]*)?)"
)


def _dashes(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("\u2013", "-").replace("\u2014", "-").rstrip(".")


def extract_so_ky_hieu(doc: Doc, strategies: tuple[str, ...]) -> dict[str, FieldValue]:
    """``Số: 123/QĐ-UBND`` at the start of a line; stray spaces removed."""
    for _, _, line in doc.lines():
        label = NUMBER_LABEL.match(line.folded)
        value = label and NUMBER_VALUE.match(line.folded, label.end())
        if not value:
            continue
        s, e = line.orig_span(label.start(), label.end())
        exact = "ố" in line.orig[s:e].lower()
        text = _dashes(line.restore(value.start(), value.end()))
        base = 0.9 if "/" in text else 0.7
        fixes = line.fixes(value.start(), value.end())
        return {"so_ky_hieu": make_value(text, base, exact=exact, fixes=fixes)}
    return {}


def labelled_date(doc: Doc, name: str) -> FieldValue | None:
    """The date right after the first label of ``name`` (catalogue priority order)."""
    for hit in find_labels(doc, name):
        line, pos, _ = value_place(doc, hit)
        found = date_at(line.folded, pos)
        if found:
            fixes = line.fixes(found.start, found.end) + found.fixes
            return make_value(iso(found.value), 0.9, exact=hit.exact, fixes=fixes)
    return None


def place_date(doc: Doc) -> FieldValue | None:
    """``Tây Ninh, ngày 05 tháng 5 năm 2023`` (or a line opening with ``Ngày ...``)."""
    for _, _, line in doc.lines():
        for m in PLACE_DATE.finditer(line.folded):
            found = date_at(line.folded, m.end(), slack=0)
            if found:
                exact = "ngày" in line.orig.lower()
                fixes = line.fixes(found.start, found.end) + found.fixes
                return make_value(iso(found.value), 0.9, exact=exact, fixes=fixes)
    return None


def extract_ngay_cap(doc: Doc, strategies: tuple[str, ...]) -> dict[str, FieldValue]:
    for strategy in strategies:
        value = labelled_date(doc, "ngay_cap") if strategy == "label" else place_date(doc)
        if value:
            return {"ngay_cap": value}
    return {}


def _date_field(name: str) -> Extractor:
    def extract(doc: Doc, strategies: tuple[str, ...]) -> dict[str, FieldValue]:
        value = labelled_date(doc, name)
        return {name: value} if value else {}

    extract.__doc__ = f"The labelled date ``{name}``."
    return extract


def is_name(text: str) -> bool:
    """Two to seven capitalized words of letters only."""
    words = text.split()
    return 2 <= len(words) <= 7 and all(w[0].isupper() and w.isalpha() for w in words)


def _skip_honorific(doc: Doc, line: Line, pos: int) -> int:
    for pattern in doc.labels("honorific"):
        m = pattern.loose.match(line.folded, pos)
        if m:
            return re.compile(r"\s*[:.]?\s*").match(line.folded, m.end()).end()
    return pos


def extract_ho_ten(doc: Doc, strategies: tuple[str, ...]) -> dict[str, FieldValue]:
    """The person's name after ``Họ và tên``, ``Họ, chữ đệm và tên``, ``Full name``..."""
    for hit in find_labels(doc, "ho_ten"):
        line, pos, _ = value_place(doc, hit)
        pos = _skip_honorific(doc, line, pos)
        end = stop_at(doc, line, pos, ",;:(")
        name = line.restore(pos, end).strip(" .-")
        if is_name(name):
            fixes = line.fixes(pos, end)
            return {"ho_ten": make_value(name, 0.85, exact=hit.exact, fixes=fixes)}
    return {}


def _title_text(lines: Sequence[Line], start: int, end: int) -> str:
    """The title line and its capital continuation lines (no numbers, no English gloss)."""
    parts = [lines[start].restore(0, len(lines[start].folded))]
    for line in lines[start + 1 : end]:
        if NUMBERISH.search(line.folded) or (line.orig.isascii() and not parts[0].isascii()):
            break
        parts.append(line.restore(0, len(line.folded)))
    return " ".join(parts).strip(" :.")


def extract_ten_giay_to(doc: Doc, strategies: tuple[str, ...]) -> dict[str, FieldValue]:
    """The first title of the document's type (``QUYẾT ĐỊNH``, ``GIẤY CHỨNG NHẬN ...``)."""
    for page in doc.pages:
        for start, end, views in page.title_starts:
            for cue in doc.doc_type.titles:
                exact = cue.pattern.exact.search(views.exact) is not None
                if exact or cue.pattern.loose.search(views.key):
                    text = _title_text(page.lines, start, end)
                    return {"ten_giay_to": make_value(text, 0.9, exact=exact)}
    return {}


def extract_trich_yeu(doc: Doc, strategies: tuple[str, ...]) -> dict[str, FieldValue]:
    """The subject line, ``Về việc ...`` / ``V/v ...`` (prefix dropped, first letter capital)."""
    lines = doc.pages[0].lines if doc.pages else ()
    for i, line in enumerate(lines):
        m = SUBJECT.match(line.folded)
        if not m or m.end() >= len(line.folded):
            continue
        parts = [line.restore(m.end(), len(line.folded))]
        for nxt in lines[i + 1 : i + 3]:
            if not nxt.orig or nxt.upper or nxt.key.startswith(SUBJECT_END):
                break
            parts.append(nxt.restore(0, len(nxt.folded)))
        text = " ".join(parts).strip(" .;")
        exact = line.exact.lower().lstrip(" -").startswith(("về việc", "v/v"))
        return {"trich_yeu": make_value(text[:1].upper() + text[1:], 0.85, exact=exact)}
    return {}


def extract_ten_doanh_nghiep(doc: Doc, strategies: tuple[str, ...]) -> dict[str, FieldValue]:
    """The business name after ``Tên công ty viết bằng tiếng Việt``, as printed."""
    for hit in find_labels(doc, "ten_doanh_nghiep"):
        line, pos, _ = value_place(doc, hit)
        text = line.restore(pos, len(line.folded)).strip(" .;")
        if text and text[0].isupper():
            return {"ten_doanh_nghiep": make_value(text, 0.85, exact=hit.exact)}
    return {}


def extract_mau_so(doc: Doc, strategies: tuple[str, ...]) -> dict[str, FieldValue]:
    """The form code, ``Mẫu CT01`` -> ``CT01``, ``Mẫu số 01/ĐKĐĐ`` -> ``01/ĐKĐĐ``."""
    for _, _, line in doc.lines():
        m = FORM_CODE.search(line.folded)
        if m:
            text = re.sub(r"\s+", "", line.restore(m.start(1), m.end(1)))
            return {"mau_so": make_value(text, 0.85, fixes=line.fixes(m.start(1), m.end(1)))}
    return {}


SCALE = re.compile(r"(?<![\w/])[1lI]\s*[/:]\s*([0-9OoIl]{1,4})(?![\w])")
_AS_DIGITS = str.maketrans("OoIl", "0011")
SHEET_CODE = re.compile(r"[A-Z0-9]{1,4}\s*[-.]\s*\d{1,3}[A-Z]?(?![\w])")


def _labelled_text(name: str, shape: re.Pattern | None = None) -> Extractor:
    """A title-block value after its label (first label found wins), to the end of the line
    or the next stop label; ``shape``, when given, must match inside it and is kept alone."""

    def extract(doc: Doc, strategies: tuple[str, ...]) -> dict[str, FieldValue]:
        for hit in find_labels(doc, name):
            line, pos, _ = value_place(doc, hit)
            pos = re.compile(r"[\s:.]*").match(line.folded, pos).end()
            end = stop_at(doc, line, pos)
            if shape is None:
                text = line.restore(pos, end).strip(" .;:-")
            else:
                m = shape.search(line.folded, pos, end)
                if not m:
                    continue
                text = re.sub(r"\s+", "", line.restore(m.start(), m.end()))
                if shape is SCALE:
                    text = "1/" + m.group(1).translate(_AS_DIGITS)
            if text:
                fixes = line.fixes(pos, end)
                return {name: make_value(text, 0.85, exact=hit.exact, fixes=fixes)}
        return {}

    extract.__doc__ = f"The title-block field ``{name}``."
    return extract


EXTRACTORS: dict[str, Extractor] = {
    "ten_giay_to": extract_ten_giay_to,
    "so_ky_hieu": extract_so_ky_hieu,
    "ngay_cap": extract_ngay_cap,
    "co_quan_cap": extract_co_quan_cap,
    "trich_yeu": extract_trich_yeu,
    "hieu_luc_den": _date_field("hieu_luc_den"),
    "ma_dinh_danh": extract_ma_dinh_danh,
    "so_cmnd": extract_so_cmnd,
    "ho_ten": extract_ho_ten,
    "ngay_sinh": _date_field("ngay_sinh"),
    "ma_so_doanh_nghiep": extract_ma_so_doanh_nghiep,
    "ten_doanh_nghiep": extract_ten_doanh_nghiep,
    "so_phat_hanh": extract_so_phat_hanh,
    "mau_so": extract_mau_so,
    "cong_trinh": _labelled_text("cong_trinh"),
    "chu_dau_tu": _labelled_text("chu_dau_tu"),
    "ten_ban_ve": _labelled_text("ten_ban_ve"),
    "ky_hieu_ban_ve": _labelled_text("ky_hieu_ban_ve", SHEET_CODE),
    "ty_le": _labelled_text("ty_le", SCALE),
}


def extract_fields(
    pages: Sequence[PageView], doc_type: DocType, catalogue: Catalogue
) -> dict[str, FieldValue]:
    """Run the extractors the catalogue lists for ``doc_type`` (first value of a name wins)."""
    doc = Doc(tuple(pages), doc_type, catalogue)
    out: dict[str, FieldValue] = {}
    for name, strategies in doc_type.fields.items():
        for field, value in EXTRACTORS[name](doc, strategies).items():
            out.setdefault(field, value)
    return out
