"""The Celery application of distributed mode, configured from the settings alone.

`SOHOA_BROKER_URL` (Redis, or RabbitMQ as `amqp://`) selects it. Delivery is at least once:
a task is acknowledged only after it ran (`acks_late`), a task whose pool process died is
given back to the queue (`task_reject_on_worker_lost`), and a worker holds one task at a
time (prefetch 1) so that a long task never blocks a queue behind it. A task is one page
(or a component's preparation or assembly), so the time limits bound one page. Tasks are
therefore idempotent (see api/tasks.py).
"""

from __future__ import annotations

from celery import Celery

from api.settings import Settings

QUEUE = "sohoa"
# sending a task while the broker is briefly away: retried, not lost
SEND_RETRY = {"max_retries": 20, "interval_start": 0.5, "interval_step": 1, "interval_max": 5}


def make_celery(settings: Settings | None = None) -> Celery:
    settings = settings or Settings()
    app = Celery("sohoa", broker=settings.broker_url, include=["api.tasks"])
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_soft_time_limit=settings.task_soft_time_limit,
        task_time_limit=settings.task_time_limit,
        worker_max_tasks_per_child=settings.worker_max_tasks_per_child,
        task_ignore_result=True,
        task_default_queue=QUEUE,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a restarted broker is waited for, not fatal
        # Redis: an unacknowledged task goes back to the queue after this; it must exceed
        # the hard time limit, or a long task would run twice.
        broker_transport_options={"visibility_timeout": settings.broker_visibility_timeout},
        worker_hijack_root_logger=False,
        worker_cancel_long_running_tasks_on_connection_loss=False,
    )
    return app


app = make_celery()
