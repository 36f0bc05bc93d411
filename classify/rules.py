"""Rule-based scoring of a component against the catalogue.

Each cue of a type adds ``weight`` when found in the strict (NFC) view of a page,
``weight * folded_factor`` when found only in the OCR-tolerant view; pages after the first
count ``later_page_factor``; within a cue group only the best cue counts. The fallback type
(``khac``) competes with the constant ``khac_score``. Confidence is the margin between the
best and the second-best score squashed to 0..1 (``1 - exp(-margin / confidence_scale)``),
scaled down by ``khac_confidence_factor`` when nothing better than ``khac`` was found.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from classify.catalogue import Catalogue, Cue, DocType, Pattern
from classify.ids import cccd_shape_ok, mst_valid
from classify.layout import REGION_BOXES, page_features, region_text
from classify.textview import Line, lines_of
from models.document import PageResult

VALIDATORS: dict[str, Callable[[str], bool]] = {"cccd": cccd_shape_ok, "mst": mst_valid}


@dataclass(frozen=True)
class Views:
    """One text in its three matching views (see ``classify.textview``)."""

    exact: str
    folded: str
    key: str

    @classmethod
    def of(cls, lines: Sequence[Line], sep: str = "\n") -> Views:
        return cls(
            sep.join(x.exact for x in lines),
            sep.join(x.folded for x in lines),
            sep.join(x.key for x in lines),
        )


@dataclass(frozen=True)
class PageView:
    """A page prepared for matching."""

    lines: tuple[Line, ...]
    text: Views
    blocks: tuple[tuple[int, int], ...]  # [start, end) of runs of capital-letter lines
    title_starts: tuple[tuple[int, int, Views], ...]  # (line, block end, text to block end)
    features: frozenset[str]
    regions: dict[str, Views]
    # (digits, OCR confidence 0..100) of every word holding three digits or more, in
    # reading order: to weigh two numbers that contradict each other
    numbers: tuple[tuple[str, float], ...] = ()


def upper_blocks(lines: Sequence[Line]) -> tuple[tuple[int, int], ...]:
    """Runs of consecutive capital-letter lines, as [start, end) indexes."""
    blocks, start = [], None
    for i, line in enumerate([*lines, None]):
        if line is not None and line.upper:
            start = i if start is None else start
        elif start is not None:
            blocks.append((start, i))
            start = None
    return tuple(blocks)


def view_page(page: PageResult, settings: dict[str, float]) -> PageView:
    """Prepare one page: lines, views, capital blocks, layout features, region texts."""
    lines = lines_of(page.text)
    blocks = upper_blocks(lines)
    starts = tuple(
        (i, end, Views.of(lines[i:end], " ")) for start, end in blocks for i in range(start, end)
    )
    regions = {}
    for name in REGION_BOXES:
        text = region_text(page, name)
        if text:
            regions[name] = Views.of(lines_of(text))
    numbers = tuple(
        (digits, w.confidence) for w in page.words if len(digits := re.sub(r"\D", "", w.text)) >= 3
    )
    return PageView(
        lines, Views.of(lines), blocks, starts, page_features(page, settings), regions, numbers
    )


def _found(pattern: re.Pattern, text: str, validate: str | None) -> bool:
    if validate is None:
        return pattern.search(text) is not None
    check = VALIDATORS[validate]
    return any(check(m.group(1) if m.groups() else m.group(0)) for m in pattern.finditer(text))


def _match(cue: Cue, views: Sequence[Views], folded_factor: float) -> float:
    """1 if the cue is in a strict view, ``folded_factor`` if only in a tolerant one, else 0."""
    p: Pattern = cue.pattern  # type: ignore[assignment]
    if any(_found(p.exact, v.exact, cue.validate) for v in views):
        return 1.0
    loose = (lambda v: v.folded) if cue.is_regex else (lambda v: v.key)
    if any(_found(p.loose, loose(v), cue.validate) for v in views):
        return folded_factor
    return 0.0


def cue_factor(cue: Cue, page: PageView, folded_factor: float) -> float:
    """How well one cue is found on one page, in 0..1."""
    if cue.kind == "layout":
        return 1.0 if set(cue.features) <= page.features else 0.0
    if cue.kind == "title":
        return _match(cue, [v for _, _, v in page.title_starts], folded_factor)
    if cue.kind == "region":
        region = page.regions.get(cue.region or "")
        return _match(cue, [region], folded_factor) if region else 0.0
    return _match(cue, [page.text], folded_factor)


def score_type(doc_type: DocType, pages: Sequence[PageView], settings: dict[str, float]) -> float:
    """Sum of the cues found (best page, best cue of each group)."""
    groups: dict[str, float] = {}
    total = 0.0
    for i, cue in enumerate(doc_type.cues):
        best = 0.0
        for n, page in enumerate(pages):
            page_factor = 1.0 if n == 0 else settings["later_page_factor"]
            best = max(best, page_factor * cue_factor(cue, page, settings["folded_factor"]))
        if cue.weight < 0:
            total += cue.weight * best
            continue
        name = cue.group or f"#{i}"
        groups[name] = max(groups.get(name, 0.0), cue.weight * best)
    return total + sum(groups.values())


def score_types(pages: Sequence[PageView], catalogue: Catalogue) -> dict[str, float]:
    """Score of every non-fallback type, in catalogue order."""
    return {
        t.code: score_type(t, pages, catalogue.settings)
        for t in catalogue.types
        if t.code != catalogue.fallback
    }


def decide(scores: dict[str, float], catalogue: Catalogue) -> tuple[str, float]:
    """The winning code and its confidence (see module docstring)."""
    s = catalogue.settings
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])  # stable: catalogue order on ties
    ranked.append((catalogue.fallback, s["khac_score"]))
    ranked.sort(key=lambda kv: -kv[1])
    (code, best), (_, second) = ranked[0], ranked[1]
    confidence = 1.0 - math.exp(-(best - second) / s["confidence_scale"])
    if code == catalogue.fallback:
        confidence *= s["khac_confidence_factor"]
    return code, max(0.0, min(1.0, confidence))
