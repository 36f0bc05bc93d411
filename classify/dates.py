"""Dates in folded OCR text (no diacritics, look-alike digits fixed), returned as ``date``.

Forms: ``ngày 05 tháng 5 năm 2023`` (official; days and months may lack their zero),
``15/07/2021``, ``15-07-2021``, ``15.07.2021`` (one separator throughout), with stray spaces
(also inside the month: ``07/1 1/2020``). The words of the official form may be misread
(``thông``, ``táng``, ``riăm``: ``near_word``); an unreadable ``ngày`` only where a date is
expected (``damaged_words``).
Impossible dates (31/02) and years outside 1900..2100 are rejected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from classify.textview import fold

# Between the words, digits misread as letters ("ngày lO tháng") are taken back; up to three
# stray marks of OCR noise ("ngày: 28 tháng ¡ 7") are skipped; a space may split a number
# ("tháng 1 1", "năm 20 23"). The words themselves may be damaged ("thông", "riăm" for
# "tháng", "năm"): each slot takes a short word, checked by ``near_word``.
_D = "[0-9OoIlS]"  # digits and their look-alikes (O, I, l, S for 5)
_GAP = r"[^\w]{0,3}"
_WORD = r"([A-Za-z]{2,6})"
_DM = rf"({_D} ?{_D}(?! ?{_D})|{_D}(?! ?{_D}))"
_YEAR = rf"({_D}(?: ?{_D}){{3}})(?![\w])"
WORDS = re.compile(
    rf"(?<![A-Za-z]){_WORD}{_GAP}{_DM}{_GAP}{_WORD}{_GAP}{_DM}{_GAP}{_WORD}{_GAP}{_YEAR}"
)
DATE_WORDS = ("ngay", "thang", "nam")
# letters Tesseract splits or merges ("ri"/"n" like "rn"/"m"), undone before comparing
_LETTER_FIXES = (("ri", "n"), ("rn", "m"), ("cl", "d"))
_DIGITS = str.maketrans("OoIlS", "00115")
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


def _distance(a: str, b: str) -> int:
    """Levenshtein distance."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def near_word(word: str, target: str) -> int | None:
    """0 when ``word`` is ``target`` (folded, any case), 1 when it is a damaged reading of it
    (``thong``, ``tang``, ``riam``: one edit, two for the five letters of ``thang``), else
    ``None``."""
    w = word.lower()
    if w == target:
        return 0
    for wrong, right in _LETTER_FIXES:
        w = w.replace(wrong, right)
    if w == target:
        return 1
    return 1 if _distance(w, target) <= (2 if len(target) >= 5 else 1) else None


def _word_dates(folded: str, damaged_words: int) -> list[FoundDate]:
    found = []
    for m in WORDS.finditer(folded):
        near = [near_word(m.group(k), t) for k, t in zip((1, 3, 5), DATE_WORDS, strict=True)]
        bad = sum(n is None for n in near)
        # "thang" and "nam" must be readable when "ngay" is not
        if bad > damaged_words or near[1] is None or near[2] is None:
            continue
        digits = [m.group(k).replace(" ", "") for k in (2, 4, 6)]
        d = make_date(*(int(g.translate(_DIGITS)) for g in (digits[0], digits[1], digits[2])))
        if d:
            fixes = sum(not c.isdigit() for c in "".join(digits))
            fixes += sum(n != 0 for n in near) + sum(" " in m.group(k) for k in (2, 4, 6))
            found.append(FoundDate(d, m.start(), m.end(), fixes))
    return found


def find_dates(folded: str, *, damaged_words: int = 0) -> list[FoundDate]:
    """All valid dates in the text, in order, without overlaps. The words of ``ngày ...
    tháng ... năm ...`` may be misread; ``damaged_words=1`` also accepts an unreadable
    ``ngày`` (for a date where one is expected, after ``Place,``)."""
    found = _word_dates(folded, damaged_words)
    for m in NUMERIC.finditer(folded):
        d = make_date(int(m.group(1)), int(m.group(3).replace(" ", "")), int(m.group(4)))
        if d and not any(f.start <= m.start() < f.end for f in found):
            found.append(FoundDate(d, m.start(), m.end()))
    return sorted(found, key=lambda f: f.start)


def date_at(folded: str, pos: int, slack: int = 3, *, damaged_words: int = 0) -> FoundDate | None:
    """The date starting within ``slack`` characters after ``pos``."""
    for f in find_dates(folded, damaged_words=damaged_words):
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
