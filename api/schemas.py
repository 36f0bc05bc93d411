"""Response bodies of the HTTP API: stable, documented JSON schemas in OpenAPI."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    error: str = Field(description="what is wrong, in words a person can act on")
    component_id: str | None = Field(None, description="the component kept for this input")


class Accepted(BaseModel):
    id: str
    status: str
    source: str
    duplicate: bool = Field(description="the same bytes were already submitted to this dossier")
    url: str


class FieldOut(BaseModel):
    value: str
    source: str = Field(description="qr, mrz, ocr or clerk")
    confidence: float


class PageOut(BaseModel):
    rotation: int = Field(description="clockwise degrees the scan was turned from upright")
    skew: float = Field(description="degrees, counter-clockwise positive, after turning upright")
    text: str
    blank: bool = False
    timed_out: bool = False
    confidence: float = 0.0
    warnings: list[str] = []


class ComponentOut(BaseModel):
    id: str
    source: str
    status: str = Field(
        description="queued, processing, reviewable (type and fields known, archival copy "
        "not yet built), done, failed, or split (a scanner batch cut into `parts`)"
    )
    type: str
    type_confidence: float
    needs_review: bool = Field(False, description="type uncertain: a clerk must confirm it")
    sha256: str
    owners: list[str]
    pages: list[PageOut]
    fields: dict[str, str]
    field_sources: dict[str, FieldOut]
    pdf: str = Field(description="URL of the searchable PDF, empty until done")
    error: str | None = None
    batch: str | None = Field(None, description="the scanner batch this was cut out of")
    batch_pages: list[int] | None = Field(None, description="first and last page in the batch")
    parts: list[str] = Field(
        default_factory=list, description="a split batch: its components, in page order"
    )


class DocumentOut(BaseModel):
    id: str
    type: str
    type_confidence: float
    fields: dict[str, FieldOut]
    page_count: int
    dossier: str | None
    created_at: str
    pdf: str


class OwnerDocuments(BaseModel):
    owner_id: str
    documents: list[DocumentOut]


class DossierOut(BaseModel):
    code: str
    components: list[ComponentOut]
    procedure_code: str | None = None
    component_states: list[ComponentStateOut] = Field(
        default_factory=list,
        description="each component type of the procedure: reused, scanned, illegible, missing",
    )
    reused: list[str] = Field(default_factory=list, description="registry records linked in")


# --- the reuse registry (issue 6) ---


class RecordOut(BaseModel):
    """A registry record: a digitized result with its legal fields, validity and provenance."""

    id: str
    result_code: str | None = Field(description="mã kết quả số hóa, issued once, never changed")
    registry_status: str | None = Field(
        description="draft, verified, superseded, revoked, or duplicate (of `duplicate_of`)"
    )
    duplicate_of: str | None = None
    type: str
    owners: list[str]
    fields: dict[str, FieldOut]
    so_ky_hieu: str | None = None
    ngay_cap: str | None = None
    co_quan_cap: str | None = None
    hieu_luc_den: str | None = None
    pham_vi_hieu_luc: str | None = None
    reusable: bool = Field(description="may be offered for reuse now")
    not_reusable_because: str | None = None
    reuse_count: int
    page_count: int
    dossier: str | None
    sha256: str
    digitized_by: str | None
    verified_by: str | None
    verified_at: str | None
    created_at: str
    note: str | None = Field(None, description="e.g. a number shared with another record")
    pdf: str


class RecordPage(BaseModel):
    documents: list[RecordOut]
    limit: int
    offset: int
    next_offset: int | None = Field(description="offset of the next page, null on the last")


class ProcedureOut(BaseModel):
    code: str
    name: str
    national_code: str | None
    required: list[str]
    optional: list[str]


class LookupOut(BaseModel):
    owner_id: str
    procedure: ProcedureOut
    documents: list[RecordOut] = Field(description="valid documents that can be reused now")
    available: dict[str, list[str]] = Field(description="component type -> reusable record ids")
    missing: list[str] = Field(description="required component types still to be scanned")


class DossierOpen(BaseModel):
    procedure_code: str


class ComponentStateOut(BaseModel):
    type: str
    required: bool
    state: str = Field(description="reused, scanned, illegible, missing or pending")
    component_ids: list[str]


class LinkIn(BaseModel):
    document_id: str


class LinkOut(BaseModel):
    dossier: str
    document_id: str
    type: str
    linked_by: str
    linked_at: str
    created: bool
    reuse_count: int


class VerifyIn(BaseModel):
    fields: dict[str, str] = Field(default_factory=dict, description="the clerk's corrections")


class CorrectionIn(BaseModel):
    type: str | None = Field(None, description="the right catalogue code, if the type was wrong")
    fields: dict[str, str] = Field(default_factory=dict, description="corrected field values")


class StatusChangeIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class KeyIn(BaseModel):
    role: str = Field(description="clerk, scanner, system or admin")
    name: str = ""
    allowed_types: list[str] | None = Field(None, description="system keys: component types")


class KeyOut(BaseModel):
    id: str
    role: str
    name: str
    allowed_types: list[str] | None
    created_at: str
    revoked: bool
    token: str | None = Field(None, description="shown once, at creation")


class AuditOut(BaseModel):
    id: int
    at: str
    actor: str
    role: str
    action: str
    target: str | None
    subject: str | None = Field(description="the citizen's ID, masked")
    purpose: str


class ReportRowOut(BaseModel):
    period: str
    agency: str
    type: str
    received: int
    digitized: int
    reused: int
    digitization_rate: float
    reuse_rate: float


class ReportOut(BaseModel):
    period: str
    group_by: list[str]
    rows: list[ReportRowOut]


# --- the counter page (issue 8) ---


class CounterType(BaseModel):
    code: str
    name: str = Field(description="Vietnamese name of the component type")
    fields: list[str]


class CounterCatalogue(BaseModel):
    types: list[CounterType]
    procedures: dict[str, str] = Field(description="procedure code -> Vietnamese name")


class IdCardOut(BaseModel):
    owner_id: str = Field(description="the 12-digit personal ID read from the card's QR")
    old_id: str | None = Field(None, description="the old 9-digit CMND, if the QR has it")
    name: str | None = None
    birth_date: str | None = None


class PageOrderIn(BaseModel):
    page_ids: list[int] = Field(description="the component's pages, in their new order")


class ReceiptItem(BaseModel):
    type: str
    type_name: str
    number: str | None = None
    date: str | None = None
    result_code: str | None = None
    status: str
    pages: int | None = None


class ReceiptOut(BaseModel):
    code: str
    procedure_code: str | None
    procedure_name: str | None
    digitized: list[ReceiptItem]
    reused: list[ReceiptItem]
    missing: list[str] = Field(description="required components neither reused nor scanned")
    pending: int = Field(description="components still being read")
    printed_at: str
