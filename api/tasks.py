"""Celery tasks: a component fanned out into one task per page, joined for its assembly.

`sohoa.prepare` creates the page rows and sends one `sohoa.read_page` per page to read;
the page task that finishes the last page wins the join (`storage.pages.claim_join`, one
conditional UPDATE) and sends `sohoa.assemble`. A redelivered or duplicated task
duplicates nothing: a page already done is not read again, a page read by another live
task is left to it, a finished component is not assembled again, and of two assemblies
running at once only one writes its result. Transient faults (object store or database
unreachable) are retried with exponential backoff; the page a retried task was reading
stays its own (the retry keeps the task id, the page's `reader`).
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from functools import cache

import cv2
from celery import Task, shared_task
from celery.signals import worker_process_init

from api.celery_app import SEND_RETRY
from api.pipeline import TRANSIENT, Context, assemble, digitize, prepare, read_one, warm_up
from api.settings import Settings
from storage.pages import claim_join
from storage.tables import utcnow

log = logging.getLogger(__name__)

RETRY = {
    "autoretry_for": TRANSIENT,
    "retry_backoff": 2,
    "retry_backoff_max": 120,
    "retry_jitter": True,
    "max_retries": 10,
}


@cache
def worker_context() -> Context:
    """One context per worker process, built lazily in the pool child (after the fork)."""
    return Context.from_settings(Settings())


@worker_process_init.connect
def _init_pool_process(**_kwargs: object) -> None:
    """A new pool child: single-threaded OpenCV (one process per core, as Tesseract), and
    the classifier loaded beside its first task (the child must report itself up within
    seconds, so not before)."""
    cv2.setNumThreads(1)
    threading.Thread(target=warm_up, name="warm-up", daemon=True).start()


@shared_task(name="sohoa.prepare", bind=True, **RETRY)
def prepare_component(self: Task, component_id: str) -> str:
    """Page rows, then one read task per page to read (or the assembly if none is left)."""
    ctx = worker_context()
    plan = prepare(ctx, component_id)
    if plan.result is not None:
        return plan.result.status
    if not plan.pending:
        with ctx.sessions.begin() as session:
            claim_join(session, component_id)
        send(self, "sohoa.assemble", component_id)
        return "assembling"
    for page_id in plan.pending:
        send(self, "sohoa.read_page", component_id, page_id)
    log.info("component %s: %d page task(s) sent", component_id, len(plan.pending))
    return "reading"


@shared_task(name="sohoa.read_page", bind=True, **RETRY)
def read_page_task(self: Task, component_id: str, page_id: int) -> str:
    """Read one page (once), then join: the last page of the run sends the assembly."""
    ctx = worker_context()
    stale = utcnow() - timedelta(seconds=ctx.settings.task_time_limit)
    read = read_one(ctx, component_id, page_id, reader=self.request.id, stale_before=stale)
    with ctx.sessions.begin() as session:
        joined = claim_join(session, component_id)
    if joined:
        send(self, "sohoa.assemble", component_id)
    return "read" if read else "skipped"


@shared_task(name="sohoa.assemble", **RETRY)
def assemble_component(component_id: str) -> str:
    """Classify, build the archival PDF and register; a no-op once done."""
    result = assemble(worker_context(), component_id)
    log.info("component %s: %s", component_id, result.status)
    return result.status


@shared_task(name="sohoa.digitize", **RETRY)
def digitize_component(component_id: str) -> str:
    """A whole component in one task (messages queued before the per-page tasks existed)."""
    return digitize(worker_context(), component_id).status


def send(task: Task, name: str, *args: object) -> None:
    """Send a follow-up task, retrying while the broker is briefly away."""
    task.app.send_task(name, args, retry=True, retry_policy=SEND_RETRY)
