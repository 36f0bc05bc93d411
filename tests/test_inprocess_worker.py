"""The embedded default's worker: several components at once, never more pages read at once
than there are page workers."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

import api.pipeline as pipeline
import api.worker as worker_module
from api.pipeline import Context, read_pages_of
from api.settings import Settings
from api.worker import InProcessWorker


class Gauge:
    """Counts calls running at once, and the most seen."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = self.most = self.calls = 0

    def run(self, seconds: float) -> None:
        with self.lock:
            self.now += 1
            self.calls += 1
            self.most = max(self.most, self.now)
        time.sleep(seconds)
        with self.lock:
            self.now -= 1


@pytest.fixture
def ctx(tmp_path: Path) -> Context:
    return Context.from_settings(Settings(data_dir=tmp_path / "var", page_workers=2))


def test_components_are_digitized_page_workers_at_a_time(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    gauge, done = Gauge(), []
    monkeypatch.setattr(worker_module, "warm_up", lambda: None)

    def fake_digitize(_ctx: Context, cid: str) -> None:
        gauge.run(0.15)
        done.append(cid)

    monkeypatch.setattr(worker_module, "digitize", fake_digitize)
    worker = InProcessWorker(ctx)
    worker.start()
    try:
        for n in range(5):
            worker.enqueue(f"c{n}")
        worker.enqueue("c0")  # still queued: not twice
        worker.join()
    finally:
        worker.stop()
    assert sorted(done) == [f"c{n}" for n in range(5)]
    assert gauge.most == 2  # both page workers busy, never more


def test_pages_of_concurrent_components_share_one_pool(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    gauge = Gauge()

    def fake_read_one(_ctx: Context, _cid: str, _pid: int, **_kw: object) -> bool:
        gauge.run(0.1)
        return True

    monkeypatch.setattr(pipeline, "read_one", fake_read_one)
    runs = [
        threading.Thread(target=read_pages_of, args=(ctx, f"c{n}", [1, 2, 3])) for n in range(3)
    ]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert gauge.calls == 9
    assert gauge.most == 2  # three components of three pages: still two pages at a time


def test_a_failing_component_does_not_stop_the_worker(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = []
    monkeypatch.setattr(worker_module, "warm_up", lambda: None)

    def fake_digitize(_ctx: Context, cid: str) -> None:
        if cid == "bad":
            raise RuntimeError("broken page")
        done.append(cid)

    monkeypatch.setattr(worker_module, "digitize", fake_digitize)
    worker = InProcessWorker(ctx)
    worker.start()
    try:
        for cid in ("bad", "ok1", "ok2"):
            worker.enqueue(cid)
        worker.join()
    finally:
        worker.stop()
    assert sorted(done) == ["ok1", "ok2"]
