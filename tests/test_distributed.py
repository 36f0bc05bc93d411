"""Distributed mode for real: a Celery worker subprocess on Redis, objects in S3 (moto
server), records in PostgreSQL, and the faults a province will see."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select

from api.pipeline import Context, submit
from api.settings import Settings
from api.worker import CeleryDispatcher, make_dispatcher
from ingest.bucket import BucketInbox, consume_redis_events, parse_event
from storage import s3 as s3_module
from storage.pages import page_rows
from storage.registry import get_component
from storage.s3 import S3BlobStore
from storage.tables import Component, ComponentPage
from tests.pages import DECISION, render_page
from tests.services import (  # noqa: F401 - fixtures
    PostgresServer,
    RedisServer,
    S3Server,
    postgres_server_fixture,
    redis_server_fixture,
    s3_server_fixture,
)

VENV_BIN = Path(sys.executable).parent
TIMEOUT = 180  # seconds for a component on a loaded 2-core machine


def page_bytes(number: int, pages: int = 1) -> bytes:
    """A small (150 dpi) decision page numbered `number`; several pages give a TIFF."""
    numbered = (f"Số: {number}/QĐ-UBND", "Tây Ninh, ngày 05 tháng 5 năm 2023")
    lines = [numbered if "123/QĐ" in str(line) else line for line in DECISION]
    imgs = [render_page(lines, dpi=150) for _ in range(pages)]
    buf = io.BytesIO()
    if pages == 1:
        imgs[0].save(buf, "PNG", dpi=(150, 150))
    else:
        gray: list[Image.Image] = [i.convert("L") for i in imgs]
        gray[0].save(buf, "TIFF", save_all=True, append_images=gray[1:], dpi=(150, 150),
                     compression="tiff_deflate")  # fmt: skip
    return buf.getvalue()


class Stack:
    """The distributed deployment: settings, a worker subprocess and a client context."""

    def __init__(self, settings: Settings, env: dict[str, str], logfile: Path) -> None:
        self.settings, self.env, self.logfile = settings, env, logfile
        self.worker: subprocess.Popen | None = None
        self.ctx = Context.from_settings(settings)
        self.dispatcher = CeleryDispatcher(self.ctx)

    def start_worker(self) -> None:
        self.worker = subprocess.Popen(
            [str(VENV_BIN / "sohoa"), "worker", "-c", "1"],
            env=self.env,
            stdout=self.logfile.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop_worker(self) -> None:
        if self.worker and self.worker.poll() is None:
            os.killpg(self.worker.pid, signal.SIGKILL)
            self.worker.wait(10)

    def pool_children(self) -> list[int]:
        assert self.worker is not None
        out = subprocess.run(["pgrep", "-P", str(self.worker.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def status(self, cid: str) -> tuple[str, int]:
        with self.ctx.sessions() as session:
            comp = get_component(session, cid)
            assert comp is not None
            return comp.status, comp.attempts

    def wait_status(self, cid: str, want: set[str], timeout: float = TIMEOUT) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            status, _ = self.status(cid)
            if status in want:
                return status
            time.sleep(0.2)
        log = self.logfile.read_text(errors="replace")[-3000:]
        raise AssertionError(f"component {cid} still {self.status(cid)}; worker log:\n{log}")

    def wait_reading(self, cid: str) -> int:
        """The id of the component's page being read, half a second into its reading."""
        end = time.monotonic() + TIMEOUT
        while not any(r.status == "reading" for r in page_states(self.ctx, cid)):
            assert time.monotonic() < end, "no page was ever read"
            time.sleep(0.05)
        time.sleep(0.5)  # well inside the page's reading
        (reading,) = [r.id for r in page_states(self.ctx, cid) if r.status == "reading"]
        return reading

    def submit(self, data: bytes, source: str) -> str:
        sub = submit(self.ctx, data, source)
        assert sub.error is None
        self.dispatcher.enqueue(sub.component_id)
        return sub.component_id


