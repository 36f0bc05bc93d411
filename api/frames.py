"""The small parts a read page is kept as.

`thumbnails` are the small JPEGs the counter page shows; `pack_parts`/`unpack_parts` keep
the rest of a read page (its result, text layer and encoded image) as one blob, so that the
archival PDF is assembled without reading any page again.
"""

from __future__ import annotations

import io
import json
import struct
from dataclasses import fields
from typing import Any

from PIL import Image

from ocr.geometry import straighten
from ocr.raster import PageImage

THUMB_WIDTH = 240
THUMB_QUALITY = 70


def thumbnails(image: Image.Image, rotation: int, skew: float) -> tuple[bytes, bytes]:
    """JPEGs about `THUMB_WIDTH` px wide of the page as scanned and turned upright."""
    before = image.copy()
    before.thumbnail((THUMB_WIDTH, THUMB_WIDTH * 8), Image.Resampling.BILINEAR, reducing_gap=2.0)
    after = straighten(before, rotation, skew) if rotation or skew else before
    return _jpeg(before), _jpeg(after)


def _jpeg(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.convert("L" if image.mode == "L" else "RGB").save(buf, "JPEG", quality=THUMB_QUALITY)
    return buf.getvalue()


_MAGIC = b"SOHOA-PAGEPARTS-1\n"


def pack_parts(page: dict[str, Any], text_pdf: bytes | None, image: PageImage) -> bytes:
    """What assembling needs of a read page, as one blob: its result (`page_to_dict`),
    Tesseract's text-only PDF page and the encoded page image."""
    img = {f.name: getattr(image, f.name) for f in fields(image)}
    return pack({"page": page, "text_pdf": text_pdf, "image": img})


def unpack_parts(blob: bytes) -> tuple[dict[str, Any], bytes | None, PageImage]:
    """The page result, text-only PDF page and `PageImage` `pack_parts` stored."""
    parts = unpack(blob)
    return parts["page"], parts["text_pdf"], PageImage(**parts["image"])


def pack(value: dict[str, Any]) -> bytes:
    """A dict as one blob: a JSON header, then its byte strings one after another (values
    made of bytes, numbers, strings, tuples, lists, dicts and None)."""
    parts: list[bytes] = []
    head = json.dumps({"value": _encode(value, parts), "sizes": [len(p) for p in parts]})
    return _MAGIC + struct.pack(">I", len(head.encode())) + head.encode() + b"".join(parts)


def unpack(blob: bytes) -> dict[str, Any]:
    """The dict `pack` stored."""
    if not blob.startswith(_MAGIC):
        raise ValueError("not packed page parts")
    at = len(_MAGIC)
    (n,) = struct.unpack(">I", blob[at : at + 4])
    header = json.loads(blob[at + 4 : at + 4 + n])
    at += 4 + n
    parts = []
    for size in header["sizes"]:
        parts.append(blob[at : at + size])
        at += size
    return _decode(header["value"], parts)


def _encode(value: Any, parts: list[bytes]) -> Any:
    if isinstance(value, bytes):
        parts.append(value)
        return {"$b": len(parts) - 1}
    if isinstance(value, tuple):
        return {"$t": [_encode(v, parts) for v in value]}
    if isinstance(value, list):
        return [_encode(v, parts) for v in value]
    if isinstance(value, dict):
        return {"$d": {k: _encode(v, parts) for k, v in value.items()}}
    return value


def _decode(value: Any, parts: list[bytes]) -> Any:
    if isinstance(value, dict):
        if "$b" in value:
            return parts[value["$b"]]
        if "$t" in value:
            return tuple(_decode(v, parts) for v in value["$t"])
        return {k: _decode(v, parts) for k, v in value["$d"].items()}
    if isinstance(value, list):
        return [_decode(v, parts) for v in value]
    return value
