"""Distributed mode's throughput, queue latency and overhead, on real servers on loopback;
and where the time of one A4 page goes (what a clerk waits for at the counter).

    OMP_THREAD_LIMIT=1 .venv/bin/python -m bench.distributed_bench [--pages 8] [--repeat 1]
    .venv/bin/python -m bench.distributed_bench --split-only   # the one-page split alone

Starts Redis, PostgreSQL and an S3 server (moto, a process of its own) as the tests do, then
digitizes the same 150-dpi decision pages, as `--pages` single-page components and as one
component of `--pages` pages: embedded (SQLite + files, the in-process worker of `sohoa
serve`) with one page worker and with one per core (its default); distributed with one
Celery worker process and with one per core (`sohoa worker`'s default; each page is its own
task, so the processes share even a single component). Prints pages per minute, the
speed-up of the processes over one, distributed's overhead against the embedded default on
the same pages, the queue latency (enqueue until a worker has the component `processing`,
worker idle), and where the cores went in each distributed run (CPU seconds per page of the
worker processes, Redis, PostgreSQL, the S3 server and the benchmark process itself, read
from /proc). The modes run interleaved, round by round (`--repeat`), and each figure keeps
its best round, so a load peak does not favour one mode; still, run it when the machine is
quiet.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from sqlalchemy import select  # noqa: E402

import api.pipeline as pipeline  # noqa: E402
from api.pipeline import Context, digitize, submit, warm_up  # noqa: E402
from api.settings import Settings  # noqa: E402
from api.worker import CeleryDispatcher, InProcessWorker  # noqa: E402
from bench.cpu import CpuMeter, process_cpu  # noqa: E402
from storage.tables import Component  # noqa: E402
from tests.pages import DECISION, distort, render_page  # noqa: E402
from tests.services import PostgresServer, RedisServer, S3ProcessServer  # noqa: E402
from tests.test_distributed import page_bytes  # noqa: E402

VENV_BIN = Path(sys.executable).parent


def status_of(ctx: Context, cid: str) -> str:
    with ctx.sessions() as session:
        return session.scalar(select(Component.status).where(Component.id == cid)) or "?"


def wait_all(ctx: Context, ids: list[str], timeout: float = 1800) -> None:
    """Until every component is done or failed: one light query every 100 ms."""
    end = time.monotonic() + timeout
    pending = set(ids)
    while pending and time.monotonic() < end:
        with ctx.sessions() as session:
            finished = session.scalars(
                select(Component.id).where(
                    Component.id.in_(pending), Component.status.in_(("done", "failed"))
                )
            )
            pending -= set(finished)
        time.sleep(0.1)
    if pending:
        raise TimeoutError(f"{len(pending)} component(s) unfinished")


# CPU seconds (this process and its Tesseract children) of the best round of each embedded
# run, by (kind of work, page workers), with its wall seconds
EMBEDDED_CPU: dict[tuple[str, int], dict[str, float]] = {}


def embedded(files: list[bytes], workdir: Path, threads: int = 1, label: str = "") -> float:
    """Seconds the embedded default's in-process worker takes over these files."""
    settings = Settings(data_dir=workdir, page_workers=threads)
    ctx = Context.from_settings(settings)
    warm_up()
    ids = [submit(ctx, data, f"p{i}").component_id for i, data in enumerate(files)]
    worker = InProcessWorker(ctx)
    cpu = process_cpu()
    start = time.perf_counter()
    worker.start()  # takes every queued component
    worker.join()
    seconds = time.perf_counter() - start
    cpu = process_cpu() - cpu
    worker.stop()
    wait_all(ctx, ids, timeout=1)
    best = EMBEDDED_CPU.get((label, threads))
    if best is None or seconds <= best["wall"]:
        EMBEDDED_CPU[label, threads] = {"cpu": cpu, "wall": seconds}
    return seconds


