"""The HTTP API of `sohoa serve`, with the in-process worker and the drop-folder watcher."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import logmask, schemas
from api.auth import Caller, require
from api.pipeline import SPLIT, Context, child_ids, result_of, submit
from api.routes_counter import add_counter
from api.routes_ingest import router as ingest_router
from api.routes_registry import OWNER_ID, CtxDep, check_dossier_code, check_owner, read_upload
from api.routes_registry import router as registry_router
from api.settings import Settings
from api.worker import Dispatcher, make_dispatcher  # Celery or in-process
from ingest.dropfolder import DropFolder
from models.errors import BadInput
from storage import audit
from storage.codes import check_pattern
from storage.registry import components_by_owner, get_component
from storage.reuse import dossier_states
from storage.tables import Component, Dossier

log = logging.getLogger(__name__)

__all__ = ["OWNER_ID", "create_app", "watch_folder"]


def watch_folder(
    ctx: Context, worker: Dispatcher, root: Path, stop: threading.Event, *, polling: bool
) -> None:
    """Feed a drop folder to the worker until `stop` is set."""

    def hand_over(path: Path, dossier_code: str | None) -> None:
        source = str(path.relative_to(root))
        sub = submit(ctx, path.read_bytes(), source, dossier_code=dossier_code, actor="dropfolder")
        if sub.error:
            raise BadInput(sub.error)
        worker.enqueue(sub.component_id)

    root.mkdir(parents=True, exist_ok=True)
    folder = DropFolder(
        root,
        hand_over,
        stable_seconds=ctx.settings.watch_stable_seconds,
        poll_interval=ctx.settings.watch_poll_seconds,
        use_events=not polling,
    )
    log.info("watching drop folder %s", root)
    folder.run(stop)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    check_pattern(settings.result_code_pattern)
    logmask.install()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx = Context.from_settings(settings)
        worker = make_dispatcher(ctx)  # Celery when SOHOA_BROKER_URL is set
        worker.start()
        stop = threading.Event()
        watcher = None
        if settings.watch:
            watcher = threading.Thread(
                target=watch_folder,
                args=(ctx, worker, settings.inbox, stop),
                kwargs={"polling": False},
                name="sohoa-watch",
                daemon=True,
            )
            watcher.start()
        app.state.ctx, app.state.worker = ctx, worker
        yield
        stop.set()
        worker.stop()
        if watcher:
            watcher.join(10)

    app = FastAPI(
        title="sohoa",
        summary="Số hóa hồ sơ: digitized, classified, reusable dossier components",
        version="0.1.0",
        lifespan=lifespan,
    )

    @app.exception_handler(HTTPException)
    async def _error_body(_request: Request, exc: HTTPException) -> JSONResponse:
        body = exc.detail if isinstance(exc.detail, dict) else {"error": str(exc.detail)}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid_body(_request: Request, exc: RequestValidationError) -> JSONResponse:
        where = lambda e: ".".join(str(x) for x in e.get("loc", ())[1:]) or "request"  # noqa: E731
        msg = "; ".join(f"{where(e)}: {e.get('msg', 'invalid')}" for e in exc.errors()[:5])
        return JSONResponse({"error": msg}, status_code=422)

    add_routes(app, settings)
    app.include_router(registry_router, tags=["registry"])
    app.include_router(ingest_router)
    add_counter(app)  # the counter page at /counter/ (and / redirects there)
    return app


def _worker(request: Request) -> Dispatcher:
    return request.app.state.worker


WorkerDep = Annotated[Dispatcher, Depends(_worker)]
ERRORS = {code: {"model": schemas.ErrorBody} for code in (400, 401, 403, 404, 413, 422)}
Uploader = Annotated[Caller, Depends(require("scanner", "clerk"))]
StatusReader = Annotated[Caller, Depends(require("scanner", "clerk", "system"))]
Reader = Annotated[Caller, Depends(require("clerk", "system"))]
DossierReader = Annotated[Caller, Depends(require("scanner", "clerk"))]
Purpose = Annotated[str, Query(max_length=200, description="why: recorded in the audit trail")]


def _component_out(ctx: Context, session: Session, comp: Component) -> schemas.ComponentOut:
    body = result_of(comp, f"/api/v1/components/{comp.id}/pdf" if comp.pdf_sha256 else "")
    out = schemas.ComponentOut.model_validate(body.to_json())
    if comp.parent_id:
        out.batch, out.batch_pages = comp.parent_id, [comp.first_page, comp.last_page]
    if comp.status == SPLIT:
        out.parts = child_ids(session, comp.id)
    return out


def _may_read(who: Caller, comp: Component) -> None:
    if comp.type and not who.may_read(comp.type):  # known once reviewable
        raise HTTPException(403, f"this key may not read documents of type {comp.type}")


def add_routes(app: FastAPI, settings: Settings) -> None:
    limit = settings.max_upload_mb * 1024 * 1024

    async def accept(
        ctx: Context,
        worker: Dispatcher,
        file: UploadFile,
        owner: str | None,
        code: str | None,
        who: Caller,
    ) -> schemas.Accepted:
        data = await read_upload(file, limit)
        owners = [check_owner(owner)] if owner else []
        source = file.filename or "upload"
        sub = submit(ctx, data, source, owners=owners, dossier_code=code, actor=who.key_id)
        if sub.error:
            raise HTTPException(422, {"error": sub.error, "component_id": sub.component_id})
        worker.enqueue(sub.component_id)
        url = f"/api/v1/components/{sub.component_id}"
        return schemas.Accepted(
            id=sub.component_id, status="queued", source=source, duplicate=not sub.created, url=url
        )

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post(
        "/api/v1/dossiers/{code}/files",
        status_code=202,
        responses=ERRORS,
        summary="Upload a scanned file as a component of a dossier",
    )
    async def upload_to_dossier(
        code: str,
        ctx: CtxDep,
        worker: WorkerDep,
        who: Uploader,
        file: Annotated[UploadFile, File(description="PNG, JPEG, TIFF or PDF")],
        owner: Annotated[str | None, Form(description="owner's personal ID number")] = None,
    ) -> schemas.Accepted:
        return await accept(ctx, worker, file, owner, check_dossier_code(code), who)

    @app.post(
        "/api/v1/components", status_code=202, responses=ERRORS, summary="Upload a loose file"
    )
    async def upload(
        ctx: CtxDep,
        worker: WorkerDep,
        who: Uploader,
        file: Annotated[UploadFile, File(description="PNG, JPEG, TIFF or PDF")],
        owner: Annotated[str | None, Form(description="owner's personal ID number")] = None,
    ) -> schemas.Accepted:
        return await accept(ctx, worker, file, owner, None, who)

    @app.get("/api/v1/components/{component_id}", responses=ERRORS, summary="Status and result")
    def component(
        component_id: str, ctx: CtxDep, who: StatusReader, purpose: Purpose = ""
    ) -> schemas.ComponentOut:
        with ctx.sessions.begin() as session:
            comp = get_component(session, component_id)
            if comp is None:
                raise HTTPException(404, "no such component")
            _may_read(who, comp)
            audit.record(session, actor=who.key_id, role=who.role, action="component.read",
                         target=comp.id, purpose=purpose)  # fmt: skip
            return _component_out(ctx, session, comp)

    @app.get(
        "/api/v1/components/{component_id}/pdf",
        responses={**ERRORS, 200: {"content": {"application/pdf": {}}}},
        response_class=Response,
        summary="The searchable PDF",
    )
    def component_pdf(
        component_id: str, ctx: CtxDep, who: Reader, purpose: Purpose = ""
    ) -> Response:
        with ctx.sessions.begin() as session:
            comp = get_component(session, component_id)
            if comp is None:
                raise HTTPException(404, "no such component")
            _may_read(who, comp)
            if comp.pdf is None:
                raise HTTPException(404, f"no PDF yet: component is {comp.status}")
            key = comp.pdf.key
            audit.record(session, actor=who.key_id, role=who.role, action="component.pdf",
                         target=comp.id, purpose=purpose)  # fmt: skip
        headers = {"Content-Disposition": f'inline; filename="{component_id}.pdf"'}
        return Response(ctx.store.get(key), media_type="application/pdf", headers=headers)

    @app.get("/api/v1/dossiers/{code}", responses=ERRORS, summary="A dossier's components")
    def dossier(
        code: str, ctx: CtxDep, who: DossierReader, purpose: Purpose = ""
    ) -> schemas.DossierOut:
        with ctx.sessions.begin() as session:
            d = session.scalar(select(Dossier).where(Dossier.code == code))
            if d is None:
                raise HTTPException(404, "no such dossier")
            comps = [get_component(session, c.id) for c in d.components]
            audit.record(session, actor=who.key_id, role=who.role, action="dossier.read",
                         target=code[:64], purpose=purpose)  # fmt: skip
            return schemas.DossierOut(
                code=code,
                components=[_component_out(ctx, session, c) for c in comps if c],
                procedure_code=d.procedure_code,
                component_states=[
                    schemas.ComponentStateOut(**vars(st)) for st in dossier_states(session, d)
                ],
                reused=[lk.component_id for lk in d.links],
            )

    @app.get(
        "/api/v1/owners/{owner_id}/documents",
        responses=ERRORS,
        summary="A citizen's registered documents",
    )
    def owner_documents(
        owner_id: str,
        ctx: CtxDep,
        who: Reader,
        purpose: Annotated[
            str, Query(min_length=3, max_length=200, description="why: recorded in the audit")
        ],
    ) -> schemas.OwnerDocuments:
        owner_id = check_owner(owner_id)
        with ctx.sessions.begin() as session:
            audit.record(session, actor=who.key_id, role=who.role, action="owner.documents",
                         subject=owner_id, purpose=purpose)  # fmt: skip
            docs = [
                schemas.DocumentOut(
                    id=c.id,
                    type=c.type or "",
                    type_confidence=c.type_confidence or 0.0,
                    fields={
                        f.name: schemas.FieldOut(
                            value=f.value, source=f.source, confidence=f.confidence
                        )
                        for f in c.fields
                    },
                    page_count=c.page_count,
                    dossier=c.dossier_key or None,
                    created_at=c.created_at.isoformat(),
                    pdf=f"/api/v1/components/{c.id}/pdf",
                )
                for c in components_by_owner(session, owner_id)
                if who.may_read(c.type)
            ]
        return schemas.OwnerDocuments(owner_id=owner_id, documents=docs)
