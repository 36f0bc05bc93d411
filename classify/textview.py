"""Views of one line of OCR text, so that matching survives OCR damage.

- ``orig``: NFC (``normalize_vi``), whitespace collapsed. Values are cut from it.
- ``exact``: ``orig`` with the tone mark of ``oa``/``oe``/``uy`` on one vowel (``hoà`` and
  ``hòa`` both become ``hòa``). The strict view: a cue found here scores full weight.
- ``folded``: no diacritics, ``Đ/đ`` -> ``D/d``, ``rn`` -> ``m``, and inside a token the
  look-alikes ``O o I l 0 1`` turned towards their neighbours (``O79203O12345`` ->
  ``079203012345``, ``C0NG`` -> ``CONG``); case kept. Numbers and dates are read from it.
- ``key``: ``folded`` lower-cased with the confusable classes merged (``0/o``, ``1/l/i``).
  The loose view for phrases; only ever compared with the ``key`` of a phrase.

All views but ``key`` map back to ``orig`` through ``spans``: folded char ``i`` comes from
``orig[spans[i][0]:spans[i][1]]``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from ocr.text import normalize_vi

_SPECIAL = {
    "đ": "d",
    "Đ": "D",
    "\u00d0": "D",
    "\u00f0": "d",
    "\u2010": "-",
    "\u2011": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2026": ".",
    "\u201c": '"',
    "\u201d": '"',
    "\u2018": "'",
    "\u2019": "'",
}
_TONES = "\u0300\u0301\u0309\u0303\u0323"  # huyền, sắc, hỏi, ngã, nặng
_KEY = str.maketrans({"0": "o", "1": "l", "i": "l", "|": "l"})
_TOKEN = re.compile(r"[A-Za-z0-9]+")
_TO_DIGIT = {"O": "0", "o": "0", "I": "1", "l": "1"}
_TO_LETTER = {"0": ("O", "o"), "1": ("I", "l")}
_LOOK_ALIKES = frozenset("OoIl01")


@lru_cache(maxsize=8192)
def base_char(ch: str) -> str:
    """The letter without diacritics (``ế`` -> ``e``, ``Đ`` -> ``D``); ``""`` for a lone mark."""
    if ch in _SPECIAL:
        return _SPECIAL[ch]
    kept = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
    return kept[:1]


def strip_marks(text: str) -> str:
    """Remove diacritics character by character (also safe on regular expressions)."""
    return "".join(base_char(c) for c in text)


def _tone_pairs() -> dict[str, str]:
    pairs: dict[str, str] = {}
    for first, second in (("o", "a"), ("o", "e"), ("u", "y")):
        for f, s in ((first, second), (first.upper(), second.upper()), (first.upper(), second)):
            for tone in _TONES:
                new_style = f + unicodedata.normalize("NFC", s + tone)
                old_style = unicodedata.normalize("NFC", f + tone) + s
                pairs[new_style] = old_style
    return pairs


_TONE_PAIRS = _tone_pairs()
_TONE_RE = re.compile("|".join(map(re.escape, _TONE_PAIRS)))


def clean(text: str) -> str:
    """NFC, Vietnamese look-alikes mapped, whitespace collapsed to single spaces."""
    return " ".join(normalize_vi(text).split())


def canon(text: str) -> str:
    """One tone placement for ``oa``/``oe``/``uy`` (same length as the input)."""
    return _TONE_RE.sub(lambda m: _TONE_PAIRS[m.group(0)], text)


def _between_digits(chars: list[str], start: int, end: int) -> bool:
    """A token like ``lO`` in ``lO/08/2021``: a separator then a digit on one side."""
    before = "".join(chars[max(0, start - 2) : start])
    after = "".join(chars[end : end + 2])
    return (len(before) == 2 and before[0].isdigit() and before[1] in "/.-") or (
        len(after) == 2 and after[0] in "/.-" and after[1].isdigit()
    )


def _run_to_digits(chars: list[str], i: int, j: int, start: int, end: int) -> bool:
    """Whether the look-alike run ``chars[i:j]`` inside token ``[start, end)`` is digits."""
    run = chars[i:j]
    digits = sum(c.isdigit() for c in run)
    near = [chars[k] for k in (i - 1, j) if start <= k < end]  # never look-alikes
    if not near:  # the whole token is look-alikes: "1O", "lO/08"
        return 2 * digits >= len(run) or _between_digits(chars, start, end)
    if all(c.isdigit() for c in near):
        return True
    if all(c.isalpha() for c in near):
        # "CT01" keeps its digits, "Fu11", "C0NG", "H0I" are words
        return digits == len(run) > 1 and all(c.isupper() for c in near)
    return 2 * digits >= len(run)


def _fix_token(chars: list[str], start: int, end: int) -> None:
    """Fix each run of look-alikes (``O o I l 0 1``) inside ``chars[start:end]`` towards
    the class of its neighbours: ``O792O3Ol2345`` -> ``079203012345``, ``C0NG`` -> ``CONG``."""
    token_upper = any(c.isupper() for c in chars[start:end] if c not in _LOOK_ALIKES)
    i = start
    while i < end:
        if chars[i] not in _LOOK_ALIKES:
            i += 1
            continue
        j = i
        while j < end and chars[j] in _LOOK_ALIKES:
            j += 1
        to_digits = _run_to_digits(chars, i, j, start, end)
        near = [chars[k] for k in (i - 1, j) if start <= k < end and chars[k].isalpha()]
        upper = all(c.isupper() for c in near) if near else token_upper
        for k in range(i, j):
            c = chars[k]
            if to_digits and c in _TO_DIGIT:
                chars[k] = _TO_DIGIT[c]
            elif not to_digits and c in _TO_LETTER:
                chars[k] = _TO_LETTER[c][0 if upper else 1]
        i = j


def _merge_rn(chars: list[str], spans: list[tuple[int, int]]) -> tuple[str, tuple]:
    out: list[str] = []
    out_spans: list[tuple[int, int]] = []
    i = 0
    while i < len(chars):
        pair = "".join(chars[i : i + 2])
        if pair in ("rn", "RN"):
            out.append("m" if pair == "rn" else "M")
            out_spans.append((spans[i][0], spans[i + 1][1]))
            i += 2
            continue
        out.append(chars[i])
        out_spans.append(spans[i])
        i += 1
    return "".join(out), tuple(out_spans)


def fold_spans(orig: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The folded view of ``orig`` and, for each folded char, its span in ``orig``."""
    chars: list[str] = []
    spans: list[tuple[int, int]] = []
    for i, ch in enumerate(orig):
        b = base_char(ch)
        if b:
            chars.append(b)
            spans.append((i, i + 1))
    tokens = [m.span() for m in _TOKEN.finditer("".join(chars))]
    for _ in range(2):  # twice: "lO/O8" needs "O8" fixed before "lO" can be
        for start, end in tokens:
            _fix_token(chars, start, end)
    return _merge_rn(chars, spans)


