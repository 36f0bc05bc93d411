"""Ingest endpoints: MinIO's webhook target posts bucket events here, and scanners ask for
presigned upload URLs into the inbox bucket. Active when `SOHOA_INBOX_BUCKET_URL` is set.

MinIO side: `mc admin config set ALIAS notify_webhook:sohoa
endpoint=http://api:8000/api/v1/ingest/bucket-events auth_token=$SOHOA_INGEST_TOKEN`, then
`mc event add ALIAS/inbox arn:minio:sqs::sohoa:webhook --event put`.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from datetime import timedelta
from pathlib import PurePosixPath
from typing import Any

from fastapi import APIRouter, Body, Header, HTTPException, Request
from pydantic import BaseModel

from api.pipeline import Context, submit
from api.routes_registry import check_dossier_code
from api.worker import Dispatcher
from ingest.bucket import BucketInbox
from models.errors import BadInput
from storage.s3 import S3BlobStore

router = APIRouter(prefix="/api/v1/ingest", tags=["ingest"])
_lock = threading.Lock()


def make_bucket_inbox(ctx: Context, dispatcher: Dispatcher) -> BucketInbox | None:
    """The inbox bucket of the settings, feeding `submit` then `dispatcher`; None if unset."""
    url = ctx.settings.inbox_bucket_url
    if not url:
        return None

    def hand_over(data: bytes, source: str, dossier_code: str | None) -> None:
        sub = submit(ctx, data, source, dossier_code=dossier_code)
        if sub.error:
            raise BadInput(sub.error)
        dispatcher.enqueue(sub.component_id)

    return BucketInbox(S3BlobStore.from_url(url), hand_over)


def _inbox(request: Request) -> BucketInbox:
    state = request.app.state
    with _lock:
        inbox = getattr(state, "bucket_inbox", None)
        if inbox is None:
            inbox = make_bucket_inbox(state.ctx, state.worker)
            if inbox is None:
                raise HTTPException(404, "no inbox bucket configured (SOHOA_INBOX_BUCKET_URL)")
            state.bucket_inbox = inbox
    return inbox


def _check_token(request: Request, authorization: str | None) -> None:
    token = request.app.state.ctx.settings.ingest_token
    if not token:  # never an open door: the webhook and upload URLs need a shared secret
        raise HTTPException(503, "bucket ingest needs SOHOA_INGEST_TOKEN to be set")
    if not secrets.compare_digest(authorization or "", f"Bearer {token}"):
        raise HTTPException(401, "bad or missing bearer token")


class EventsTaken(BaseModel):
    taken: int


class UploadUrl(BaseModel):
    url: str
    key: str
    method: str = "PUT"
    headers: dict[str, str]
    expires_in: int


@router.post("/bucket-events", summary="MinIO bucket event notification (webhook target)")
def bucket_events(
    request: Request,
    body: dict[str, Any] = Body(...),  # noqa: B008 - FastAPI's way of taking raw JSON
    authorization: str | None = Header(None),
) -> EventsTaken:
    _check_token(request, authorization)
    return EventsTaken(taken=_inbox(request).handle_event(body))


@router.post("/upload-url", summary="A presigned URL to PUT a scan into the inbox bucket")
def upload_url(
    request: Request,
    name: str,
    dossier: str | None = None,
    authorization: str | None = Header(None),
) -> UploadUrl:
    _check_token(request, authorization)
    base = PurePosixPath(name).name
    if not base or base.startswith((".", "~")):
        raise HTTPException(422, "bad file name")
    if dossier is not None:
        check_dossier_code(dossier)
    name = f"{uuid.uuid4().hex[:8]}-{base}"
    key = f"{dossier}/{name}" if dossier else name
    expires = timedelta(minutes=30)
    url = _inbox(request).store.presigned_put(key, expires)
    headers = {"Content-Type": "application/octet-stream"}
    return UploadUrl(url=url, key=key, headers=headers, expires_in=int(expires.total_seconds()))
