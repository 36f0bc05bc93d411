"""Registry endpoints: look up first, link instead of re-scanning, verify, query, report,
API keys and the audit trail. Every read of a document or a citizen's list is audited."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session, selectinload

from api import schemas
from api.auth import Caller, require
from api.pipeline import Context
from classify import extract_component_fields
from classify.learning import corrections_path, record_correction
from models.document import DOSSIER_CODE, page_from_dict
from storage import audit
from storage.auth import ROLES, create_key, list_keys, revoke_key
from storage.procedures import Procedure, load_procedures
from storage.query import MAX_PAGE_SIZE, DocumentQuery, find_documents
from storage.report import GROUPS, report
from storage.reuse import (
    ReuseError,
    confirm_fields,
    dossier_states,
    known_types,
    link_document,
    look_up,
    open_dossier,
    set_status,
    why_not_offered,
)
from storage.search import BadQuery
from storage.tables import Component

router = APIRouter(prefix="/api/v1")
ERRORS = {
    code: {"model": schemas.ErrorBody} for code in (400, 401, 403, 404, 409, 422)
}  # fmt: skip

Clerk = Annotated[Caller, Depends(require("clerk"))]
Reader = Annotated[Caller, Depends(require("clerk", "system"))]
Admin = Annotated[Caller, Depends(require("admin"))]
Reporter = Annotated[Caller, Depends(require("admin", "clerk"))]
Anyone = Annotated[Caller, Depends(require(*ROLES))]
Purpose = Annotated[
    str, Query(min_length=3, max_length=200, description="why: recorded in the audit trail")
]
OptionalPurpose = Annotated[str, Query(max_length=200, description="why (audited)")]


def ctx_of(request: Request) -> Context:
    return request.app.state.ctx


CtxDep = Annotated[Context, Depends(ctx_of)]


OWNER_ID = re.compile(r"^(\d{9}|\d{12}|\d{10}(-\d{3})?)$")


async def read_upload(file: UploadFile, max_bytes: int) -> bytes:
    """The uploaded file's bytes; 413 past `max_bytes` (read no further than that)."""
    data = await file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise HTTPException(413, f"file larger than {max_bytes // (1024 * 1024)} MB")
    return data


def check_dossier_code(code: str) -> str:
    if not DOSSIER_CODE.match(code):
        raise HTTPException(422, "dossier code: letters, digits, '.', '-' and '_' only")
    return code


def check_owner(owner_id: str) -> str:
    owner_id = owner_id.strip()
    if not OWNER_ID.match(owner_id):
        raise HTTPException(422, "owner ID must be 12 digits (CCCD), 9 (CMND) or a tax code")
    return owner_id


def check_type(doc_type: str | None) -> str | None:
    if doc_type is not None and doc_type not in known_types():
        raise HTTPException(422, f"unknown component type: {doc_type}")
    return doc_type


def record_out(comp: Component) -> schemas.RecordOut:
    why = why_not_offered(comp)
    return schemas.RecordOut(
        id=comp.id,
        result_code=comp.result_code,
        registry_status=comp.registry_status,
        duplicate_of=comp.duplicate_of,
        type=comp.type or "",
        owners=[o.owner_id for o in comp.owners],
        fields={
            f.name: schemas.FieldOut(value=f.value, source=f.source, confidence=f.confidence)
            for f in comp.fields
        },
        so_ky_hieu=comp.doc_number,
        ngay_cap=comp.issued_on,
        co_quan_cap=comp.issuer,
        hieu_luc_den=comp.valid_until,
        pham_vi_hieu_luc=comp.scope,
        reusable=why is None,
        not_reusable_because=why,
        reuse_count=comp.reuse_count,
        page_count=comp.page_count,
        dossier=comp.dossier_key or None,
        sha256=comp.original_sha256,
        digitized_by=comp.digitized_by,
        verified_by=comp.verified_by,
        verified_at=comp.verified_at.isoformat() if comp.verified_at else None,
        created_at=comp.created_at.isoformat(),
        note=comp.status_reason,
        pdf=f"/api/v1/components/{comp.id}/pdf",
    )


def procedure_out(p: Procedure) -> schemas.ProcedureOut:
    return schemas.ProcedureOut(
        code=p.code,
        name=p.name,
        national_code=p.national_code,
        required=list(p.required),
        optional=list(p.optional),
    )


