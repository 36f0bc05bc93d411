"""PDF/A-2b for the archival copy, with the digitization record in its XMP metadata.

The record is written with the Dublin Core and XMP properties PDF/A-2 predefines (a custom
namespace would need an extension schema that validators handle unevenly):

| record | XMP |
| --- | --- |
| component type code | `dc:type` |
| document number (số ký hiệu) | `dc:identifier` |
| date of issue | `dc:date` |
| issuing body | `dc:publisher` |
| digitizing official | `dc:contributor` |
| time of digitization | `xmp:CreateDate` |
| SHA-256 of the original file | `dc:source` as `sha256:<hex>` |
| dossier code; owners' ID numbers if policy allows | `dc:relation`: `dossier:…`, `owner:…` |

`pikepdf.pdfa.prepare` adds the sRGB output intent (the ICC profile shipped with pikepdf),
the `pdfaid` declaration and the document information that agrees with the XMP; its
validator (`check_pdfa`), an allowlist built on the veraPDF rules, checks what was written.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pikepdf
from pikepdf import pdfa

from ocr.text import normalize_vi

FLAVOUR = "2b"
PRODUCER = "sohoa"


@dataclass
class DigitizationRecord:
    """Who digitized what, and when: written into the copy's XMP metadata."""

    type: str = ""
    title: str = ""
    number: str = ""
    date: str = ""  # ISO YYYY-MM-DD
    issuer: str = ""
    digitizer: str = ""
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    source_sha256: str = ""
    dossier_code: str = ""
    owner_ids: list[str] = field(default_factory=list)  # only where policy allows

    def relations(self) -> list[str]:
        out = [f"dossier:{self.dossier_code}"] if self.dossier_code else []
        return out + [f"owner:{o}" for o in self.owner_ids]


def make_pdfa(pdf: pikepdf.Pdf, record: DigitizationRecord) -> None:
    """Write the record into the XMP metadata and prepare `pdf` for PDF/A-2b, in memory."""
    when = record.time if record.time.tzinfo else record.time.replace(tzinfo=UTC)
    with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
        meta["pdf:Producer"] = PRODUCER
        meta["xmp:CreatorTool"] = PRODUCER
        meta["xmp:CreateDate"] = when.isoformat(timespec="seconds")
        meta["xmp:ModifyDate"] = when.isoformat(timespec="seconds")
        meta["dc:format"] = "application/pdf"
        text = {
            "dc:title": record.title,
            "dc:identifier": record.number,
            "dc:source": f"sha256:{record.source_sha256}" if record.source_sha256 else "",
        }
        for key, value in text.items():
            if value:
                meta[key] = normalize_vi(value)
        bags = {
            "dc:type": [record.type],
            "dc:publisher": [record.issuer],
            "dc:contributor": [record.digitizer],
            "dc:relation": record.relations(),
        }
        for key, values in bags.items():
            kept = {normalize_vi(v) for v in values if v}
            if kept:
                meta[key] = kept
        if record.date:
            meta["dc:date"] = [record.date]
    pdfa.prepare(pdf, FLAVOUR, output_intent="sRGB")


def save_options() -> dict:
    """`pikepdf.Pdf.save` settings that keep a PDF/A-2b file conforming."""
    return pdfa.resolve_save_kwargs(FLAVOUR)


def check_pdfa(data: bytes) -> list[str]:
    """Why the PDF is not PDF/A-2b (empty when it conforms).

    pikepdf's validator checks everything but interactive forms, which it reports as
    unsupported; the only form a copy may have is its signature field, which
    `_signature_form_problems` checks against the PDF/A-2 rules for forms and annotations.
    """
    report = pdfa.validate_written(io.BytesIO(data), FLAVOUR)
    problems = [
        str(f)
        for f in report.findings
        if not (f.kind == "unsupported" and f.where.endswith("/AcroForm"))
    ]
    with pikepdf.open(io.BytesIO(data)) as pdf:
        if "/AcroForm" in pdf.Root:
            problems += _signature_form_problems(pdf)
    if not report.passed and not report.findings:
        problems.append(f"verdict {report.verdict}")
    return problems


PRINT, HIDDEN_FLAGS = 4, 1 | 2 | 32  # annotation flags: Print; Invisible, Hidden, NoView


def _signature_form_problems(pdf: pikepdf.Pdf) -> list[str]:
    """PDF/A-2b rules (ISO 19005-2 6.3, 6.4.1) for a form holding only signature fields."""
    form = pdf.Root.AcroForm
    problems = []
    if form.get("/NeedAppearances", False):
        problems.append("6.4.1: /NeedAppearances is true")
    if "/XFA" in form:
        problems.append("6.4.2: the form has XFA")
    for form_field in form.get("/Fields", []):
        name = form_field.get("/T")
        if form_field.get("/FT") != "/Sig":
            problems.append(f"form field {name} is not a signature field")
        for widget in [form_field, *form_field.get("/Kids", [])]:
            if "/AA" in widget or "/A" in widget:
                problems.append(f"6.4.1: field {name} has actions")
            if widget.get("/Subtype") != "/Widget":
                continue
            flags = int(widget.get("/F", 0))
            if not flags & PRINT or flags & HIDDEN_FLAGS:
                problems.append(f"6.3.2: signature widget flags {flags}: Print must be set alone")
            ap = widget.get("/AP")
            if ap is None or set(ap.keys()) != {"/N"}:
                problems.append("6.3.3: signature widget needs an /AP with only /N")
    version = pdf.Root.get("/Version")
    if version is not None and not str(version).startswith("/1."):
        problems.append(f"6.1.2: catalog /Version {version} is above 1.7")
    return problems


def read_record(data: bytes) -> dict[str, object]:
    """The XMP properties of a PDF, as pikepdf reads them (for tests and audits)."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        meta = pdf.open_metadata()
        return {k: meta[k] for k in meta}
