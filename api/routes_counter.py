"""The counter page (`/counter/`) and the endpoints only it needs.

The page is static (HTML, CSS, ES modules in `api/static/`, no CDN); it calls the public API
with the clerk's key and these helpers:

- `POST /api/v1/counter/id-card`: read the personal ID off a chip ID card's QR (scan or webcam);
- `GET  /api/v1/counter/dossier-code`: a fresh dossier code `{agency}-{YYMMDD}-{NNNN}`;
- `GET  /api/v1/counter/catalogue`: component types (Vietnamese names) and their fields;
- `GET  /api/v1/counter/dossiers/{code}`: everything the page shows about a dossier at once;
- `GET  /api/v1/counter/dossiers/{code}/events`: the same, as server-sent events on change;
- `GET  /api/v1/counter/dossiers/{code}/receipt`: what was digitized and reused, for the receipt;
- page thumbnails and page edits (reorder, delete, scan again) of a component.

Per-page progress and thumbnails come from the component's page rows (`storage.pages`);
a component without rows (not started yet, or digitized before rows existed) shows what its
own row says, with thumbnails made from the original and the recorded rotation and skew.

Live progress is pushed by polling the database (every `POLL_SECONDS`), so it works the same
whether pages are read by the in-process worker or by Celery workers on other machines. The
page reads the stream with `fetch` (not `EventSource`), so that the key travels in the
`X-API-Key` header as everywhere else and never in a URL (URLs end up in access logs,
proxies and browser history).
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Depends, FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import schemas
from api.auth import Caller, require
from api.frames import thumbnails
from api.pipeline import (
    SPLIT,
    Context,
    add_pages,
    component_needs_review,
    edit_pages,
    page_thumbnail,
)
from api.routes_registry import CtxDep, check_dossier_code, read_upload
from classify.catalogue import load_catalogue
from models.errors import BadInput
from ocr.codes import decode_codes, parse_cccd_qr
from ocr.loader import load_frame, load_pages
from storage import audit
from storage.pages import page_rows
from storage.procedures import load_procedures
from storage.registry import get_component
from storage.reuse import dossier_states
from storage.tables import Component, ComponentPage, Dossier

STATIC = Path(__file__).parent / "static"
POLL_SECONDS = 0.25
KEEPALIVE_SECONDS = 15.0
STREAM_MAX_SECONDS = 10 * 60  # the page reconnects by itself after that
LOW_CONFIDENCE = 0.8  # a field below this is highlighted for the clerk
ID_CARD_MAX_BYTES = 20 * 1024 * 1024

router = APIRouter(prefix="/api/v1/counter", tags=["counter"])
pages_router = APIRouter(include_in_schema=False)
Clerk = Annotated[Caller, Depends(require("clerk"))]
ERRORS = {code: {"model": schemas.ErrorBody} for code in (400, 401, 403, 404, 409, 422)}


def add_counter(app: FastAPI) -> None:
    """Serve the counter page at `/counter/` (and `/` redirects there) with its endpoints."""
    app.include_router(pages_router)
    app.include_router(router)
    app.mount("/counter/static", StaticFiles(directory=STATIC), name="counter-static")


@pages_router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/counter/", status_code=307)


@pages_router.get("/counter")
@pages_router.get("/counter/")
def counter_page() -> FileResponse:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


# --------------------------------------------------------------------------- B's contract


def _page_rows(session: Session, component_id: str) -> list[ComponentPage]:
    return list(page_rows(session, component_id))


# --------------------------------------------------------------------------- small helpers


@router.get("/catalogue", responses=ERRORS, summary="Component types and their fields")
def catalogue(_who: Clerk) -> schemas.CounterCatalogue:
    cat = load_catalogue()
    return schemas.CounterCatalogue(
        types=[
            schemas.CounterType(code=t.code, name=t.name, fields=list(t.fields)) for t in cat.types
        ],
        procedures={p.code: p.name for p in load_procedures().values()},
    )


@router.get("/dossier-code", responses=ERRORS, summary="A fresh dossier code for today")
def new_dossier_code(ctx: CtxDep, _who: Clerk) -> dict[str, str]:
    """`{agency}-{YYMMDD}-{NNNN}`: the sequence is the first number of the day not yet used."""
    prefix = f"{ctx.settings.agency_code}-{datetime.now(UTC):%y%m%d}-"
    with ctx.sessions() as session:
        used = set(session.scalars(select(Dossier.code).where(Dossier.code.like(f"{prefix}%"))))
    seq = 1 + len(used)
    while f"{prefix}{seq:04d}" in used:
        seq += 1
    return {"code": f"{prefix}{seq:04d}"}


@router.post("/id-card", responses=ERRORS, summary="Read the personal ID off a chip ID card's QR")
async def id_card(
    ctx: CtxDep,
    who: Clerk,
    file: Annotated[UploadFile, File(description="a scan or a webcam picture of the card")],
) -> schemas.IdCardOut:
    data = await read_upload(file, ID_CARD_MAX_BYTES)
    found = await anyio.to_thread.run_sync(_read_id_card, data)
    if found is None:
        raise HTTPException(422, "no chip ID card QR code found on the image")
    with ctx.sessions.begin() as session:
        audit.record(session, actor=who.key_id, role=who.role, action="counter.id_card",
                     subject=found["ma_dinh_danh"], purpose="đọc QR căn cước tại quầy")  # fmt: skip
    return schemas.IdCardOut(
        owner_id=found["ma_dinh_danh"],
        old_id=found.get("so_cmnd"),
        name=found.get("ho_ten"),
        birth_date=found.get("ngay_sinh"),
    )


def _read_id_card(data: bytes) -> dict[str, str] | None:
    try:
        images = [p.image for _, p in zip(range(2), load_pages(data), strict=False)]
    except (BadInput, OSError, ValueError):
        raise HTTPException(422, "not a readable image or PDF") from None
    for image in images:
        for code in decode_codes(image):
            if code.kind == "qr" and (fields := parse_cccd_qr(code.text)):
                return fields
    return None


# --------------------------------------------------------------------------- dossier view


def _number(fields: dict[str, str]) -> str | None:
    """What identifies a document on the receipt: its number, serial or ID number."""
    for name in ("so_ky_hieu", "so_phat_hanh", "ma_dinh_danh", "ma_so_doanh_nghiep"):
        if fields.get(name):
            return fields[name]
    return None


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


def _thumb_url(path: str, version: str | None) -> str | None:
    """A thumbnail's URL, versioned by its content: page ids can be reused after a page is
    deleted, and the page caches thumbnails by URL."""
    return f"{path}?v={version[:24]}" if version else None


def _page_views(session: Session, comp: Component) -> tuple[list[dict[str, Any]], bool]:
    """Per-page progress of a component, and whether pages can be edited."""
    rows = _page_rows(session, comp.id)
    if rows:
        base = "/api/v1/counter/pages"
        return [
            {
                "id": r.id,
                "position": r.position,
                "status": r.status,
                "seconds": r.seconds,
                "error": r.error,
                "rotation": r.rotation,
                "skew": r.skew,
                "blank": bool(r.blank),
                "needs_attention": bool(r.needs_attention),
                "thumb_before": _thumb_url(f"{base}/{r.id}/thumb/before", r.thumb_before_sha256),
                "thumb_after": _thumb_url(f"{base}/{r.id}/thumb/after", r.thumb_after_sha256),
            }
            for r in rows
        ], True
    # no page rows (yet, or a component digitized before they existed): the component row
    if comp.status in ("done", "reviewable") and comp.pages:
        base = f"/api/v1/counter/components/{comp.id}/pages"
        return [
            {
                "id": None,
                "position": i,
                "status": "done",
                "seconds": None,
                "error": None,
                "rotation": p.get("rotation", 0),
                "skew": p.get("skew", 0.0),
                "blank": bool(p.get("blank")),
                "needs_attention": bool(p.get("timed_out")),
                "thumb_before": _thumb_url(f"{base}/{i}/thumb/before", comp.original_sha256),
                "thumb_after": _thumb_url(
                    f"{base}/{i}/thumb/after",
                    f"{comp.original_sha256[:16]}-{p.get('rotation', 0)}-{p.get('skew', 0.0)}",
                ),
            }
            for i, p in enumerate(comp.pages)
        ], False
    status = {"processing": "reading", "failed": "failed"}.get(comp.status, "queued")
    return [
        {"id": None, "position": 0, "status": status, "seconds": None, "error": comp.error,
         "rotation": 0, "skew": 0.0, "blank": False, "needs_attention": False,
         "thumb_before": None, "thumb_after": None}
    ], False  # fmt: skip


def _component_view(session: Session, comp: Component) -> dict[str, Any]:
    pages, editable = _page_views(session, comp)
    reviewable = comp.status in ("done", "reviewable")
    return {
        "id": comp.id,
        "source": comp.source,
        "status": comp.status,
        "reviewable": reviewable,
        "error": comp.error,
        "type": comp.type or "",
        "type_confidence": comp.type_confidence or 0.0,
        "needs_review": component_needs_review(comp),
        "registry_status": comp.registry_status,
        "duplicate_of": comp.duplicate_of,
        "result_code": comp.result_code,
        "owners": [o.owner_id for o in comp.owners],
        "fields": {
            f.name: {
                "value": f.value,
                "source": f.source,
                "confidence": f.confidence,
                "low": f.source != "clerk" and f.confidence < LOW_CONFIDENCE,
            }
            for f in sorted(comp.fields, key=lambda f: f.name)
        },
        "pages": pages,
        "page_edit": editable,
        "pdf": f"/api/v1/components/{comp.id}/pdf" if comp.pdf_sha256 else None,
        "created_at": _iso(comp.created_at),
        # cut out of a scanner batch: the batch's component and the pages of its file
        "batch": (
            {"id": comp.parent_id, "pages": [comp.first_page, comp.last_page]}
            if comp.parent_id
            else None
        ),
    }


def _order(comps: list[Component | None]) -> Callable[[Component], tuple[Any, ...]]:
    """Components in the order handed in; the parts of a split batch in its place, in
    page order."""
    created = {c.id: c.created_at for c in comps if c}

    def key(c: Component) -> tuple[Any, ...]:
        at = created.get(c.parent_id, c.created_at) if c.parent_id else c.created_at
        return (at, c.parent_id or c.id, c.first_page or 0, c.id)

    return key


def dossier_view(ctx: Context, code: str) -> dict[str, Any] | None:
    """Everything the page shows about a dossier (None when it does not exist yet)."""
    with ctx.sessions() as session:
        d = session.scalar(select(Dossier).where(Dossier.code == code))
        if d is None:
            return None
        comps = [get_component(session, c.id) for c in d.components]
        comps = sorted((c for c in comps if c), key=_order(comps))
        comps = [c for c in comps if c.status != SPLIT]  # a split batch shows as its parts
        reused = []
        for lk in sorted(d.links, key=lambda lk: lk.linked_at):
            rec = lk.component
            values = {f.name: f.value for f in rec.fields}
            reused.append({
                "id": rec.id, "type": lk.component_type, "result_code": rec.result_code,
                "number": _number(values), "ngay_cap": rec.issued_on,
                "co_quan_cap": rec.issuer, "linked_at": _iso(lk.linked_at),
            })  # fmt: skip
        return {
            "code": code,
            "procedure_code": d.procedure_code,
            "components": [_component_view(session, c) for c in comps],
            "reused": reused,
            "states": [vars(s) for s in dossier_states(session, d)],
            "drop_folder": str(ctx.settings.inbox / code),
        }


@router.get("/dossiers/{code}", responses=ERRORS, summary="A dossier as the counter page shows it")
def dossier(code: str, ctx: CtxDep, who: Clerk) -> dict[str, Any]:
    view = dossier_view(ctx, check_dossier_code(code))
    if view is None:
        raise HTTPException(404, "no such dossier")
    _audit(ctx, who, "counter.dossier", code)
    return view


def _audit(ctx: Context, who: Caller, action: str, code: str, detail: str | None = None) -> None:
    with ctx.sessions.begin() as session:
        audit.record(session, actor=who.key_id, role=who.role, action=action, target=code[:64],
                     purpose="tiếp nhận hồ sơ tại quầy", detail=detail)  # fmt: skip


@router.get(
    "/dossiers/{code}/events",
    responses={**ERRORS, 200: {"content": {"text/event-stream": {}}}},
    response_class=StreamingResponse,
    summary="Live progress: the dossier view as server-sent events, sent on every change",
)
async def events(code: str, request: Request, ctx: CtxDep, who: Clerk) -> StreamingResponse:
    """`event: dossier` with the whole view (as `GET /dossiers/{code}`) whenever it changes,
    a comment every 15 s to keep proxies from closing the stream. The database is polled
    every 0.25 s, so progress shows the same whatever process reads the pages."""
    check_dossier_code(code)
    await anyio.to_thread.run_sync(_audit, ctx, who, "counter.follow", code)  # once a stream

    async def stream() -> AsyncIterator[str]:
        last, last_sent = "", time.monotonic()
        end = time.monotonic() + STREAM_MAX_SECONDS
        yield "retry: 1000\n\n"
        while (
            time.monotonic() < end and not _server_exiting() and not await request.is_disconnected()
        ):
            view = await anyio.to_thread.run_sync(dossier_view, ctx, code)
            body = json.dumps(view, ensure_ascii=False, sort_keys=True)
            if body != last:
                last, last_sent = body, time.monotonic()
                yield f"event: dossier\ndata: {body}\n\n"
            elif time.monotonic() - last_sent > KEEPALIVE_SECONDS:
                last_sent = time.monotonic()
                yield ": keep-alive\n\n"
            await asyncio.sleep(POLL_SECONDS)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


def _server_exiting() -> bool:
    """Whether uvicorn (`sohoa serve`) was told to stop. It waits for open responses before
    it exits, so a counter page left open would hold the server up for the stream's life;
    uvicorn's signal handler is a method of its `Server`, whose `should_exit` says it."""
    server = getattr(signal.getsignal(signal.SIGTERM), "__self__", None)
    return bool(getattr(server, "should_exit", False))


