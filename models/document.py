"""Results of digitizing: words, pages, fields and components.

These are plain dataclasses so that `ocr/`, `classify/`, `storage/` and `api/`
can exchange them without importing each other.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any

# A dossier code as used for folder names, bucket prefixes and URLs (receipt codes fit it).
DOSSIER_CODE = re.compile(r"^[\w.\-]{1,64}$")


@dataclass(frozen=True)
class Word:
    """One recognized word: NFC text, box in pixels of the upright page, confidence 0..100."""

    text: str
    left: int
    top: int
    width: int
    height: int
    confidence: float
    line: int = 0  # index of the text line on the page, in reading order


@dataclass(frozen=True)
class Code:
    """A code read off a page: `kind` is `qr`, `barcode` or `mrz`; `box` is (left, top,
    right, bottom) in pixels of the upright page (zeros for an MRZ found in the text)."""

    kind: str
    text: str
    format: str = ""
    box: tuple[int, int, int, int] = (0, 0, 0, 0)


@dataclass
class PageResult:
    """One page once turned upright, deskewed and read."""

    index: int
    rotation: int  # clockwise angle (0/90/180/270) by which the scan is turned from upright
    skew: float  # degrees, counter-clockwise positive, of the content on the upright page
    text: str  # NFC
    words: list[Word] = field(default_factory=list)
    width: int = 0  # pixels of the upright image
    height: int = 0
    dpi: int = 300
    blank: bool = False
    timed_out: bool = False
    warnings: list[str] = field(default_factory=list)
    codes: list[Code] = field(default_factory=list)

    @property
    def mean_confidence(self) -> float:
        if not self.words:
            return 0.0
        return sum(w.confidence for w in self.words) / len(self.words)


@dataclass(frozen=True)
class FieldValue:
    """A field of a document, with where it came from (`qr`, `mrz`, `ocr`, `clerk`)."""

    value: str
    source: str = "ocr"
    confidence: float = 0.0


@dataclass
class Classification:
    """Catalogue code with a confidence in 0..1, plus the fields that could be extracted."""

    type: str
    confidence: float
    fields: dict[str, FieldValue] = field(default_factory=dict)


@dataclass
class ComponentResult:
    """A digitized component: what `sohoa digitize --json` prints one of."""

    id: str
    source: str
    type: str
    type_confidence: float
    pages: list[PageResult]
    fields: dict[str, FieldValue]
    pdf: str
    status: str = "done"
    sha256: str = ""
    owners: list[str] = field(default_factory=list)
    error: str | None = None
    needs_review: bool = False  # type confidence below the catalogue's review threshold

    def to_json(self) -> dict[str, Any]:
        """The public JSON contract: extend it, never break it."""
        return {
            "id": self.id,
            "source": self.source,
            "status": self.status,
            "type": self.type,
            "type_confidence": round(self.type_confidence, 4),
            "needs_review": self.needs_review,
            "sha256": self.sha256,
            "owners": list(self.owners),
            "pages": [
                {
                    "rotation": p.rotation,
                    "skew": round(p.skew, 2),
                    "text": p.text,
                    "blank": p.blank,
                    "timed_out": p.timed_out,
                    "confidence": round(p.mean_confidence, 1),
                    "warnings": list(p.warnings),
                }
                for p in self.pages
            ],
            "fields": {k: v.value for k, v in self.fields.items()},
            "field_sources": {k: asdict(v) for k, v in self.fields.items()},
            "pdf": self.pdf,
            "error": self.error,
        }


def page_to_dict(page: PageResult) -> dict[str, Any]:
    """A page as stored in the registry: words kept compactly as lists."""
    d = {f.name: getattr(page, f.name) for f in fields(page)}  # not asdict: no word dicts
    d["words"] = [
        [w.text, w.left, w.top, w.width, w.height, w.confidence, w.line] for w in page.words
    ]
    d["warnings"] = list(page.warnings)
    d["codes"] = [asdict(c) for c in page.codes]
    return d


def page_from_dict(d: dict[str, Any]) -> PageResult:
    words = [Word(*w) for w in d.get("words", [])]
    codes = [
        Code(c["kind"], c["text"], c.get("format", ""), tuple(c.get("box", (0, 0, 0, 0))))
        for c in d.get("codes", [])
    ]
    return PageResult(**{**d, "words": words, "codes": codes})