class Cluster:
    """A database, a bucket, a Redis database and `procs` worker processes of its own."""

    def __init__(self, servers: tuple[RedisServer, PostgresServer, S3ProcessServer], workdir: Path,
                 procs: int) -> None:  # fmt: skip
        redis, pg, s3 = servers
        name = f"c{procs}"
        broker = f"{redis.url.rsplit('/', 1)[0]}/{procs}"
        db, store = pg.new_database(), s3.url(f"bench-{name}")
        self.settings = Settings(data_dir=workdir / name, database_url=db, storage_url=store,
                                 broker_url=broker)  # fmt: skip
        self.env = {**os.environ, "SOHOA_BROKER_URL": broker, "SOHOA_DATABASE_URL": db,
                    "SOHOA_STORAGE_URL": store, "SOHOA_DATA_DIR": str(workdir / name),
                    "SOHOA_PAGE_WORKERS": "1", "OMP_THREAD_LIMIT": "1"}  # fmt: skip
        self.ctx = Context.from_settings(self.settings)
        self.dispatcher = CeleryDispatcher(self.ctx)
        self.worker = subprocess.Popen(
            [str(VENV_BIN / "sohoa"), "worker", "-c", str(procs), "-n", f"bench-{name}@%h"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        roots = {"worker processes": self.worker.pid, "Redis": redis.proc.pid,
                 "PostgreSQL": pg.postmaster_pid(), "S3 (moto)": s3.proc.pid}  # fmt: skip
        self.meter = CpuMeter(roots)
        self.cpu: dict[str, dict[str, float]] = {}  # CPU seconds of each run, by name
        for n in range(procs):  # every pool process started and its classifier loaded
            self.run([page_bytes(9000 + n)])

    def run(self, files: list[bytes], label: str | None = None) -> float:
        ids = [submit(self.ctx, data, f"p{i}").component_id for i, data in enumerate(files)]
        self.meter.start()
        start = time.perf_counter()
        for cid in ids:
            self.dispatcher.enqueue(cid)
        wait_all(self.ctx, ids)
        seconds = time.perf_counter() - start
        used = self.meter.stop()
        if label and seconds <= self.cpu.get(label, {}).get("wall", float("inf")):
            self.cpu[label] = {**used, "wall": seconds}  # the best round's
        return seconds

    def latency(self, samples: int) -> list[float]:
        out = []
        for i in range(samples):
            cid = submit(self.ctx, page_bytes(8000 + i), f"l{i}.png").component_id
            t0 = time.perf_counter()
            self.dispatcher.enqueue(cid)
            while status_of(self.ctx, cid) == "queued":
                time.sleep(0.002)
            out.append(time.perf_counter() - t0)
            wait_all(self.ctx, [cid])
        return out

    def close(self) -> None:
        self.worker.terminate()
        self.worker.wait(60)


@contextmanager
def timed(stages: dict[str, list[float]], name: str, owner: object, attr: str):  # type: ignore[no-untyped-def]
    """Time every call of `owner.attr` into `stages[name]` while inside the block."""
    real: Callable = getattr(owner, attr)

    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            stages.setdefault(name, []).append(time.perf_counter() - t)

    setattr(owner, attr, wrapper)
    try:
        yield
    finally:
        setattr(owner, attr, real)


@contextmanager
def marked(marks: list[float], owner: object, attr: str):  # type: ignore[no-untyped-def]
    """Note when each call of `owner.attr` returns, while inside the block."""
    real: Callable = getattr(owner, attr)

    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        out = real(*args, **kwargs)
        marks.append(time.perf_counter())
        return out

    setattr(owner, attr, wrapper)
    try:
        yield
    finally:
        setattr(owner, attr, real)


def one_page_split(workdir: Path, runs: int = 3) -> dict[str, float]:
    """Median seconds per stage of digitizing one A4 page (300 dpi, turned and skewed,
    signed with a throwaway key), embedded, classifier already loaded."""
    from tests.certs import make_throwaway_signer

    (workdir / "certs").mkdir(parents=True, exist_ok=True)
    signer = make_throwaway_signer(workdir / "certs")
    settings = Settings(data_dir=workdir / "split", sign_pkcs12=signer.pkcs12,
                        sign_pkcs12_password=signer.password)  # fmt: skip
    ctx = Context.from_settings(settings)
    warm_up()
    page = distort(render_page(DECISION, dpi=300), rotation=90, skew=2.0)
    stages: dict[str, list[float]] = {}
    for n in range(runs):
        page.putpixel((n, 0), (0, 0, 0))  # different bytes: a new component each run
        buf = io.BytesIO()
        page.save(buf, "PNG", dpi=(300, 300))
        data = buf.getvalue()
        cid = submit(ctx, data, f"a4-{n}.png").component_id
        with (timed(stages, "read_page (OCR)", pipeline, "read_page"),
              timed(stages, "thumbnails", pipeline, "thumbnails"),
              timed(stages, "classify", pipeline, "classify_component"),
              timed(stages, "PDF/A build", pipeline, "build_searchable_pdf"),
              timed(stages, "signing", pipeline, "sign_pdf"),
              timed(stages, "register (DB)", pipeline, "save_result"),
              timed(stages, "prepare (DB, page count)", pipeline, "prepare"),
              timed(stages, "read one page (all)", pipeline, "read_one"),
              timed(stages, "assemble (all)", pipeline, "assemble")):  # fmt: skip
            t = time.perf_counter()
            with marked(marks := [], pipeline, "_save"):
                assert digitize(ctx, cid).status == "done"
            done = time.perf_counter() - t
            # the first save is the `reviewable` one: type, fields and pages
            stages.setdefault("until reviewable", []).append(marks[0] - t)
            stages.setdefault("digitize (total)", []).append(done)
    return {name: statistics.median(v) for name, v in stages.items()}


def print_split(split: dict[str, float]) -> None:
    print("\none A4 page, 300 dpi, embedded (median of 3, classifier loaded):")
    print("| stage | seconds |\n| --- | --- |")
    for name, s in split.items():
        print(f"| {name} | {s:.2f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=1, help="rounds; each figure keeps its best")
    ap.add_argument("--split-only", action="store_true", help="only the one-page split")
    args = ap.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="sohoa-bench-"))
    print_split(one_page_split(workdir))
    if args.split_only:
        return
    n, cores = args.pages, os.cpu_count() or 1
    servers = (RedisServer(workdir), PostgresServer(), S3ProcessServer())
    servers[0].start()
    servers[1].start()
    times: dict[tuple[str, str], list[float]] = {}
    try:
        clusters = {procs: Cluster(servers, workdir, procs) for procs in (1, cores)}
        try:
            for r in range(args.repeat):  # interleaved, so that a load peak hits all modes
                work = {  # new pages each round: the same bytes would be the same components
                    "singles": [page_bytes(1000 * (r + 1) + i) for i in range(n)],
                    "multi": [page_bytes(1000 * (r + 1) + 999, n)],
                }
                for kind, files in work.items():
                    runs: dict[str, Callable[[], float]] = {}
                    for procs in (1, cores):
                        runs[embedded_mode(procs)] = lambda f=files, p=procs, k=kind: embedded(
                            f, workdir / uuid.uuid4().hex, threads=p, label=k
                        )
                    for procs, cluster in clusters.items():
                        runs[distributed_mode(procs)] = lambda f=files, c=cluster, k=kind: c.run(
                            f, label=k
                        )
                    for mode, run in runs.items():
                        times.setdefault((kind, mode), []).append(run())
            latency = clusters[1].latency(5)
        finally:
            for cluster in clusters.values():
                cluster.close()
    finally:
        for server in servers:
            server.stop()
    report(n, args.repeat, {k: min(v) for k, v in times.items()}, latency)
    report_cpu(n, {procs: cluster.cpu for procs, cluster in clusters.items()})


def embedded_mode(workers: int) -> str:
    default = " (the default)" if workers == (os.cpu_count() or 1) else ""
    return f"embedded, {workers} page worker(s){default}"


def distributed_mode(procs: int) -> str:
    return f"distributed, {procs} worker process(es)"


def report(n: int, repeat: int, best: dict[tuple[str, str], float], latency: list[float]) -> None:
    print(f"\n{n} pages of 150 dpi, machine cores: {os.cpu_count()}, best of {repeat} round(s)")
    print("| mode | single-page components: pages/min | one component of all pages: pages/min |")
    print("| --- | --- | --- |")
    for mode in dict.fromkeys(m for _, m in best):
        cells = [f"{n / best[k, mode] * 60:.1f}" if (k, mode) in best else "–"
                 for k in ("singles", "multi")]  # fmt: skip
        print(f"| {mode} | {cells[0]} | {cells[1]} |")
    cores = os.cpu_count() or 1
    for kind, label in (("singles", "single-page components"), ("multi", "one component")):
        one, many = best[kind, distributed_mode(1)], best[kind, distributed_mode(cores)]
        overhead = (many / best[kind, embedded_mode(cores)] - 1) * 100
        overhead_one = (one / best[kind, embedded_mode(1)] - 1) * 100
        print(f"{label}: {cores} processes over 1: {one / many:.2f}x (target >= 1.8x); "
              f"distributed ({cores} processes) vs the embedded default: {overhead:+.1f}% "
              f"(target <= 10%); 1 process vs 1 page worker: {overhead_one:+.1f}%")  # fmt: skip
    median, worst = statistics.median(latency) * 1000, max(latency) * 1000
    print(f"queue latency (enqueue -> processing), median of {len(latency)}: "
          f"{median:.0f} ms, max {worst:.0f} ms")  # fmt: skip


def report_cpu(n: int, cpu: dict[int, dict[str, dict[str, float]]]) -> None:
    """Where the cores went in each distributed run (its best round): CPU seconds per page
    of each process tree, and the share of the machine's cores they kept busy."""
    cores = os.cpu_count() or 1
    names = list(next(iter(next(iter(cpu.values())).values())))
    names.remove("wall")
    print("\nCPU seconds per page by process (best round of each distributed run):")
    print(f"| run | {' | '.join(names)} | all | cores busy |")
    print("| --- |" + " --- |" * (len(names) + 2))
    for procs, runs in cpu.items():
        for kind, used in runs.items():
            total = sum(used[name] for name in names)
            cells = " | ".join(f"{used[name] / n:.2f}" for name in names)
            busy = total / (used["wall"] * cores) * 100
            print(f"| {procs} process(es), {kind} | {cells} | {total / n:.2f} | {busy:.0f}% |")
    for (kind, workers), used in EMBEDDED_CPU.items():
        busy = used["cpu"] / (used["wall"] * cores) * 100
        blank = " | ".join("–" for _ in names)
        print(f"| embedded, {workers} page worker(s), {kind} | {blank} | "
              f"{used['cpu'] / n:.2f} | {busy:.0f}% |")  # fmt: skip
    for kind in ("singles", "multi"):
        if (kind, 1) in EMBEDDED_CPU and kind in cpu.get(1, {}):
            dist = sum(v for k, v in cpu[1][kind].items() if k != "wall")
            extra = (dist / EMBEDDED_CPU[kind, 1]["cpu"] - 1) * 100
            print(f"{kind}: distributed (1 process, every server counted) uses {extra:+.1f}% "
                  "CPU per page against embedded with 1 page worker")  # fmt: skip


if __name__ == "__main__":
    main()
