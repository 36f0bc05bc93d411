"""The in-process worker of the embedded default: a queue of component ids and a thread.

Distributed mode replaces this queue with Celery (`CeleryDispatcher`); both call
`pipeline.digitize`. `make_dispatcher` chooses from the settings.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Protocol

from api.pipeline import Context, digitize
from storage.registry import pending_component_ids

log = logging.getLogger(__name__)


class InProcessWorker:
    """Digitizes queued components one at a time (each one already uses every core)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._queued: set[str] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def enqueue(self, component_id: str) -> None:
        with self._lock:
            if component_id in self._queued:
                return
            self._queued.add(component_id)
        self._queue.put(component_id)

    def start(self) -> None:
        """Start, re-enqueueing whatever a crash or restart left unfinished."""
        with self.ctx.sessions() as session:
            for cid in pending_component_ids(session):
                self.enqueue(cid)
        self._thread = threading.Thread(target=self._loop, name="sohoa-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        self._queue.put(None)
        if self._thread:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            cid = self._queue.get()
            try:
                if cid is None:
                    return
                with self._lock:
                    self._queued.discard(cid)
                digitize(self.ctx, cid)
            except Exception:  # noqa: BLE001 - one bad component must never stop the worker
                log.exception("component %s failed", cid)
            finally:
                self._queue.task_done()


class Dispatcher(Protocol):
    """Where submitted components go to be digitized: this process or a Celery queue."""

    def enqueue(self, component_id: str) -> None: ...
    def start(self) -> None: ...
    def stop(self, timeout: float = 30) -> None: ...


class CeleryDispatcher:
    """Sends components to the Celery workers (distributed mode, `SOHOA_BROKER_URL`)."""

    def __init__(self, ctx: Context) -> None:
        from api.celery_app import make_celery

        self.ctx = ctx
        self.app = make_celery(ctx.settings)

    def enqueue(self, component_id: str) -> None:
        self.app.send_task(
            "sohoa.digitize",
            (component_id,),
            retry=True,
            retry_policy={"max_retries": 20, "interval_start": 0.5, "interval_step": 1,
                          "interval_max": 5},
        )  # fmt: skip

    def start(self) -> None:
        """Re-send whatever is still unfinished in the database: a message lost by a broker
        that crashed without persistence must not strand a component (tasks are idempotent)."""
        with self.ctx.sessions() as session:
            for cid in pending_component_ids(session):
                self.enqueue(cid)

    def stop(self, timeout: float = 30) -> None:
        pass


def make_dispatcher(ctx: Context) -> Dispatcher:
    """Celery when `SOHOA_BROKER_URL` is set, else the in-process worker."""
    if ctx.settings.broker_url:
        return CeleryDispatcher(ctx)
    return InProcessWorker(ctx)