def _record(session: Session, document_id: str) -> Component:
    comp = session.get(
        Component,
        document_id,
        options=[selectinload(Component.fields), selectinload(Component.owners)],
    )
    if comp is None or comp.registry_status is None:
        raise HTTPException(404, "no such document in the registry")
    return comp


@router.get("/procedures", responses=ERRORS, summary="The procedure catalogue")
def procedures(_who: Anyone) -> list[schemas.ProcedureOut]:
    return [procedure_out(p) for p in load_procedures().values()]


@router.get(
    "/lookup",
    responses=ERRORS,
    summary="Look up first: what a citizen's valid documents already give a procedure",
)
def lookup(
    ctx: CtxDep, who: Reader, owner_id: str, procedure: str, purpose: Purpose
) -> schemas.LookupOut:
    owner_id = check_owner(owner_id)
    with ctx.sessions.begin() as session:
        try:
            found = look_up(session, owner_id, procedure)
        except KeyError as exc:
            raise HTTPException(422, str(exc.args[0])) from None
        docs = [d for d in found.documents if who.may_read(d.type)]
        audit.record(
            session, actor=who.key_id, role=who.role, action="lookup", subject=owner_id,
            purpose=purpose, detail=f"procedure={procedure}; {len(docs)} document(s)",
        )  # fmt: skip
        return schemas.LookupOut(
            owner_id=owner_id,
            procedure=procedure_out(found.procedure),
            documents=[record_out(d) for d in docs],
            available={
                t: [i for i in ids if i in {d.id for d in docs}]
                for t, ids in found.available.items()
            },  # fmt: skip
            missing=found.missing,
        )


@router.put(
    "/dossiers/{code}/procedure",
    responses=ERRORS,
    summary="Open a dossier for a procedure (before anything is scanned)",
)
def open_for_procedure(
    code: str, body: schemas.DossierOpen, ctx: CtxDep, who: Clerk
) -> list[schemas.ComponentStateOut]:
    check_dossier_code(code)
    with ctx.sessions.begin() as session:
        try:
            d = open_dossier(session, code, body.procedure_code)
        except KeyError as exc:
            raise HTTPException(422, str(exc.args[0])) from None
        except ReuseError as exc:
            raise HTTPException(409, str(exc)) from None
        session.flush()
        return [schemas.ComponentStateOut(**vars(s)) for s in dossier_states(session, d)]


@router.post(
    "/dossiers/{code}/links",
    responses=ERRORS,
    summary="Reuse a registered document as a component of this dossier (no new copy)",
)
def link(code: str, body: schemas.LinkIn, ctx: CtxDep, who: Clerk) -> schemas.LinkOut:
    check_dossier_code(code)
    with ctx.sessions.begin() as session:
        try:
            lk, created = link_document(session, code, body.document_id, actor=who.key_id)
        except KeyError:
            raise HTTPException(404, "no such document in the registry") from None
        except ReuseError as exc:
            raise HTTPException(409, str(exc)) from None
        comp = session.get(Component, body.document_id)
        assert comp is not None
        return schemas.LinkOut(
            dossier=code,
            document_id=comp.id,
            type=lk.component_type,
            linked_by=lk.linked_by,
            linked_at=lk.linked_at.isoformat(),
            created=created,
            reuse_count=comp.reuse_count,
        )


