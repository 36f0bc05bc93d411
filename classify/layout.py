"""Page layout features: shape and physical size of the page, text density, word regions."""

from __future__ import annotations

from models.document import PageResult

MM_PER_INCH = 25.4
# Fractions of the page (left, top, right, bottom) whose words make up a region.
REGION_BOXES = {
    "bottom_right": (0.5, 0.5, 1.0, 1.0),
    "bottom_left": (0.0, 0.5, 0.5, 1.0),
    "top_left": (0.0, 0.0, 0.5, 0.35),
    "top_right": (0.5, 0.0, 1.0, 0.35),
}
CARD_MM = ((75.0, 100.0), (45.0, 70.0))  # ID-1 card is 85.6 x 54 mm, scanned with a margin


def size_mm(page: PageResult) -> tuple[float, float] | None:
    """Physical (width, height) in millimetres, if the page knows its pixels and dpi."""
    if page.width <= 0 or page.height <= 0 or page.dpi <= 0:
        return None
    scale = MM_PER_INCH / page.dpi
    return page.width * scale, page.height * scale


def word_count(page: PageResult) -> int:
    """Words with at least two letters (drawings are full of bare dimension numbers)."""
    tokens = [w.text for w in page.words] if page.words else page.text.split()
    return sum(sum(c.isalpha() for c in t) >= 2 for t in tokens)


def page_features(page: PageResult, settings: dict[str, float]) -> frozenset[str]:
    """The layout features (catalogue ``LAYOUT_FEATURES``) this page shows."""
    feats: set[str] = set()
    if page.width > 0 and page.height > 0:
        if page.width > 1.15 * page.height:
            feats.add("landscape")
        elif page.height > 1.15 * page.width:
            feats.add("portrait")
    mm = size_mm(page)
    if mm:
        long_side, short_side = max(mm), min(mm)
        if long_side >= settings["large_format_mm"]:
            feats.add("large_format")
        (lo_l, hi_l), (lo_s, hi_s) = CARD_MM
        if lo_l <= long_side <= hi_l and lo_s <= short_side <= hi_s:
            feats.add("card_size")
    if word_count(page) < settings["few_words"]:
        feats.add("few_words")
    return frozenset(feats)


def region_text(page: PageResult, region: str) -> str:
    """Words whose centre lies in the region, in reading order; empty without boxes."""
    if not page.words or page.width <= 0 or page.height <= 0:
        return ""
    left, top, right, bottom = REGION_BOXES[region]
    inside = [
        w
        for w in page.words
        if left <= (w.left + w.width / 2) / page.width <= right
        and top <= (w.top + w.height / 2) / page.height <= bottom
    ]
    inside.sort(key=lambda w: (w.line, w.top, w.left))
    lines: list[str] = []
    current = None
    for w in inside:
        if w.line != current:
            lines.append(w.text)
            current = w.line
        else:
            lines[-1] += " " + w.text
    return "\n".join(lines)