@router.get("/dossiers/{code}/receipt", responses=ERRORS, summary="The citizen's receipt")
def receipt(code: str, ctx: CtxDep, who: Clerk) -> schemas.ReceiptOut:
    view = dossier_view(ctx, check_dossier_code(code))
    if view is None:
        raise HTTPException(404, "no such dossier")
    procs = load_procedures()
    proc = procs.get(view["procedure_code"] or "")
    names = {t.code: t.name for t in load_catalogue().types}

    digitized = [
        schemas.ReceiptItem(
            type=c["type"],
            type_name=names.get(c["type"], c["type"]),
            number=_number({k: f["value"] for k, f in c["fields"].items()}),
            date=c["fields"].get("ngay_cap", {}).get("value"),
            result_code=c["result_code"],
            status=c["registry_status"] or c["status"],
            pages=len(c["pages"]),
        )
        for c in view["components"]
        if c["reviewable"]
    ]
    reused = [
        schemas.ReceiptItem(
            type=r["type"],
            type_name=names.get(r["type"], r["type"]),
            number=r["number"],
            date=r["ngay_cap"],
            result_code=r["result_code"],
            status="reused",
        )
        for r in view["reused"]
    ]
    missing = [s["type"] for s in view["states"] if s["required"] and s["state"] == "missing"]
    _audit(ctx, who, "counter.receipt", code)
    return schemas.ReceiptOut(
        code=code,
        procedure_code=view["procedure_code"],
        procedure_name=proc.name if proc else None,
        digitized=digitized,
        reused=reused,
        missing=[names.get(t, t) for t in missing],
        pending=sum(1 for c in view["components"] if c["status"] in ("queued", "processing")),
        printed_at=datetime.now(UTC).isoformat(),
    )


