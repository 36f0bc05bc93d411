"""Distributed mode's throughput, queue latency and overhead, on real servers on loopback.

    .venv/bin/python -m bench.distributed_bench [--pages 8]

Starts Redis, PostgreSQL and an S3 server (moto) as the tests do, then digitizes the same
single-page 150-dpi components (a) embedded: SQLite + files, in this process, one page at a
time; (b) distributed with one Celery worker process; (c) with two. Prints pages per
minute, the speed-up of two workers over one, the overhead of (b) against (a), and the
queue latency (enqueue until a worker marks the component `processing`, idle worker).
Figures are noisy on a shared 2-core machine: run it when the machine is quiet.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from api.pipeline import Context, digitize, submit  # noqa: E402
from api.settings import Settings  # noqa: E402
from api.worker import CeleryDispatcher  # noqa: E402
from storage.registry import get_component  # noqa: E402
from tests.services import PostgresServer, RedisServer, S3Server  # noqa: E402
from tests.test_distributed import page_bytes  # noqa: E402

VENV_BIN = Path(sys.executable).parent


def status_of(ctx: Context, cid: str) -> str:
    with ctx.sessions() as session:
        comp = get_component(session, cid)
        return comp.status if comp else "?"


def wait_all(ctx: Context, ids: list[str], timeout: float = 1800) -> None:
    end = time.monotonic() + timeout
    pending = set(ids)
    while pending and time.monotonic() < end:
        pending = {c for c in pending if status_of(ctx, c) not in ("done", "failed")}
        time.sleep(0.05)
    if pending:
        raise TimeoutError(f"{len(pending)} component(s) unfinished")


def embedded(pages: list[bytes], workdir: Path) -> float:
    settings = Settings(data_dir=workdir / "embedded", page_workers=1)
    ctx = Context.from_settings(settings)
    ids = [submit(ctx, data, f"p{i}.png").component_id for i, data in enumerate(pages)]
    start = time.perf_counter()
    for cid in ids:
        digitize(ctx, cid)
    return time.perf_counter() - start


def distributed(pages: list[bytes], env: dict[str, str], settings: Settings, procs: int) -> float:
    ctx = Context.from_settings(settings)
    dispatcher = CeleryDispatcher(ctx)
    ids = [submit(ctx, data, f"p{i}.png").component_id for i, data in enumerate(pages)]
    worker = subprocess.Popen(
        [str(VENV_BIN / "sohoa"), "worker", "-c", str(procs)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        warm = submit(ctx, page_bytes(9999), "warm.png").component_id  # worker start-up
        dispatcher.enqueue(warm)
        wait_all(ctx, [warm])
        start = time.perf_counter()
        for cid in ids:
            dispatcher.enqueue(cid)
        wait_all(ctx, ids)
        return time.perf_counter() - start
    finally:
        worker.terminate()
        worker.wait(60)


def queue_latency(env: dict[str, str], settings: Settings, samples: int = 5) -> list[float]:
    ctx = Context.from_settings(settings)
    dispatcher = CeleryDispatcher(ctx)
    worker = subprocess.Popen(
        [str(VENV_BIN / "sohoa"), "worker", "-c", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    out = []
    try:
        for i in range(samples + 1):
            cid = submit(ctx, page_bytes(8000 + i), f"l{i}.png").component_id
            t0 = time.perf_counter()
            dispatcher.enqueue(cid)
            while status_of(ctx, cid) == "queued":
                time.sleep(0.002)
            if i:  # the first one includes the worker's start-up
                out.append(time.perf_counter() - t0)
            wait_all(ctx, [cid])
    finally:
        worker.terminate()
        worker.wait(60)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=8)
    args = ap.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="sohoa-bench-"))
    redis, pg, s3 = RedisServer(workdir), PostgresServer(), S3Server()
    redis.start()
    pg.start()
    try:
        pages = [page_bytes(300 + i) for i in range(args.pages)]
        t_emb = embedded(pages, workdir)
        times = {}
        for procs in (1, 2):
            db = pg.new_database()
            store = s3.url(f"bench-{procs}")
            settings = Settings(data_dir=workdir / f"d{procs}", database_url=db,
                                storage_url=store, broker_url=redis.url)  # fmt: skip
            env = {**os.environ, "SOHOA_BROKER_URL": redis.url, "SOHOA_DATABASE_URL": db,
                   "SOHOA_STORAGE_URL": store, "SOHOA_DATA_DIR": str(workdir / f"d{procs}"),
                   "SOHOA_PAGE_WORKERS": "1", "OMP_THREAD_LIMIT": "1"}  # fmt: skip
            times[procs] = distributed(pages, env, settings, procs)
        latency = queue_latency(env, settings)
    finally:
        redis.stop()
        pg.stop()
        s3.stop()
    n = args.pages
    print(f"pages: {n} single-page 150-dpi components, machine cores: {os.cpu_count()}")
    print(f"embedded (SQLite + files, 1 page at a time): {n / t_emb * 60:6.1f} pages/min")
    for procs, t in times.items():
        print(f"distributed, {procs} worker process(es):       {n / t * 60:6.1f} pages/min")
    print(f"speed-up of 2 workers over 1: {times[1] / times[2]:.2f}x (target >= 1.8x)")
    print(f"overhead of distributed (1 process) vs embedded: {(times[1] / t_emb - 1) * 100:+.1f}%"
          " (target <= 10%)")  # fmt: skip
    print(
        f"queue latency (enqueue -> processing), median of {len(latency)}: "
        f"{statistics.median(latency) * 1000:.0f} ms, max {max(latency) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