def fold(text: str) -> str:
    """The folded view of any text."""
    return fold_spans(clean(text))[0]


def key(text: str) -> str:
    """The loose matching key of any text (see module docstring)."""
    return fold(text).lower().translate(_KEY)


def is_upper(text: str) -> bool:
    """Mostly capital letters (a title or a header line), at least two letters."""
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 2 and sum(c.isupper() for c in letters) >= 0.7 * len(letters)


@dataclass(frozen=True)
class Line:
    """One text line in all its views."""

    orig: str
    exact: str
    folded: str
    key: str
    spans: tuple[tuple[int, int], ...]

    @classmethod
    def of(cls, raw: str) -> Line:
        orig = clean(raw)
        folded, spans = fold_spans(orig)
        return cls(orig, canon(orig), folded, folded.lower().translate(_KEY), spans)

    @property
    def upper(self) -> bool:
        return is_upper(self.orig)

    def orig_span(self, a: int, b: int) -> tuple[int, int]:
        """The ``orig`` span of the folded span ``[a, b)``."""
        if a >= b:
            pos = self.spans[a][0] if a < len(self.spans) else len(self.orig)
            return pos, pos
        return self.spans[a][0], self.spans[b - 1][1]

    def restore(self, a: int, b: int) -> str:
        """Text of the folded span ``[a, b)`` as printed, look-alike fixes applied."""
        out = []
        for i in range(a, b):
            s, e = self.spans[i]
            seg = self.orig[s:e]
            out.append(seg if strip_marks(seg) == self.folded[i] else self.folded[i])
        return "".join(out)

    def fixes(self, a: int, b: int) -> int:
        """How many look-alike fixes the folded span ``[a, b)`` holds."""
        return sum(
            strip_marks(self.orig[self.spans[i][0] : self.spans[i][1]]) != self.folded[i]
            for i in range(a, b)
        )


def lines_of(text: str) -> tuple[Line, ...]:
    """The lines of a page text (blank lines kept: they end blocks)."""
    return tuple(Line.of(raw) for raw in normalize_vi(text).splitlines())


def phrase_pattern(text: str, *, anchored: bool = False) -> str:
    """A regular expression for a phrase: words in order, any spacing, whole words."""
    words = text.split()
    if not words:
        raise ValueError("empty phrase")
    body = r"\s*".join(
        re.escape(w) if any(c.isalnum() for c in w) else f"(?:{re.escape(w)})?" for w in words
    )
    head = "^" if anchored else r"(?<!\w)"
    tail = r"(?!\w)" if words[-1][-1].isalnum() else ""
    return head + body + tail