@pytest.fixture(scope="module")
def stack(
    redis_server: RedisServer,
    postgres_server: PostgresServer,
    s3_server: S3Server,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    data = tmp_path_factory.mktemp("stack")
    env_settings = {
        "SOHOA_BROKER_URL": redis_server.url,
        "SOHOA_DATABASE_URL": postgres_server.new_database(),
        "SOHOA_STORAGE_URL": s3_server.url("objects"),
    }
    env = {**os.environ, **env_settings, "SOHOA_DATA_DIR": str(data), "OMP_THREAD_LIMIT": "1",
           "SOHOA_TASK_SOFT_TIME_LIMIT": "150", "SOHOA_TASK_TIME_LIMIT": "170"}  # fmt: skip
    settings = Settings(
        data_dir=data,
        database_url=env_settings["SOHOA_DATABASE_URL"],
        storage_url=env_settings["SOHOA_STORAGE_URL"],
        broker_url=env_settings["SOHOA_BROKER_URL"],
        watch_stable_seconds=0.5,
        watch_poll_seconds=0.2,
    )
    st = Stack(settings, env, data / "worker.log")
    st.start_worker()
    yield st
    st.stop_worker()


def count_components(ctx: Context, sha: str) -> int:
    with ctx.sessions() as session:
        stmt = select(func.count()).select_from(Component)
        return session.scalar(stmt.where(Component.original_sha256 == sha)) or 0


def test_three_variables_choose_the_distributed_backends(stack: Stack) -> None:
    assert isinstance(make_dispatcher(stack.ctx), CeleryDispatcher)
    assert isinstance(stack.ctx.store, S3BlobStore)
    assert stack.ctx.sessions.kw["bind"].dialect.name == "postgresql"


def test_pipeline_through_celery_s3_and_postgres(stack: Stack) -> None:
    cid = stack.submit(page_bytes(201), "p201.png")
    assert stack.wait_status(cid, {"done", "failed"}) == "done"
    with stack.ctx.sessions() as session:
        comp = get_component(session, cid)
        assert comp is not None and comp.pdf is not None
        assert "201/QĐ-UBND" in comp.text
        assert comp.type == "quyet_dinh"
        pdf = stack.ctx.store.get(comp.pdf.key)  # the searchable PDF is in the bucket
    assert pdf.startswith(b"%PDF")


def page_states(ctx: Context, cid: str) -> list[ComponentPage]:
    with ctx.sessions() as session:
        return page_rows(session, cid)


def test_kill_9_of_the_worker_process_mid_component_gives_one_result(stack: Stack) -> None:
    data = page_bytes(202, pages=3)
    cid = stack.submit(data, "p202.tiff")
    killed = stack.wait_reading(cid)
    children = stack.pool_children()
    assert children, "no pool process found"
    for pid in children:
        os.kill(pid, signal.SIGKILL)
    # task_reject_on_worker_lost: the page task goes back to the queue, a new child takes it
    assert stack.wait_status(cid, {"done", "failed"}) == "done"
    rows = page_states(stack.ctx, cid)
    assert [r.status for r in rows] == ["done"] * 3
    assert {r.id: r.reads for r in rows} == {r.id: 2 if r.id == killed else 1 for r in rows}
    assert len({r.reader for r in rows}) == 3  # one task per page
    with stack.ctx.sessions() as session:
        comp = get_component(session, cid)
        assert comp is not None and comp.page_count == 3 and comp.attempts == 1
        assert len({f.name for f in comp.fields}) == len(comp.fields)
    assert count_components(stack.ctx, s3_module_sha(data)) == 1


def test_redelivered_and_duplicate_tasks_duplicate_nothing(stack: Stack) -> None:
    cid = stack.submit(page_bytes(211), "p211.png")
    assert stack.wait_status(cid, {"done", "failed"}) == "done"

    def snapshot() -> tuple:
        with stack.ctx.sessions() as session:
            comp = get_component(session, cid)
            assert comp is not None
            pages = [(r.reads, r.seconds, r.status) for r in page_rows(session, cid)]
            return (comp.attempts, comp.pdf_sha256, comp.result_code, comp.updated_at, pages)

    before = snapshot()
    (page,) = page_states(stack.ctx, cid)
    app = stack.dispatcher.app
    app.send_task("sohoa.read_page", (cid, page.id))  # a page task delivered again
    app.send_task("sohoa.assemble", (cid,))  # an assembly delivered again
    stack.dispatcher.enqueue(cid)  # the component sent twice
    marker = stack.submit(page_bytes(212), "p212.png")  # queued behind them (one process)
    assert stack.wait_status(marker, {"done", "failed"}) == "done"
    assert snapshot() == before


def s3_module_sha(data: bytes) -> str:
    from storage.blobs import sha256_hex

    return sha256_hex(data)


def test_broker_restarted_mid_run_loses_nothing(stack: Stack, redis_server: RedisServer) -> None:
    first = stack.submit(page_bytes(203), "p203.png")
    second = stack.submit(page_bytes(204), "p204.png")
    stack.wait_status(first, {"processing", "done"})
    redis_server.restart(down_seconds=1.0)
    third = stack.submit(page_bytes(205), "p205.png")  # sent once the broker is back
    for cid in (first, second, third):
        assert stack.wait_status(cid, {"done", "failed"}) == "done"


def test_s3_briefly_unavailable_is_retried(stack: Stack, s3_server: S3Server) -> None:
    sub = submit(stack.ctx, page_bytes(206), "p206.png")  # the original is safely stored
    retries_before = stack.logfile.read_text(errors="replace").count("retry: Retry in")
    s3_server.proxy.pause()
    try:
        stack.dispatcher.enqueue(sub.component_id)  # the worker cannot read it now
        time.sleep(5.0)
        assert stack.status(sub.component_id)[0] in ("queued", "processing")
    finally:
        s3_server.proxy.resume()
    assert stack.wait_status(sub.component_id, {"done", "failed"}) == "done"
    log = stack.logfile.read_text(errors="replace")
    assert log.count("retry: Retry in") > retries_before  # a transient fault, retried
    with stack.ctx.sessions() as session:
        comp = get_component(session, sub.component_id)
        assert comp is not None and comp.pdf is not None
        assert stack.ctx.store.exists(comp.pdf.key)


def test_drop_folder_slow_copy_and_same_file_twice(stack: Stack, tmp_path: Path) -> None:
    from api.app import watch_folder

    root = tmp_path / "inbox"
    (root / "HS-7").mkdir(parents=True)
    stop = threading.Event()
    t = threading.Thread(
        target=watch_folder,
        args=(stack.ctx, stack.dispatcher, root, stop),
        kwargs={"polling": True},
    )
    t.start()
    try:
        data = page_bytes(207)
        with (root / "HS-7" / "scan.png").open("wb") as f:  # a scanner writing slowly
            for i in range(0, len(data), len(data) // 6 + 1):
                f.write(data[i : i + len(data) // 6 + 1])
                f.flush()
                time.sleep(0.3)
        (root / "HS-7" / "again.png").write_bytes(data)  # the same scan dropped twice
        end = time.monotonic() + 30
        while time.monotonic() < end and len(list((root / "done").rglob("*.png"))) < 2:
            time.sleep(0.1)
    finally:
        stop.set()
        t.join(10)
    assert sorted(p.name for p in (root / "done").rglob("*.png")) == ["again.png", "scan.png"]
    assert count_components(stack.ctx, s3_module_sha(data)) == 1
    with stack.ctx.sessions() as session:
        comp = session.scalar(
            select(Component).where(Component.original_sha256 == s3_module_sha(data))
        )
        assert comp is not None and comp.dossier_key == "HS-7"
        cid = comp.id
    assert stack.wait_status(cid, {"done", "failed"}) == "done"


def minio_event(bucket: str, key: str, name: str = "s3:ObjectCreated:Put") -> dict:
    """A notification as MinIO sends it: `s3:` event names, URL-encoded keys."""
    record = {
        "eventVersion": "2.0",
        "eventSource": "minio:s3",
        "eventName": name,
        "s3": {"bucket": {"name": bucket}, "object": {"key": quote(key, safe=""), "size": 1}},
    }
    return {"EventName": name, "Key": f"{bucket}/{quote(key, safe='')}", "Records": [record]}


def test_parse_minio_event_decodes_keys_and_keeps_only_created() -> None:
    body = minio_event("inbox", "HS 1/scan (2).png")
    assert [(r.bucket, r.key) for r in parse_event(json.dumps(body))] == [
        ("inbox", "HS 1/scan (2).png")
    ]
    assert parse_event(minio_event("inbox", "a.png", "s3:ObjectRemoved:Delete")) == []
    access = [{"Event": body["Records"], "EventTime": "2026-01-01T00:00:00Z"}]  # Redis target
    assert len(parse_event(access)) == 1


def test_bucket_events_through_redis_and_listing_safety_net(
    stack: Stack, s3_server: S3Server, redis_server: RedisServer
) -> None:
    import redis

    inbox_store = S3BlobStore.from_url(s3_server.url("inbox-redis"))

    def hand_over(data: bytes, source: str, code: str | None) -> None:
        sub = submit(stack.ctx, data, source, dossier_code=code)
        stack.dispatcher.enqueue(sub.component_id)

    inbox = BucketInbox(inbox_store, hand_over)
    stop = threading.Event()
    t = threading.Thread(
        target=consume_redis_events, args=(redis_server.url, "minio-events", inbox, stop)
    )
    t.start()
    try:
        with_event, missed = page_bytes(208), page_bytes(209)
        inbox.upload("HS-8/trang 1.png", with_event)
        inbox.upload("HS-8/trang 2.png", missed)  # its event is lost
        inbox.upload("HS-8/.scan.png.part", b"half")  # a temporary name: never taken
        event = [{"Event": minio_event(inbox.bucket, "HS-8/trang 1.png")["Records"]}]
        redis.Redis.from_url(redis_server.url).rpush("minio-events", json.dumps(event))
        end = time.monotonic() + 20
        while time.monotonic() < end and not inbox_store.exists("done/HS-8/trang 1.png"):
            time.sleep(0.1)
        assert inbox_store.exists("done/HS-8/trang 1.png")
        assert inbox.poll_once() == 1  # the listing takes what the events missed
    finally:
        stop.set()
        t.join(10)
    keys = set(inbox_store.keys())
    assert keys == {"done/HS-8/trang 1.png", "done/HS-8/trang 2.png", "HS-8/.scan.png.part"}
    for data in (with_event, missed):
        assert count_components(stack.ctx, s3_module_sha(data)) == 1


def test_webhook_and_presigned_upload_through_the_api(stack: Stack, s3_server: S3Server) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app

    settings = stack.settings.model_copy(
        update={"watch": False, "inbox_bucket_url": s3_server.url("inbox-hook"),
                "ingest_token": "s3cret"}
    )  # fmt: skip
    app = create_app(settings)
    auth = {"Authorization": "Bearer s3cret"}
    with TestClient(app) as client:
        assert isinstance(app.state.worker, CeleryDispatcher)  # serve enqueues to Celery
        r = client.post("/api/v1/ingest/upload-url", params={"name": "scan.png"})
        assert r.status_code == 401
        r = client.post(
            "/api/v1/ingest/upload-url",
            params={"name": "scan.png", "dossier": "HS-9"},
            headers=auth,
        )
        assert r.status_code == 200, r.text
        up = r.json()
        data = page_bytes(210)
        put = httpx.put(up["url"], content=data, headers=up["headers"])  # the scanner's PUT
        assert put.status_code == 200
        event = minio_event("inbox-hook", up["key"])
        r = client.post("/api/v1/ingest/bucket-events", json=event, headers=auth)
        assert r.status_code == 200 and r.json() == {"taken": 1}
        r = client.post("/api/v1/ingest/bucket-events", json=event, headers=auth)  # redelivered
        assert r.json() == {"taken": 0}
    assert count_components(stack.ctx, s3_module_sha(data)) == 1
    with stack.ctx.sessions() as session:
        comp = session.scalar(
            select(Component).where(Component.original_sha256 == s3_module_sha(data))
        )
        assert comp is not None and comp.dossier_key == "HS-9"
        cid = comp.id
    assert stack.wait_status(cid, {"done", "failed"}) == "done"


def test_s3_store_multipart_presigned_and_content_addressing(
    s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(s3_module, "PART_SIZE", 5 * 1024 * 1024)
    store = S3BlobStore.from_url(s3_server.url("big-scans"))
    big = os.urandom(11 * 1024 * 1024)  # an A1 scan's worth: three parts
    store.put("originals/aa/bb/big", big)
    assert store.get("originals/aa/bb/big") == big
    assert store.exists("originals/aa/bb/big") and not store.exists("originals/none")
    with pytest.raises(KeyError):
        store.get("originals/none")
    url = store.presigned_put("inbox/x.png")
    r = httpx.put(url, content=b"scan bytes", headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 200 and store.get("inbox/x.png") == b"scan bytes"


def test_embedded_default_without_the_three_variables(tmp_path: Path) -> None:
    from api.worker import InProcessWorker
    from storage.blobs import FileBlobStore
    from storage.db import normalize_url

    ctx = Context.from_settings(Settings(data_dir=tmp_path / "var"))
    assert isinstance(make_dispatcher(ctx), InProcessWorker)
    assert isinstance(ctx.store, FileBlobStore)
    assert ctx.sessions.kw["bind"].dialect.name == "sqlite"
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"


def test_worker_command_needs_a_broker(capsys: pytest.CaptureFixture[str]) -> None:
    from api.cli import main

    assert main(["worker"]) == 2
    assert "SOHOA_BROKER_URL" in capsys.readouterr().err