@router.get("/documents", responses=ERRORS, summary="Query the registry (and full text)")
def documents(
    ctx: CtxDep,
    who: Reader,
    purpose: Purpose,
    owner_id: str | None = None,
    type: str | None = None,  # noqa: A002 - the public parameter name
    number: Annotated[str | None, Query(max_length=64)] = None,
    issued_from: date | None = None,
    issued_to: date | None = None,
    issuer: Annotated[str | None, Query(max_length=255)] = None,
    status: Annotated[str | None, Query(pattern="^(draft|verified|superseded|revoked)$")] = None,
    q: Annotated[str | None, Query(max_length=500, description="full text")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> schemas.RecordPage:
    query = DocumentQuery(
        owner_id=check_owner(owner_id) if owner_id else None,
        type=check_type(type),
        number=number,
        issued_from=issued_from.isoformat() if issued_from else None,
        issued_to=issued_to.isoformat() if issued_to else None,
        issuer=issuer,
        status=status,
        text=q,
        allowed_types=list(who.allowed_types) if who.allowed_types is not None else None,
        limit=limit,
        offset=offset,
    )
    with ctx.sessions.begin() as session:
        try:
            found, more = find_documents(session, query)
        except BadQuery as exc:
            raise HTTPException(422, str(exc)) from None
        audit.record(
            session, actor=who.key_id, role=who.role, action="documents.query",
            subject=query.owner_id, purpose=purpose,
            detail=f"{len(found)} document(s): " + ",".join(c.id for c in found)[:2000],
        )  # fmt: skip
        return schemas.RecordPage(
            documents=[record_out(c) for c in found],
            limit=limit,
            offset=offset,
            next_offset=offset + limit if more else None,
        )


def _readable(session: Session, who: Caller, document_id: str) -> Component:
    comp = _record(session, document_id)
    if not who.may_read(comp.type):
        raise HTTPException(403, f"this key may not read documents of type {comp.type}")
    return comp


@router.get("/documents/{document_id}", responses=ERRORS, summary="One registry record")
def document(
    document_id: str, ctx: CtxDep, who: Reader, purpose: OptionalPurpose = ""
) -> schemas.RecordOut:
    with ctx.sessions.begin() as session:
        comp = _readable(session, who, document_id)
        audit.record(session, actor=who.key_id, role=who.role, action="document.read",
                     target=comp.id, purpose=purpose)  # fmt: skip
        return record_out(comp)


@router.get(
    "/documents/{document_id}/pdf",
    responses={**ERRORS, 200: {"content": {"application/pdf": {}}}},
    response_class=Response,
    summary="Download a registry record's searchable PDF",
)
def document_pdf(
    document_id: str, ctx: CtxDep, who: Reader, purpose: OptionalPurpose = ""
) -> Response:
    with ctx.sessions.begin() as session:
        comp = _readable(session, who, document_id)
        if comp.pdf is None:
            raise HTTPException(404, "no PDF for this document")
        key = comp.pdf.key
        audit.record(session, actor=who.key_id, role=who.role, action="document.pdf",
                     target=comp.id, purpose=purpose)  # fmt: skip
    headers = {"Content-Disposition": f'inline; filename="{document_id}.pdf"'}
    return Response(ctx.store.get(key), media_type="application/pdf", headers=headers)


def _change(ctx: Context, who: Caller, document_id: str, new: str, reason: str | None,
            fields: dict[str, str] | None = None) -> schemas.RecordOut:  # fmt: skip
    with ctx.sessions.begin() as session:
        comp = _record(session, document_id)
        try:
            if fields:
                confirm_fields(comp, fields)
            set_status(session, comp, new, actor=who.key_id, reason=reason)
        except ReuseError as exc:
            raise HTTPException(409, str(exc)) from None
        audit.record(session, actor=who.key_id, role=who.role, action=f"document.{new}",
                     target=comp.id, purpose=reason or "")  # fmt: skip
        session.flush()
        return record_out(comp)


@router.post("/documents/{document_id}/verify", responses=ERRORS, summary="A clerk verifies")
def verify(
    document_id: str, ctx: CtxDep, who: Clerk, body: schemas.VerifyIn | None = None
) -> schemas.RecordOut:
    return _change(ctx, who, document_id, "verified", None, body.fields if body else None)


@router.post(
    "/documents/{document_id}/corrections",
    responses=ERRORS,
    summary="A clerk corrects the type or fields (stored for retraining the classifier)",
)
def correct(
    document_id: str, body: schemas.CorrectionIn, ctx: CtxDep, who: Clerk
) -> schemas.RecordOut:
    check_type(body.type)
    if body.type is None and not body.fields:
        raise HTTPException(422, "a correction needs a type or at least one field")
    with ctx.sessions.begin() as session:
        comp = _record(session, document_id)
        pages = [page_from_dict(p) for p in comp.pages or []]
        record_correction(
            corrections_path(ctx.settings.data_dir),
            comp.id,
            pages,
            predicted_type=comp.type or "",
            type=body.type,
            fields=body.fields,
            clerk=who.key_id,
        )
        fields = dict(body.fields)
        if body.type and body.type != comp.type:
            comp.type, comp.type_confidence = body.type, 1.0
            extracted = extract_component_fields(pages, body.type)
            fields = {k: v.value for k, v in extracted.items()} | fields
        if fields:
            confirm_fields(comp, fields)
        audit.record(session, actor=who.key_id, role=who.role, action="document.correct",
                     target=comp.id, purpose="")  # fmt: skip
        session.flush()
        return record_out(comp)


@router.post("/documents/{document_id}/revoke", responses=ERRORS, summary="Revoke a record")
def revoke(
    document_id: str, body: schemas.StatusChangeIn, ctx: CtxDep, who: Reporter
) -> schemas.RecordOut:
    return _change(ctx, who, document_id, "revoked", body.reason)


@router.post(
    "/documents/{document_id}/supersede", responses=ERRORS, summary="Mark a record superseded"
)
def supersede(
    document_id: str, body: schemas.StatusChangeIn, ctx: CtxDep, who: Clerk
) -> schemas.RecordOut:
    return _change(ctx, who, document_id, "superseded", body.reason)


@router.get("/reports/reuse", responses=ERRORS, summary="Digitization and reuse rates")
def reuse_report(
    ctx: CtxDep,
    who: Reporter,
    since: date | None = None,
    until: date | None = None,
    period: Annotated[str, Query(pattern="^(year|month|day)$")] = "month",
    group_by: Annotated[list[str] | None, Query()] = None,
) -> schemas.ReportOut:
    groups = tuple(group_by or GROUPS)
    if not set(groups) <= set(GROUPS):
        raise HTTPException(422, f"group_by: any of {', '.join(GROUPS)}")
    with ctx.sessions() as session:
        rows = report(
            session,
            since=datetime.combine(since, time()) if since else None,
            until=datetime.combine(until, time()) if until else None,
            period=period,
            group_by=groups,
        )
    return schemas.ReportOut(
        period=period,
        group_by=list(groups),
        rows=[
            schemas.ReportRowOut(
                **vars(r), digitization_rate=r.digitization_rate, reuse_rate=r.reuse_rate
            )  # fmt: skip
            for r in rows
        ],
    )


def _key_out(k, token: str | None = None) -> schemas.KeyOut:  # type: ignore[no-untyped-def]
    return schemas.KeyOut(
        id=k.id,
        role=k.role,
        name=k.name,
        allowed_types=k.allowed_types,
        created_at=k.created_at.isoformat(),
        revoked=k.revoked_at is not None,
        token=token,
    )


@router.post("/keys", status_code=201, responses=ERRORS, summary="Create an API key")
def new_key(body: schemas.KeyIn, ctx: CtxDep, who: Admin) -> schemas.KeyOut:
    for t in body.allowed_types or []:
        check_type(t)
    if body.allowed_types is not None and body.role != "system":
        raise HTTPException(422, "only system keys are limited to component types")
    with ctx.sessions.begin() as session:
        try:
            key, token = create_key(session, body.role, body.name, body.allowed_types)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        audit.record(session, actor=who.key_id, role=who.role, action="key.create",
                     target=key.id, detail=f"role={key.role}")  # fmt: skip
        return _key_out(key, token)


@router.get("/keys", responses=ERRORS, summary="API keys (never their secrets)")
def keys(ctx: CtxDep, who: Admin) -> list[schemas.KeyOut]:
    with ctx.sessions() as session:
        return [_key_out(k) for k in list_keys(session)]


@router.delete("/keys/{key_id}", responses=ERRORS, summary="Revoke an API key")
def delete_key(key_id: str, ctx: CtxDep, who: Admin) -> schemas.KeyOut:
    with ctx.sessions.begin() as session:
        if not revoke_key(session, key_id):
            raise HTTPException(404, "no such key")
        audit.record(session, actor=who.key_id, role=who.role, action="key.revoke",
                     target=key_id)  # fmt: skip
        k = next(k for k in list_keys(session) if k.id == key_id)
        return _key_out(k)


@router.get("/audit", responses=ERRORS, summary="The audit trail (admins)")
def audit_events(
    ctx: CtxDep,
    who: Admin,
    actor: str | None = None,
    target: str | None = None,
    owner_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[schemas.AuditOut]:
    subject = check_owner(owner_id) if owner_id else None
    with ctx.sessions() as session:
        evs = audit.events(session, actor=actor, target=target, subject=subject, since=since,
                           until=until, limit=limit, offset=offset)  # fmt: skip
        return [
            schemas.AuditOut(
                id=e.id,
                at=e.at.isoformat(),
                actor=e.actor,
                role=e.role,
                action=e.action,
                target=e.target,
                subject=e.subject_masked,
                purpose=e.purpose,
            )  # fmt: skip
            for e in evs
        ]
