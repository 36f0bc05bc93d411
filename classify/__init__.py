"""Classification of dossier components and extraction of their fields.

Text and layout only: nothing here imports storage, HTTP or Tesseract. The catalogue of
component types, their cues and the extraction vocabulary are data (``catalogue.json``).
The type comes from the learned model (``classify.model``) when an artifact covering the
catalogue's types is available, else from the weighted rules (``classify.rules``); fields
come from the extractors, overridden by values decoded from QR codes and the MRZ.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from classify.catalogue import Catalogue, CatalogueError, is_reusable, load_catalogue
from classify.codefields import CodeLike, code_fields, is_id_card_code, merge, page_codes
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
    "needs_review",
    "score_component",
]

USE_ACTIVE = "active"
ID_CARD = "can_cuoc"


def _views(pages: Sequence[PageResult], catalogue: Catalogue) -> list[PageView]:
    return [view_page(p, catalogue.settings) for p in pages if not p.blank and p.text.strip()]


def score_component(
    pages: Sequence[PageResult], catalogue: Catalogue | None = None
) -> dict[str, float]:
    """Raw rule score of every catalogue type (for debugging and tuning cues)."""
    cat = catalogue or load_catalogue()
    return score_types(_views(pages, cat), cat)


def _model_for(cat: Catalogue, model):
    if model is None:
        return None
    if model == USE_ACTIVE:
        from classify.model import active_model

        model = active_model()
    # a province's catalogue with types the model never saw falls back to the rules
    return model if model is not None and set(cat.codes) <= set(model.codes) else None


def _decide(views: list[PageView], cat: Catalogue, model) -> tuple[str, float]:
    learned = _model_for(cat, model)
    if learned is not None:
        return learned.predict(views, cat)
    return decide(score_types(views, cat), cat)


def classify_component(
    pages: list[PageResult],
    catalogue: Catalogue | None = None,
    codes: Iterable[CodeLike] = (),
    model=USE_ACTIVE,
) -> Classification:
    """Type code, confidence in 0..1 and fields of one component's pages.

    ``codes`` are the QR codes and barcodes decoded from its page images (``ocr.codes``);
    an MRZ in the OCR text is found here. Their values win over OCR (source ``qr``/``mrz``).
    ``model``: the active learned model (default), a ``TypeModel``, or None for the rules.
    Blank pages are ignored; nothing readable gives the fallback type with confidence 0.
    """
    cat = catalogue or load_catalogue()
    views = _views(pages, cat)
    all_codes = page_codes(pages, codes)
    if not views and not all_codes:
        return Classification(cat.fallback, 0.0, {})
    if views:
        code, confidence = _decide(views, cat, model)
    else:
        code, confidence = cat.fallback, 0.0
    if is_id_card_code(all_codes) and ID_CARD in cat.codes and confidence < 0.9:
        code, confidence = ID_CARD, 0.9  # a chip card's QR or a checked MRZ says so
    fields = extract_fields(views, cat.get(code), cat) if views else {}
    coded = code_fields(all_codes)
    wanted = set(cat.get(code).fields) | {"ma_ho_so"}
    fields = merge(fields, {k: v for k, v in coded.items() if k in wanted})
    return Classification(code, round(confidence, 4), fields)


def needs_review(verdict: Classification, catalogue: Catalogue | None = None) -> bool:
    """Whether a clerk must confirm the type: confidence below ``review_below``."""
    cat = catalogue or load_catalogue()
    return verdict.confidence < cat.settings["review_below"]


def extract_component_fields(
    pages: list[PageResult], code: str, catalogue: Catalogue | None = None
) -> dict[str, FieldValue]:
    """The fields of a component whose type is already known (e.g. corrected by a clerk)."""
    cat = catalogue or load_catalogue()
    return extract_fields(_views(pages, cat), cat.get(code), cat)
