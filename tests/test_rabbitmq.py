"""RabbitMQ as the broker (`SOHOA_BROKER_URL=amqp://…`): the same tasks, the same faults.

A real RabbitMQ node from Debian on loopback, a real `sohoa worker` process; records and
objects stay on the embedded default (SQLite, files) to show the broker is chosen alone.
"""

from __future__ import annotations

import hashlib
import os
import signal
from collections.abc import Iterator

import pytest

from api.settings import Settings
from storage.registry import get_component
from tests.services import RabbitMQServer, rabbitmq_server_fixture  # noqa: F401 - fixture
from tests.test_distributed import Stack, count_components, page_bytes, page_states


@pytest.fixture(scope="module")
def amqp_stack(
    rabbitmq_server: RabbitMQServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    data = tmp_path_factory.mktemp("amqp-stack")
    env = {**os.environ, "SOHOA_BROKER_URL": rabbitmq_server.url, "SOHOA_DATA_DIR": str(data),
           "OMP_THREAD_LIMIT": "1"}  # fmt: skip
    settings = Settings(data_dir=data, broker_url=rabbitmq_server.url)
    st = Stack(settings, env, data / "worker.log")
    st.start_worker()
    yield st
    st.stop_worker()


def test_a_component_is_fanned_out_and_joined_through_rabbitmq(amqp_stack: Stack) -> None:
    data = page_bytes(301, pages=2)
    cid = amqp_stack.submit(data, "p301.tiff")
    assert amqp_stack.wait_status(cid, {"done", "failed"}) == "done"
    rows = page_states(amqp_stack.ctx, cid)
    assert [(r.status, r.reads) for r in rows] == [("done", 1), ("done", 1)]
    with amqp_stack.ctx.sessions() as session:
        comp = get_component(session, cid)
        assert comp is not None and comp.pdf is not None and "301/QĐ-UBND" in comp.text
    assert amqp_stack.ctx.sessions.kw["bind"].dialect.name == "sqlite"


def test_kill_9_mid_page_with_rabbitmq_gives_one_result(amqp_stack: Stack) -> None:
    data = page_bytes(302, pages=2)
    cid = amqp_stack.submit(data, "p302.tiff")
    killed = amqp_stack.wait_reading(cid)
    for pid in amqp_stack.pool_children():
        os.kill(pid, signal.SIGKILL)
    # unacknowledged (acks_late) and rejected on worker loss: RabbitMQ requeues it at once
    assert amqp_stack.wait_status(cid, {"done", "failed"}) == "done"
    rows = page_states(amqp_stack.ctx, cid)
    assert {r.id: r.reads for r in rows} == {r.id: 2 if r.id == killed else 1 for r in rows}
    assert count_components(amqp_stack.ctx, hashlib.sha256(data).hexdigest()) == 1


def test_the_whole_worker_killed_mid_page_then_restarted_gives_one_result(
    amqp_stack: Stack,
) -> None:
    """The main process and its pool killed at once (a machine's power cut): RabbitMQ sees
    the connection drop and requeues the unacknowledged page task for the next worker."""
    data = page_bytes(303, pages=2)
    cid = amqp_stack.submit(data, "p303.tiff")
    amqp_stack.wait_reading(cid)
    amqp_stack.stop_worker()  # SIGKILL to the worker's whole process group
    assert amqp_stack.status(cid)[0] == "processing"
    amqp_stack.start_worker()
    assert amqp_stack.wait_status(cid, {"done", "failed"}) == "done"
    rows = page_states(amqp_stack.ctx, cid)
    assert [r.status for r in rows] == ["done", "done"]
    assert count_components(amqp_stack.ctx, hashlib.sha256(data).hexdigest()) == 1
