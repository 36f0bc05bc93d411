"""Vietnamese text normalization applied to every OCR output, query and stored field."""

from __future__ import annotations

import unicodedata

# Tesseract sometimes emits the Icelandic eth for the Vietnamese D with stroke.
_CONFUSABLES = str.maketrans({"\u00d0": "\u0110", "\u00f0": "\u0111"})


def normalize_vi(text: str) -> str:
    """NFC-normalize and map look-alike code points to their Vietnamese letters."""
    return unicodedata.normalize("NFC", text).translate(_CONFUSABLES)
