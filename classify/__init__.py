"""Rule-based classification of dossier components and extraction of their fields.

Text and layout only: nothing here imports storage, HTTP or Tesseract. The catalogue of
component types, their cues and the extraction vocabulary are data (``catalogue.json``).
"""

from __future__ import annotations

from collections.abc import Sequence

from classify.catalogue import Catalogue, CatalogueError, is_reusable, load_catalogue
from classify.fields import extract_fields
from classify.rules import PageView, decide, score_types, view_page
from models.document import Classification, FieldValue, PageResult

__all__ = [
    "Catalogue",
    "CatalogueError",
    "classify_component",
    "extract_component_fields",
    "is_reusable",
    "load_catalogue",
    "score_component",
]


def _views(pages: Sequence[PageResult], catalogue: Catalogue) -> list[PageView]:
    return [view_page(p, catalogue.settings) for p in pages if not p.blank and p.text.strip()]


def score_component(
    pages: Sequence[PageResult], catalogue: Catalogue | None = None
) -> dict[str, float]:
    """Raw score of every catalogue type (for debugging and tuning cues)."""
    cat = catalogue or load_catalogue()
    return score_types(_views(pages, cat), cat)


def classify_component(
    pages: list[PageResult], catalogue: Catalogue | None = None
) -> Classification:
    """Type code, confidence in 0..1 and extracted fields of one component's pages.

    Blank pages are ignored; no readable page gives the fallback type with confidence 0.
    """
    cat = catalogue or load_catalogue()
    views = _views(pages, cat)
    if not views:
        return Classification(cat.fallback, 0.0, {})
    code, confidence = decide(score_types(views, cat), cat)
    fields = extract_fields(views, cat.get(code), cat)
    return Classification(code, round(confidence, 4), fields)


def extract_component_fields(
    pages: list[PageResult], code: str, catalogue: Catalogue | None = None
) -> dict[str, FieldValue]:
    """The fields of a component whose type is already known (e.g. corrected by a clerk)."""
    cat = catalogue or load_catalogue()
    return extract_fields(_views(pages, cat), cat.get(code), cat)