# --------------------------------------------------------------------------- pages


def _jpeg(data: bytes | None) -> Response:
    if data is None:
        raise HTTPException(404, "no thumbnail yet")
    headers = {"Cache-Control": "private, max-age=3600"}
    return Response(data, media_type="image/jpeg", headers=headers)


@router.get(
    "/pages/{page_id}/thumb/{which}",
    responses={**ERRORS, 200: {"content": {"image/jpeg": {}}}},
    response_class=Response,
    summary="A page as scanned (before) or turned upright and deskewed (after)",
)
def page_thumb(
    page_id: int, which: Literal["before", "after"], ctx: CtxDep, who: Clerk
) -> Response:
    return _jpeg(page_thumbnail(ctx, page_id, which))


@router.get(
    "/components/{component_id}/pages/{index}/thumb/{which}",
    responses={**ERRORS, 200: {"content": {"image/jpeg": {}}}},
    response_class=Response,
    summary="A page thumbnail made from the original and the recorded rotation and skew",
)
def component_page_thumb(
    component_id: str, index: int, which: Literal["before", "after"], ctx: CtxDep, who: Clerk
) -> Response:
    with ctx.sessions() as session:
        comp = get_component(session, component_id)
        if comp is None or index < 0 or index >= len(comp.pages or []):
            raise HTTPException(404, "no such page")
        key, page = comp.original.key, comp.pages[index]
    turn = (page.get("rotation", 0), page.get("skew", 0.0)) if which == "after" else (0, 0.0)
    return _jpeg(_thumb_from_original(ctx.store, key, index, *turn))


