"""`sohoa`: digitize files, serve the API, watch a drop folder."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from api.cli_registry import add_registry_commands, bootstrap_admin_key

log = logging.getLogger("sohoa")


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("alembic", "pikepdf", "multipart"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def cmd_digitize(args: argparse.Namespace) -> int:
    from api.pipeline import Context, digitize, results_of, submit
    from api.settings import Settings

    ctx = Context.from_settings(Settings())
    owners = [args.owner] if args.owner else []
    results: list[dict[str, Any]] = []
    failed = 0
    bar = tqdm(args.files, unit="file", file=sys.stderr, disable=len(args.files) < 2)
    for name in bar:
        bar.set_postfix_str(Path(name).name[-30:])
        try:
            data = Path(name).read_bytes()
        except OSError as exc:
            print(f"sohoa: {name}: {exc.strerror or exc}", file=sys.stderr)
            failed += 1
            continue
        sub = submit(ctx, data, name, owners=owners)
        cut_before = {c.id for _, c in results_of(ctx, sub.component_id) if c.parent_id}
        digitize(ctx, sub.component_id, force=args.force)
        for result, comp in results_of(ctx, sub.component_id):  # a split batch: its parts
            if comp.parent_id:  # digitized with the batch; here again if unfinished or forced
                force = args.force and comp.id in cut_before
                result = digitize(ctx, comp.id, force=force)
            pages = [comp.first_page, comp.last_page] if comp.parent_id else None
            result.source = f"{name}#pages={pages[0]}-{pages[1]}" if pages else name
            if result.status == "failed":
                failed += 1
                print(f"sohoa: {result.source}: {result.error}", file=sys.stderr)
            # extends the public contract: the batch a component was cut out of, its pages
            results.append({**result.to_json(), "batch": comp.parent_id, "batch_pages": pages})
    if args.json:
        doc = {"components": results}
        json.dump(doc, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        for r in results:
            if r["status"] == "done":
                conf = f"{r['type_confidence']:.2f}"
                print(
                    f"{r['source']}: {r['type']} ({conf}), {len(r['pages'])} page(s) -> {r['pdf']}"
                )
    return 1 if failed else 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from api.settings import Settings

    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = Settings(**overrides)
    app = create_app(settings)
    bootstrap_admin_key(settings)  # first start: prints how to call the API
    log.info("serving on http://%s:%d (API docs at /docs)", settings.host, settings.port)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    import threading

    from api.app import watch_folder
    from api.pipeline import Context
    from api.routes_ingest import make_bucket_inbox
    from api.settings import Settings
    from api.worker import make_dispatcher

    ctx = Context.from_settings(Settings())
    worker = make_dispatcher(ctx)  # Celery when SOHOA_BROKER_URL is set
    worker.start()
    stop = threading.Event()
    inbox = make_bucket_inbox(ctx, worker)  # list the inbox bucket too, if any
    if inbox is not None:
        interval = ctx.settings.bucket_poll_seconds
        threading.Thread(target=inbox.run, args=(stop, interval), daemon=True).start()
    try:
        watch_folder(ctx, worker, Path(args.dir), stop, polling=args.poll)
    except KeyboardInterrupt:
        stop.set()
    worker.stop()
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """A Celery worker (distributed mode): one single-threaded process per core."""
    import os

    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    os.environ.setdefault("SOHOA_PAGE_WORKERS", "1")  # parallelism comes from the processes
    os.environ.setdefault("SOHOA_PAGE_BESIDE", "false")  # and no thread beside Tesseract
    from api.celery_app import QUEUE, make_celery
    from api.settings import Settings

    settings = Settings()
    if not settings.broker_url:
        print("sohoa worker: set SOHOA_BROKER_URL (e.g. redis://localhost:6379/0)", file=sys.stderr)
        return 2
    app = make_celery(settings)
    concurrency = args.concurrency or os.cpu_count() or 1
    argv = ["worker", f"--concurrency={concurrency}", "--pool=prefork", f"--queues={QUEUE}",
            "--loglevel=INFO", "--without-gossip", "--without-mingle"]  # fmt: skip
    if args.hostname:
        argv.append(f"--hostname={args.hostname}")
    app.worker_main(argv)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """Retrain the type model from the generated corpus plus the clerks' corrections."""
    from api.settings import Settings
    from classify.learning import corrections_path
    from classify.model import data_dir_path
    from classify.train import retrain

    data_dir = Settings().data_dir
    corrections = args.corrections or corrections_path(data_dir)
    _, report = retrain(
        args.out or data_dir_path(data_dir), corrections_file=corrections, n_per_type=args.per_type
    )
    json.dump(report, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sohoa", description="Số hóa hồ sơ thủ tục hành chính")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("digitize", help="digitize files now (one component per file)")
    d.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    d.add_argument("--owner", help="personal ID number (or tax code) of the documents' owner")
    d.add_argument("--force", action="store_true", help="re-run files already digitized")
    d.add_argument("files", nargs="+", metavar="FILE")
    d.set_defaults(func=cmd_digitize)

    s = sub.add_parser("serve", help="run the HTTP API with its worker and drop-folder watcher")
    s.add_argument("--host", help="default 127.0.0.1 (SOHOA_HOST)")
    s.add_argument("--port", type=int, help="default 8000 (SOHOA_PORT)")
    s.set_defaults(func=cmd_serve)

    w = sub.add_parser("watch", help="digitize whatever scanners drop into DIR")
    w.add_argument("dir", metavar="DIR")
    w.add_argument("--poll", action="store_true", help="poll only (network shares)")
    w.set_defaults(func=cmd_watch)

    k = sub.add_parser("worker", help="run a Celery worker (distributed mode, SOHOA_BROKER_URL)")
    k.add_argument("-c", "--concurrency", type=int, help="worker processes (default: cores)")
    k.add_argument("-n", "--hostname", help="Celery node name (default: celery@host)")
    k.set_defaults(func=cmd_worker)
    t = sub.add_parser("train", help="retrain the type model (corpus + clerks' corrections)")
    t.add_argument("--corrections", type=Path, help="default <data_dir>/corrections.jsonl")
    t.add_argument("--out", type=Path, help="default <data_dir>/models/type-model.joblib")
    t.add_argument("--per-type", type=int, default=150, help="generated samples per type")
    t.set_defaults(func=cmd_train)
    add_registry_commands(sub)  # keys, report, lookup, link, verify, revoke, supersede
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_logging(args.verbose)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
