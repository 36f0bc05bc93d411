"""A component prepared for field extraction, and the label machinery extractors share."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from classify.catalogue import Catalogue, DocType, Extraction, Pattern
from classify.rules import PageView
from classify.textview import Line
from models.document import FieldValue
from ocr.text import normalize_vi

# An English gloss after a bilingual label: "Ngày sinh / Date of birth:".
GLOSS = re.compile(r"\s*/\s*[A-Za-z][A-Za-z ,.']*?(?=\s*:|\s*$)")
SEP = re.compile(r"\s*[:;]?\s*")


@dataclass(frozen=True)
class Doc:
    """The pages of a component, its type and the catalogue in use."""

    pages: tuple[PageView, ...]
    doc_type: DocType
    catalogue: Catalogue

    @property
    def ex(self) -> Extraction:
        return self.catalogue.extraction

    def labels(self, name: str) -> tuple[Pattern, ...]:
        return self.ex.labels.get(name, ())

    def lines(self) -> Iterator[tuple[int, int, Line]]:
        """(page number, line number, line) in reading order."""
        for p, page in enumerate(self.pages):
            for i, line in enumerate(page.lines):
                yield p, i, line

    def line(self, page: int, index: int) -> Line | None:
        lines = self.pages[page].lines
        return lines[index] if 0 <= index < len(lines) else None


@dataclass(frozen=True)
class Hit:
    """A label found on a line: the value starts at ``end`` of ``line.folded``."""

    page: int
    index: int
    line: Line
    start: int
    end: int
    exact: bool


def find_labels(doc: Doc, name: str, page: int | None = None) -> Iterator[Hit]:
    """Label hits, label by label in the catalogue's priority order, then in reading order."""
    for pattern in doc.labels(name):
        for p, i, line in doc.lines():
            if page is not None and p != page:
                continue
            for m in pattern.loose.finditer(line.folded):
                end = m.end()
                gloss = GLOSS.match(line.folded, end)
                end = SEP.match(line.folded, gloss.end() if gloss else end).end()
                exact = pattern.exact.search(line.exact) is not None
                yield Hit(p, i, line, m.start(), end, exact)


def value_place(doc: Doc, hit: Hit) -> tuple[Line, int, bool]:
    """Where the value of a label is: after it, or on the next line when nothing follows."""
    if hit.line.folded[hit.end :].strip():
        return hit.line, hit.end, False
    nxt = doc.line(hit.page, hit.index + 1)
    if nxt is not None and nxt.folded.strip():
        return nxt, 0, True
    return hit.line, hit.end, False


def _nearest(doc: Doc, line: Line, pos: int, classes: tuple[str, ...]) -> tuple[int, str] | None:
    """End and class of the label ending last before ``pos`` (earlier class wins a tie)."""
    best: tuple[int, int, str] | None = None
    for rank, name in enumerate(classes):
        for pattern in doc.labels(name):
            for m in pattern.loose.finditer(line.folded):
                if m.end() <= pos and (best is None or (m.end(), -rank) > best[:2]):
                    best = (m.end(), -rank, name)
    return (best[0], best[2]) if best else None


def label_before(doc: Doc, page: int, index: int, pos: int, classes: tuple[str, ...]) -> str | None:
    """The class of the nearest label before ``pos`` on the line, or of a label ending the
    line above when ``pos`` starts the line; ``None`` when there is none."""
    line = doc.pages[page].lines[index]
    found = _nearest(doc, line, pos, classes)
    if found:
        return found[1]
    if line.folded[:pos].strip(" :.-") or index == 0:
        return None
    above = doc.pages[page].lines[index - 1]
    found = _nearest(doc, above, len(above.folded), classes)
    if found and not above.folded[found[0] :].strip(" :.-/"):
        return found[1]
    return None


def make_value(text: str, base: float, *, exact: bool = True, fixes: int = 0) -> FieldValue:
    """An OCR field value: NFC text; confidence lowered for a label read without its
    diacritics and for each look-alike character fixed inside the value."""
    confidence = base - (0.0 if exact else 0.1) - min(0.2, 0.05 * fixes)
    return FieldValue(normalize_vi(text).strip(), "ocr", round(max(0.05, min(1.0, confidence)), 2))


def stop_at(doc: Doc, line: Line, pos: int, punctuation: str = "") -> int:
    """End of a value starting at ``pos``: the next stop label or punctuation mark."""
    end = len(line.folded)
    for pattern in doc.labels("stop"):
        m = pattern.loose.search(line.folded, pos)
        if m and m.start() > pos:
            end = min(end, m.start())
    for mark in punctuation:
        at = line.folded.find(mark, pos, end)
        if at >= 0:
            end = at
    return end
