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
    status: str = Field(description="queued, processing, done or failed")
    type: str
    type_confidence: float
    sha256: str
    owners: list[str]
    pages: list[PageOut]
    fields: dict[str, str]
    field_sources: dict[str, FieldOut]
    pdf: str = Field(description="URL of the searchable PDF, empty until done")
    error: str | None = None


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
