"""The in-process worker of the embedded default: a queue of component ids and a thread.

Distributed mode replaces this queue with Celery (`CeleryDispatcher`), which sends each
component to `sohoa.prepare` (then one task per page, see api/tasks.py) and sweeps up
components stalled by lost messages or dead workers. `make_dispatcher` chooses.
"""

from __future__ import annotations

import logging
import queue
import threading
from datetime import timedelta
from typing import Protocol

from api.pipeline import Context, digitize, warm_up
from storage.pages import give_up_stale_pages, stale_component_ids
from storage.registry import pending_component_ids
from storage.tables import utcnow

log = logging.getLogger(__name__)


class InProcessWorker:
    """Digitizes queued components, `settings.page_workers` at a time: a dossier of one-page
    components keeps every core busy too. Pages of all components share the context's page
    pool, so no more pages are read at once than there are page workers."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._queued: set[str] = set()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

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
        warm = threading.Event()
        for n in range(max(1, self.ctx.settings.page_workers)):
            thread = threading.Thread(
                target=self._loop, args=(warm, n == 0), name=f"sohoa-worker-{n}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 30) -> None:
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def join(self) -> None:
        """Until every queued component is finished."""
        self._queue.join()

    def _loop(self, warm: threading.Event, first: bool) -> None:
        if first:  # one thread loads the classifier; the others wait for it
            try:
                warm_up()
            finally:
                warm.set()
        warm.wait()
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
    """Sends components to the Celery workers (distributed mode, `SOHOA_BROKER_URL`).

    While started, it sweeps every `sweep_seconds`: a component on which nothing moved for
    longer than the hard time limit (its message lost, its worker dead and the task not
    given back) is sent again; tasks are idempotent, so a slow one is not harmed."""

    def __init__(self, ctx: Context, sweep_seconds: float = 60.0) -> None:
        from api.celery_app import SEND_RETRY, make_celery

        self.retry_policy = SEND_RETRY
        self.ctx = ctx
        self.app = make_celery(ctx.settings)
        self.sweep_seconds = sweep_seconds
        self._stop = threading.Event()
        self._sweeper: threading.Thread | None = None

    def enqueue(self, component_id: str) -> None:
        self.app.send_task(
            "sohoa.prepare", (component_id,), retry=True, retry_policy=self.retry_policy
        )

    def start(self) -> None:
        """Re-send whatever is still unfinished in the database: a message lost by a broker
        that crashed without persistence must not strand a component (tasks are idempotent).
        Then sweep periodically."""
        with self.ctx.sessions() as session:
            for cid in pending_component_ids(session):
                self.enqueue(cid)
        self._stop.clear()
        self._sweeper = threading.Thread(target=self._sweep_loop, name="sohoa-sweep", daemon=True)
        self._sweeper.start()

    def sweep(self) -> list[str]:
        """Re-send stalled components once; returns their ids."""
        idle = timedelta(seconds=self.ctx.settings.task_time_limit)
        with self.ctx.sessions.begin() as session:
            stalled = stale_component_ids(session, idle)
            give_up_stale_pages(session, utcnow() - idle)
        for cid in stalled:
            log.warning("component %s stalled: sent again", cid)
            self.enqueue(cid)
        return stalled

    def _sweep_loop(self) -> None:
        while not self._stop.wait(self.sweep_seconds):
            try:
                self.sweep()
            except Exception:  # noqa: BLE001 - the sweep retries at its next round
                log.exception("sweep failed")

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        if self._sweeper:
            self._sweeper.join(timeout)


def make_dispatcher(ctx: Context) -> Dispatcher:
    """Celery when `SOHOA_BROKER_URL` is set, else the in-process worker."""
    if ctx.settings.broker_url:
        return CeleryDispatcher(ctx)
    return InProcessWorker(ctx)
