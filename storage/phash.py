"""Perceptual hash of page images (difference hash), to spot a re-scan of the same paper."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def dhash(image: Image.Image | bytes, size: int = 8) -> str:
    """64-bit difference hash as 16 hex digits: robust to re-encoding, scale and light noise."""
    img = Image.open(io.BytesIO(image)) if isinstance(image, bytes) else image
    gray = np.asarray(img.convert("L").resize((size + 1, size), Image.Resampling.LANCZOS))
    bits = (gray[:, 1:] > gray[:, :-1]).flatten()
    return f"{int(''.join('1' if b else '0' for b in bits), 2):016x}"


def distance(a: str, b: str) -> int:
    """Hamming distance between two hashes."""
    return bin(int(a, 16) ^ int(b, 16)).count("1")
