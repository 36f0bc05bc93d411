"""Identifier numbers, as pure functions on folded text (look-alike digits already fixed).

- Personal ID (CCCD, 12 digits ``PPP G YY NNNNNN``): no check digit, so the province range,
  the century digit ``G`` and, when known, the birth year are checked.
- Old ID card (CMND): 9 digits, no structure.
- Tax / business code (MST): 10 digits with a check digit, branches ``-001``..``-999``;
  validated by ``python-stdnum`` when installed, else by the same rule built in.
- Land certificate serial: two capital letters and six digits (format not verified).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date

try:  # optional dependency: python-stdnum
    from stdnum.vn import mst as _stdnum_mst
except ImportError:  # pragma: no cover - exercised only without python-stdnum
    _stdnum_mst = None

CENTURY = {0: 1900, 1: 1900, 2: 2000, 3: 2000}
MST_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)
MST = re.compile(r"(?<![\d/.\-])(?<!\d )(\d(?: ?\d){9})(?:\s?-\s?(\d{3}))?(?![\d/])(?! \d)")
SERIAL = re.compile(r"(?<![A-Za-z0-9])([A-Z]{2}) ?(\d{6})(?![\d/])")
_RUN = re.compile(r"\d+(?: \d+)*")


@dataclass(frozen=True)
class Candidate:
    """Digits found in a folded line, spaces removed, with their ``[start, end)`` span."""

    digits: str
    start: int
    end: int
    first: bool = True  # starts the run of digit groups (nothing glued before it)


def _glued(text: str, i: int, step: int) -> bool:
    """Whether the digit run ending (or starting) next to ``i`` continues into something else."""
    if not 0 <= i < len(text):
        return False
    c = text[i]
    nxt = text[i + step] if 0 <= i + step < len(text) else ""
    # a dash only glues when something follows it ("123-456"), not a dangling "476- 5."
    return c == "/" or c.isalpha() or (c == "-" and nxt.isalnum()) or (c in ".," and nxt.isdigit())


def digit_candidates(text: str, length: int, *, whole_only: bool = False) -> Iterator[Candidate]:
    """Runs of ``length`` digits, allowing single spaces between digit groups.

    A run glued to ``/``, ``-``, letters or a decimal point (dates, document numbers,
    amounts, ``IDVNM...``) is skipped. Inside a longer run of space-separated groups any
    consecutive groups adding up to ``length`` are candidates (an ID next to a phone
    number), unless ``whole_only``.
    """
    for run in _RUN.finditer(text):
        if _glued(text, run.start() - 1, -1) or _glued(text, run.end(), 1):
            continue
        groups = [
            (g.start() + run.start(), g.end() + run.start())
            for g in re.finditer(r"\d+", run.group())
        ]
        for i in range(len(groups)):
            total = 0
            for j in range(i, len(groups)):
                total += groups[j][1] - groups[j][0]
                if total > length:
                    break
                if total == length:
                    whole = i == 0 and j == len(groups) - 1
                    if whole or not whole_only:
                        digits = "".join(text[a:b] for a, b in groups[i : j + 1])
                        yield Candidate(digits, groups[i][0], groups[j][1], i == 0)
                    break


def cccd_year(digits: str, century: Mapping[int, int] = CENTURY) -> int | None:
    """Birth year encoded in a 12-digit personal ID, if its century digit is known."""
    base = century.get(int(digits[3]))
    return None if base is None else base + int(digits[4:6])


def cccd_ok(
    digits: str,
    birth_year: int | None = None,
    *,
    century: Mapping[int, int] = CENTURY,
    max_province: int = 96,
    today: date | None = None,
) -> bool:
    """A plausible personal ID: province 001..max, known century digit, year consistent."""
    if len(digits) != 12 or not digits.isdigit():
        return False
    if not 1 <= int(digits[:3]) <= max_province:
        return False
    year = cccd_year(digits, century)
    if year is None or year > (today or date.today()).year:
        return False
    return birth_year is None or year == birth_year


def cccd_for_year(digits: str, year: int, century: Mapping[int, int] = CENTURY) -> str | None:
    """The personal ID with its century digit and year digits rewritten for ``year``, the
    sex its century digit encodes (even male, odd female) kept; None when no century digit
    stands for that century."""
    sex = int(digits[3]) % 2
    for g, base in sorted(century.items()):
        if base == year - year % 100 and g % 2 == sex:
            return f"{digits[:3]}{g}{year % 100:02d}{digits[6:]}"
    return None


def cccd_shape_ok(digits: str) -> bool:
    """``cccd_ok`` with the default rules and no birth year (a classification cue)."""
    return cccd_ok(digits)


def mst_check_digit(first9: str) -> str:
    """Check digit of a tax code (``"10"`` means no valid code has these nine digits)."""
    return str(10 - sum(w * int(d) for w, d in zip(MST_WEIGHTS, first9, strict=True)) % 11)


def mst_valid_builtin(number: str) -> bool:
    """The tax-code rule of ``stdnum.vn.mst``, for when python-stdnum is not installed."""
    digits = re.sub(r"[\s.\-]", "", number)
    if len(digits) not in (10, 13) or not digits.isdigit():
        return False
    if digits[2:9] == "0000000" or (len(digits) == 13 and digits[10:] == "000"):
        return False
    return digits[9] == mst_check_digit(digits[:9])


def mst_valid(number: str) -> bool:
    """A valid 10-digit tax code or 13-digit branch code (separators allowed)."""
    if _stdnum_mst is not None:
        return bool(_stdnum_mst.is_valid(number))
    return mst_valid_builtin(number)


def mst_format(number: str) -> str:
    """``0100109106`` or ``0100109106-001``."""
    digits = re.sub(r"\D", "", number)
    return digits if len(digits) == 10 else f"{digits[:10]}-{digits[10:]}"


def mst_candidates(text: str) -> Iterator[tuple[str, int, int]]:
    """Tax-code shaped numbers (10 digits, optional ``-ddd``): digits, start, end."""
    for m in MST.finditer(text):
        digits = m.group(1).replace(" ", "") + (m.group(2) or "")
        yield digits, m.start(), m.end()


def serial_candidates(text: str) -> Iterator[tuple[int, int, int]]:
    """Land certificate serials: (start, letters end, end) spans in a folded line."""
    for m in SERIAL.finditer(text):
        yield m.start(), m.end(1), m.end()
