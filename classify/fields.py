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
from classify.dates import FoundDate, date_at, find_dates, iso, make_date
from classify.doc import Doc, find_labels, make_value, stop_at, value_place
from classify.idfields import (
    extract_ma_dinh_danh,
    extract_ma_so_doanh_nghiep,
    extract_so_cmnd,
    extract_so_phat_hanh,
)
from classify.issuer import NUMBERISH, extract_co_quan_cap
from classify.rules import PageView
from classify.textview import Line, base_char, key
from models.document import FieldValue

Extractor = Callable[[Doc, tuple[str, ...]], dict[str, FieldValue]]

# scan noise may precede the label ("ị Số: 555923333", "_Số: 690829737"); ";" for ":"
NUMBER_LABEL = re.compile(
    r"^[\W_]*(?:[^\W\d_][\W_]+)?[Ss][oO0]\s*[:.;][\s:.;]*"
    r"|^[\W_]*(?:[^\W\d_][\W_]+)?[Ss][oO0]\s+(?=\d)"
)
# one symbol part: capitals and digits, one small letter after two capitals at most (TTr),
# then a word end, so
# that a place name after the number ("437/GPXD - Hải Phòng") is not taken for a part
_PART = r"[A-Z0-9][A-Z0-9.]*(?:(?<=[A-Z0-9.]{2})[a-z][A-Z0-9.]*)?(?![A-Za-z0-9])"
_SYMBOL = rf"(?=[A-Z]){_PART}(?:\s*-\s*{_PART})*"  # QĐ-UBND, TTr-UBND, CAT-PC06
NUMBER_VALUE = re.compile(rf"\d+(?: \d+)*(?:\s*/\s*(?:19|20)\d{{2}})?(?:\s*/\s*{_SYMBOL})?")
# "Tây Ninh, ngày ...": the date after a place and a comma (or ";", noise after it; its
# words may be damaged: "Khánh Hòa, guát 12 tháng 3 năm 2023"), or a line opening with
# "Ngày ..."
PLACE_DATE = re.compile(
    r"(?<![A-Za-z])[A-Za-z][A-Za-z.]*\s*[,;][\s.,:;]*(?=[A-Za-z]{2,6}\W{0,3}[0-9OoIlS])"
)
LINE_DATE = re.compile(r"^\W*(?=[A-Za-z]{2,6}\W{0,3}[0-9OoIlS])")
SUBJECT = re.compile(r"^\W*(?:ve\s*viec|v\s*/\s*v)\b\s*:?\s*", re.I)
SUBJECT_END = tuple(key(s) for s in ("Căn cứ", "Kính gửi", "Nơi nhận"))
FORM_CODE = re.compile(
    r"\b(?i:mau)\s*(?:(?i:so)\s*)?:?\s*([A-Z]{0,4}\s*-?\s*\d{1,3}[a-z]?(?:\s*/\s*[A-Z0-9][A-Z0-9-]*)?)"
)


