"""`sohoa`: digitize files, serve the API, watch a drop folder."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from tqdm import tqdm

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
    from api.pipeline import Context, digitize, submit
    from api.settings import Settings

    ctx = Context.from_settings(Settings())
    owners = [args.owner] if args.owner else []
    results, failed = [], 0
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
        result = digitize(ctx, sub.component_id, force=args.force)
        result.source = name
        if result.status == "failed":
            failed += 1
            print(f"sohoa: {name}: {result.error}", file=sys.stderr)
        results.append(result)
    if args.json:
        doc = {"components": [r.to_json() for r in results]}
        json.dump(doc, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        for r in results:
            if r.status == "done":
                conf = f"{r.type_confidence:.2f}"
                print(f"{r.source}: {r.type} ({conf}), {len(r.pages)} page(s) -> {r.pdf}")
    return 1 if failed else 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from api.settings import Settings

    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = Settings(**overrides)
    app = create_app(settings)
    log.info("serving on http://%s:%d (API docs at /docs)", settings.host, settings.port)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    import threading

    from api.app import watch_folder
    from api.pipeline import Context
    from api.settings import Settings
    from api.worker import InProcessWorker

    ctx = Context.from_settings(Settings())
    worker = InProcessWorker(ctx)
    worker.start()
    stop = threading.Event()
    try:
        watch_folder(ctx, worker, Path(args.dir), stop, polling=args.poll)
    except KeyboardInterrupt:
        stop.set()
    worker.stop()
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
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_logging(args.verbose)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
