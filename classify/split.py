"""Splitting one multi-page scan into its components.

A new component starts at a separator: a blank sheet, or a page carrying a separator code
(a QR code or barcode whose text is one of ``SEPARATOR_TEXTS``, e.g. printed cover sheets);
separator pages belong to no component. Between separators, consecutive pages of one type
stay together; a page that the model is sure is of another catalogue type starts a new
component. A page typed as the fallback (``khac``) never does: continuation pages (a
decision's second sheet, an annex) often look like nothing in particular.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from classify.codefields import CodeLike
from models.document import PageResult

# Texts of separator sheets: sohoa's own cover sheet, and the Kodak/ISIS "Patch T" code.
SEPARATOR_TEXTS = frozenset({"SOHOA-SEPARATOR", "SOHOA:SEPARATOR", "PATCH T", "PATCHT"})
SURE = 0.9  # a page must be typed at least this surely to start a component by its type

PageTyper = Callable[[PageResult], tuple[str, float]]


def is_separator(page: PageResult, codes: Sequence[CodeLike] = ()) -> bool:
    """A blank sheet, or a sheet with a separator code."""
    if page.blank or not page.text.strip() and not codes:
        return True
    return any(c.text.strip().upper() in SEPARATOR_TEXTS for c in codes)


def default_typer(page: PageResult) -> tuple[str, float]:
    """The type of a single page, by the active model (or the rules)."""
    from classify import classify_component

    verdict = classify_component([page])
    return verdict.type, verdict.confidence


def split_components(
    pages: Sequence[PageResult],
    codes: Sequence[Sequence[CodeLike]] | None = None,
    typer: PageTyper | None = None,
    fallback: str = "khac",
) -> list[list[int]]:
    """Groups of page indexes (positions in ``pages``), one per component, in order.

    ``codes[i]`` are the codes decoded from page ``i`` (``ocr.codes.decode_codes``).
    """
    typer = typer or default_typer
    codes = codes or [()] * len(pages)
    groups: list[list[int]] = []
    current: list[int] = []
    current_type: str | None = None
    for i, page in enumerate(pages):
        page_codes = codes[i] if i < len(codes) else ()
        if is_separator(page, page_codes):
            if current:
                groups.append(current)
            current, current_type = [], None
            continue
        code, confidence = typer(page)
        sure = confidence >= SURE and code != fallback
        if current and sure and current_type is not None and code != current_type:
            groups.append(current)
            current, current_type = [], None
        current.append(i)
        if current_type is None and sure:
            current_type = code
    if current:
        groups.append(current)
    return groups