def _dashes(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("\u2013", "-").replace("\u2014", "-").rstrip(".")


# an "O" between the letters and the final digits of a symbol part is a zero (``PCO6``)
O_IN_CODE = re.compile(r"(?<=[A-Z])[Oo](?=\d+(?![A-Za-z0-9]))")


def _unmarked_symbol(text: str) -> str:
    """Tone and hat marks dropped from the capitals of the symbol (``CẠT`` -> ``CAT``): the
    abbreviations carry none, only ``Đ``, so such marks are OCR noise; ``PCO6`` -> ``PC06``."""
    head, slash, tail = text.partition("/")
    fixed = "".join(c if c in "Đđ" or not c.isupper() else base_char(c) or c for c in tail)
    return head + slash + O_IN_CODE.sub("0", fixed)


# A number whose "/" OCR misread as a look-alike (I l | 1 ! \\) or lost, found by the known
# abbreviation that follows (``670IGPXD``, ``670GPXD``, ``12lQĐ-UBND``, ``45I2020IQĐ-UBND``);
# ``O`` for ``0`` in the number (``1O76IQĐ``). Read on the marks-stripped original text,
# since folding turns ``I`` into ``1``. The later parts of the symbol may be joined by a
# misread dash (``2730/QĐ. BTC``).
_SLASHLIKE = r"[/Il|1!\\]"
_DAMAGED_SYMBOL = (
    r"([A-Z][A-Za-z]{0,4})(?![A-Za-z0-9])"
    r"((?:(?: ?[-.,_~\u2013]){1,2} ?[A-Z][A-Z0-9]{1,7}(?![A-Za-z0-9]))*)"
)
DAMAGED_NUMBER = re.compile(
    rf"(\d[\dOo]*(?: [\dOo]+)*) ?({_SLASHLIKE}) ?(?:((?:19|20)\d\d) ?({_SLASHLIKE}) ?)?"
    + _DAMAGED_SYMBOL
)
# the same with the slash lost (``670GPXD``), tried second (``6701GPXD`` is 670/GPXD): one
# to four digits, so that a number and year that both lost their slash (``452020NĐ-CP``) is
# not read as one number (groups as in DAMAGED_NUMBER: slash empty, no year)
LOST_SLASH = re.compile(r"(\d[\dOo]{0,3}) ?()((?!))?((?!))?" + _DAMAGED_SYMBOL)
_O_AS_ZERO = str.maketrans("Oo", "00")
_LATER_PART = re.compile(r"((?: ?[-.,_~\u2013]){1,2}) ?([A-Z][A-Z0-9]*)")


def _unmarked_part(text: str) -> str:
    return _unmarked_symbol("/" + text)[1:]


def _plain(line: Line) -> str:
    """``line.orig`` without diacritics, same length (``Đ`` -> ``D``)."""
    return "".join(base_char(c) or c for c in line.orig)


def damaged_number(
    doc: Doc, line: Line, start: int, *, strict: bool = False, exact: bool = True
) -> FieldValue | None:
    """The number and symbol at ``line.orig[start:]`` when the symbol opens with a known
    abbreviation (catalogue ``symbols``): look-alikes of ``/`` and of ``-`` repaired, each
    repair lowering the confidence. ``strict``: only real slashes."""
    plain = _plain(line)
    m = DAMAGED_NUMBER.match(plain, start) or LOST_SLASH.match(plain, start)
    if not m or m.group(5).upper() not in doc.ex.symbols:
        return None
    slashes = [g for g in (m.group(2), m.group(4)) if g is not None]  # "": a lost slash
    if strict and any(g != "/" for g in slashes):
        return None
    parts = [_unmarked_symbol("/" + line.orig[m.start(5) : m.end(5)])[1:]]
    seps = []
    for part in _LATER_PART.finditer(m.group(6)):
        seps.append(part.group(1))
        parts.append(
            _unmarked_part(line.orig[m.start(6) + part.start(2) : m.start(6) + part.end(2)])
        )
    number = m.group(1).replace(" ", "")
    repairs = sum(g != "/" for g in slashes) + sum(sep.strip() not in "-\u2013" for sep in seps)
    repairs += sum(c in "Oo" for c in number) + len(O_IN_CODE.findall(plain, m.start(5), m.end()))
    year = f"{m.group(3)}/" if m.group(3) else ""
    text = f"{number.translate(_O_AS_ZERO)}/{year}{'-'.join(parts)}"
    return make_value(text, 0.9 if not repairs else 0.75, exact=exact, fixes=repairs)


def _header_lines(doc: Doc, most: int = 10) -> range:
    """Lines of page 1 above the document's title or subject (where its number stands), at
    most ``most``: body references (``Căn cứ Nghị định số 45/2020/NĐ-CP``) come later."""
    if not doc.pages:
        return range(0)
    page = doc.pages[0]
    end = min(most, len(page.lines))
    for start, _end, views in page.title_starts:
        for cue in doc.doc_type.titles:
            if cue.pattern.exact.search(views.exact) or cue.pattern.loose.search(views.key):
                end = min(end, start)
    for i, line in enumerate(page.lines[:end]):
        text = line.key.lstrip(" _-.:;,'\"`~")
        if SUBJECT.match(line.folded) or text.startswith(SUBJECT_END):
            return range(i)
    return range(end)


def extract_so_ky_hieu(doc: Doc, strategies: tuple[str, ...]) -> dict[str, FieldValue]:
    """``Số: 123/QĐ-UBND`` at the start of a line; stray spaces removed, a ``/`` or ``-``
    misread as a look-alike repaired before a known abbreviation (catalogue ``symbols``).

    Strategies: ``plain`` takes a bare number (household books, birth certificates);
    ``symbol`` alone says the type's numbers always carry a symbol, so a bare number (its
    symbol lost) is not taken, and a number with a known symbol above the title is taken
    even when its label is unreadable. A type listing none gets both: bare numbers taken.
    """
    plain_ok = "plain" in strategies
    for _, _, line in doc.lines():
        label = NUMBER_LABEL.match(line.folded)
        if not label:
            continue
        s, e = line.orig_span(label.start(), label.end())
        exact = "ố" in line.orig[s:e].lower()
        value = NUMBER_VALUE.match(line.folded, label.end())
        text = _dashes(line.restore(value.start(), value.end())) if value else ""
        if text and "/" not in text and line.folded[value.end() : value.end() + 1].isalnum():
            text = ""  # "27A4", "6L": a bare number glued to letters is misread
        repaired = damaged_number(doc, line, e, exact=exact)
        if repaired and not ("/" in text and len(text) >= len(repaired.value)):
            return {"so_ky_hieu": repaired}
        if not text or ("/" not in text and not plain_ok):
            continue
        base = 0.9 if "/" in text else 0.7
        fixes = line.fixes(value.start(), value.end())
        fixes += len(O_IN_CODE.findall(text.partition("/")[2]))
        return {"so_ky_hieu": make_value(_unmarked_symbol(text), base, exact=exact, fixes=fixes)}
    if not plain_ok:  # the type's numbers carry a symbol: look for one without its label
        lines = doc.pages[0].lines if doc.pages else ()
        for i in _header_lines(doc):
            for m in re.finditer(r"(?<![\w/.])\d", lines[i].orig):
                found = damaged_number(doc, lines[i], m.start(), strict=True, exact=False)
                if found:
                    return {"so_ky_hieu": found}
    return {}


# a labelled date whose separators OCR lost or misread as a look-alike: "2405/1997",
# "22/07I2017" (folded "22/0712017") for "22/07/2017"; after a label only
LOOSE_DATE = re.compile(r"(\d\d)(?:[/.\-|]|1(?=\d\d\D?\d{4}))?(\d\d)(?:[/.\-|]|1(?=\d{4}))?(\d{4})")
_LEAD = re.compile(r"[\s.:;,'`_\-]*")


def _loose_date(folded: str, pos: int) -> FoundDate | None:
    """The labelled date at ``pos`` (leading scan noise skipped), separators optional."""
    start = _LEAD.match(folded, pos).end()
    tail = folded[start:]
    found = date_at(tail, 0, 0)
    if found:
        return FoundDate(found.value, found.start + start, found.end + start, found.fixes)
    m = LOOSE_DATE.match(tail)
    if not m or (m.end() < len(tail) and (tail[m.end()].isalnum() or tail[m.end()] in "/-")):
        return None
    d = make_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    return FoundDate(d, start, start + m.end(), 2) if d else None


def labelled_date(doc: Doc, name: str) -> FieldValue | None:
    """The date right after the first label of ``name`` (catalogue priority order); after a
    label, a date whose separators were lost or misread (``2405/1997``) is taken too."""
    for hit in find_labels(doc, name):
        line, pos, _ = value_place(doc, hit)
        found = date_at(line.folded, pos) or _loose_date(line.folded, pos)
        if found:
            fixes = line.fixes(found.start, found.end) + found.fixes
            return make_value(iso(found.value), 0.9, exact=hit.exact, fixes=fixes)
    return None


def place_date(doc: Doc) -> FieldValue | None:
    """``Tây Ninh, ngày 05 tháng 5 năm 2023`` (or a line opening with ``Ngày ...``); a date
    whose ``ngày`` is unreadable is taken after ``Place,`` only when no line has a clean one."""
    for damaged in (0, 1):
        for _, _, line in doc.lines():
            starts = [m.end() for m in PLACE_DATE.finditer(line.folded)]
            if not damaged:
                starts += [m.end() for m in LINE_DATE.finditer(line.folded)]
            for start in sorted(starts):
                found = date_at(line.folded, start, slack=0, damaged_words=damaged)
                if found:
                    exact = "ngày" in line.orig.lower()
                    fixes = line.fixes(found.start, found.end) + found.fixes
                    return make_value(iso(found.value), 0.9, exact=exact, fixes=fixes)
    return _header_date(doc)


def _header_date(doc: Doc) -> FieldValue | None:
    """A clean ``ngày ... tháng ... năm ...`` above the title, its place lost to the scan
    ("588/GPXD . - TU ngày 23 tháng 8 năm 2021"): the issue date stands there."""
    if not doc.pages or not doc.doc_type.titles:
        return None
    lines = doc.pages[0].lines
    for i in _header_lines(doc):
        for found in find_dates(lines[i].folded):
            if lines[i].folded[found.start : found.start + 1].isalpha():  # the word form
                fixes = lines[i].fixes(found.start, found.end) + found.fixes + 1
                return make_value(iso(found.value), 0.8, exact=False, fixes=fixes)
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
