"""Dates in folded OCR text (no diacritics, look-alike digits fixed), returned as ``date``.

Forms: ``ngày 05 tháng 5 năm 2023`` (official; days and months may lack their zero),
``15/07/2021``, ``15-07-2021``, ``15.07.2021`` (one separator throughout), with stray spaces
(also inside the month: ``07/1 1/2020``).
Impossible dates (31/02) and years outside 1900..2100 are rejected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from classify.textview import fold

# Between the words, digits misread as letters ("ngày lO tháng") are taken back; up to three
# stray marks of OCR noise ("ngày: 28 tháng ¡ 7") are skipped.
_D = "[0-9OoIl]"
WORDS = re.compile(
    rf"ngay[^\w]{{0,3}}({_D}{{1,2}})[^\w]{{0,3}}thang[^\w]{{0,3}}({_D}{{1,2}})[^\w]{{0,3}}nam"
    rf"[^\w]{{0,3}}({_D}{{4}})(?![\w])",
    re.I,
)
_DIGITS = str.maketrans("OoIl", "0011")
NUMERIC = re.compile(
    r"(?<![\d/.\-])(\d{1,2})\s?([/.\-])\s?(\d\s?\d|\d)\s?\2\s?(\d{4})(?!\d|\s?[/\-]\s?\w)"
)
BIRTH_YEAR = re.compile(r"(?:nam\s*sinh|sinh\s*nam)\s*:?\s*(\d{4})(?!\d)", re.I)
BIRTH_DATE = re.compile(r"(?:sinh\s*ngay|ngay\s*sinh|nam\s*sinh|date\s*of\s*birth)\s*:?\s*", re.I)
YEARS = (1900, 2100)


@dataclass(frozen=True)
class FoundDate:
    """A date, its ``[start, end)`` span in the searched text, letters read as digits."""

    value: date
    start: int
    end: int
    fixes: int = 0


def make_date(day: int, month: int, year: int) -> date | None:
    """The date, or ``None`` when it cannot exist."""
    if not YEARS[0] <= year <= YEARS[1]:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def find_dates(folded: str) -> list[FoundDate]:
    """All valid dates in the text, in order, without overlaps."""
    found = []
    for m in WORDS.finditer(folded):
        parts = [int(g.translate(_DIGITS)) for g in m.groups()]
        d = make_date(*parts)
        if d:
            fixes = sum(not c.isdigit() for c in "".join(m.groups()))
            found.append(FoundDate(d, m.start(), m.end(), fixes))
    for m in NUMERIC.finditer(folded):
        d = make_date(int(m.group(1)), int(m.group(3).replace(" ", "")), int(m.group(4)))
        if d and not any(f.start <= m.start() < f.end for f in found):
            found.append(FoundDate(d, m.start(), m.end()))
    return sorted(found, key=lambda f: f.start)


def date_at(folded: str, pos: int, slack: int = 3) -> FoundDate | None:
    """The date starting within ``slack`` characters after ``pos``."""
    for f in find_dates(folded):
        if pos <= f.start <= pos + slack:
            return f
    return None


def parse_date(text: str) -> date | None:
    """The first date in any text (folded first, so diacritics and O/0 do not matter)."""
    found = find_dates(fold(text))
    return found[0].value if found else None


def iso(value: date) -> str:
    """``YYYY-MM-DD``."""
    return value.isoformat()


def birth_year_in(folded: str) -> int | None:
    """The birth year stated on a line (``sinh năm 1975``, ``Ngày sinh: 12/03/2003``)."""
    m = BIRTH_YEAR.search(folded)
    if m:
        year = int(m.group(1))
        return year if YEARS[0] <= year <= YEARS[1] else None
    m = BIRTH_DATE.search(folded)
    if m:
        found = date_at(folded, m.end())
        return found.value.year if found else None
    return None