_THUMBS: OrderedDict[tuple[str, int, int, float], bytes] = OrderedDict()


def _thumb_from_original(store: Any, key: str, index: int, rotation: int, skew: float) -> bytes:
    """Made once per page and kept (originals are content-addressed, so keys never go stale)."""
    at = (key, index, rotation, skew)
    if at not in _THUMBS:
        try:
            page = load_frame(store.get(key), index)
        except BadInput:
            raise HTTPException(404, "no such page") from None
        _THUMBS[at] = thumbnails(page.image, rotation, skew)[1 if rotation or skew else 0]
        while len(_THUMBS) > 512:
            _THUMBS.popitem(last=False)
    return _THUMBS[at]


def _editable(ctx: Context, component_id: str) -> None:
    with ctx.sessions() as session:
        comp = get_component(session, component_id)
        if comp is None:
            raise HTTPException(404, "no such component")
        if comp.status in ("queued", "processing"):
            raise HTTPException(409, "the component is still being read: wait until it is done")


@router.put(
    "/components/{component_id}/pages",
    responses=ERRORS,
    summary="Reorder or delete pages: the component keeps exactly these pages, in this order",
)
def set_pages(
    component_id: str, body: schemas.PageOrderIn, request: Request, ctx: CtxDep, who: Clerk
) -> dict[str, Any]:
    _editable(ctx, component_id)
    try:
        edit_pages(ctx, component_id, body.page_ids)
    except BadInput as exc:
        raise HTTPException(422, str(exc)) from None
    request.app.state.worker.enqueue(component_id)
    with ctx.sessions.begin() as session:
        audit.record(session, actor=who.key_id, role=who.role, action="counter.edit_pages",
                     target=component_id, detail=f"{len(body.page_ids)} page(s)")  # fmt: skip
    return {"id": component_id, "status": "queued", "page_ids": body.page_ids}


@router.post(
    "/components/{component_id}/pages",
    status_code=202,
    responses=ERRORS,
    summary="Add a scan's pages at the end, or scan one page again (`replace`)",
)
async def add_component_pages(
    component_id: str,
    request: Request,
    ctx: CtxDep,
    who: Clerk,
    file: Annotated[UploadFile, File(description="PNG, JPEG, TIFF or PDF")],
    replace: Annotated[int | None, Form(description="id of the page this scan replaces")] = None,
) -> dict[str, Any]:
    data = await read_upload(file, ctx.settings.max_upload_mb * 1024 * 1024)
    await anyio.to_thread.run_sync(_editable, ctx, component_id)
    try:
        ids = await anyio.to_thread.run_sync(
            lambda: add_pages(ctx, component_id, data, replace=replace)
        )
    except BadInput as exc:
        raise HTTPException(422, str(exc)) from None
    request.app.state.worker.enqueue(component_id)
    with ctx.sessions.begin() as session:
        audit.record(session, actor=who.key_id, role=who.role, action="counter.add_pages",
                     target=component_id, detail=f"replace={replace}")  # fmt: skip
    return {"id": component_id, "status": "queued", "page_ids": ids}
