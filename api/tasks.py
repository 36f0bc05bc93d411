"""Celery tasks: thin, idempotent wrappers around `api.pipeline.digitize`.

A redelivered task duplicates nothing: `digitize` returns a finished component as it is,
and a component's result replaces any earlier attempt's. Transient faults (object store or
database unreachable, broker hiccups) are retried with exponential backoff.
"""

from __future__ import annotations

import logging
from functools import cache

from celery import shared_task
from sqlalchemy.exc import InterfaceError, OperationalError

from api.pipeline import Context, digitize
from api.settings import Settings
from storage.s3 import TransientStorageError

log = logging.getLogger(__name__)

TRANSIENT = (TransientStorageError, OperationalError, InterfaceError, ConnectionError, TimeoutError)


@cache
def worker_context() -> Context:
    """One context per worker process, built lazily in the pool child (after the fork)."""
    return Context.from_settings(Settings())


@shared_task(
    name="sohoa.digitize",
    autoretry_for=TRANSIENT,
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=10,
)
def digitize_component(component_id: str) -> str:
    """Digitize one component; returns its final status."""
    result = digitize(worker_context(), component_id)
    log.info("component %s: %s", component_id, result.status)
    return result.status
