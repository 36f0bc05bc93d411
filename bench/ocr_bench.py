"""sohoa against OCRmyPDF on the same generated scans: recall, orientation, skew, time, memory.

One command (from the repository root, after `bash scripts/run.sh test` or the equivalent
install, plus `apt-get install -y ghostscript unpaper` and `.venv/bin/pip install ocrmypdf`):

    .venv/bin/python -m bench.ocr_bench                 # 24 A4 pages + 6 A3 drawings (~10 min)
    .venv/bin/python -m bench.ocr_bench --pages 8       # fewer pages (A4 : A3 stays 4 : 1)
    .venv/bin/python -m bench.ocr_bench --a1            # also: peak RSS of one A1 sheet at 300 dpi
    .venv/bin/python -m bench.ocr_bench --engines sohoa # sohoa only
    .venv/bin/python -m bench.ocr_bench --pages 0 --engines "" --tesseract  # CLI vs tesserocr

The set is fixed by `--seed`: A4 text pages at 300 dpi and A3 drawings at 200 dpi, skewed
within ±15°, in all four orientations, colour and grey, with noise, photocopy wear,
scanner edges and shadows, and JPEG artefacts. Each engine runs in its own subprocess, one
page at a time, with `OMP_THREAD_LIMIT=1`; OCRmyPDF as `ocrmypdf -l vie --rotate-pages
--deskew` on each page image (its text read back with `pdftotext`, its rotation and skew
from its `-v1` log). Printed per engine: word recall (NFC bag of words against the
rendered text) per page type, orientation accuracy, skew mean absolute error, seconds per
page, peak RSS (the largest process: the engine or one of its children); and sohoa's
seconds per stage. Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.cpu import process_cpu  # noqa: E402
from tests.pages import (  # noqa: E402
    DECISION,
    distort,
    jpeg_artefacts,
    photocopy,
    render_drawing,
    render_page,
    scanner_edges,
    words_of,
)

A4_KINDS = ["colour", "grey-noise", "photocopy-edges", "jpeg"]
FONTS = ["serif", "sans"]


def make_set(out: Path, pages: int, seed: int) -> list[dict]:
    """Write the seeded page images into `out`; return their manifest."""
    rnd = random.Random(seed)
    n_a3 = max(1, pages // 5) if pages > 1 else 0
    manifest = []
    for i in range(pages):
        rotation = [0, 90, 180, 270][i % 4]
        skew = round(rnd.uniform(-15, 15), 2)
        if i < pages - n_a3:
            kind = A4_KINDS[i % len(A4_KINDS)]
            dpi = 300
            img = render_page(DECISION, dpi=dpi, font_name=FONTS[i % len(FONTS)], color=True)
            truth = words_of(DECISION)
            if kind != "colour":
                img = img.convert("L")
            img = distort(img, rotation=rotation, skew=skew, noise=8 if kind == "grey-noise" else 0)
            if kind == "photocopy-edges":
                img = photocopy(scanner_edges(img, seed=i), seed=i)
            if kind == "jpeg":
                img = jpeg_artefacts(img, quality=35)
            page_type = f"A4 {kind}"
        else:
            dpi = 200
            img, truth = render_drawing(dpi=dpi, seed=i, color=i % 2 == 0)
            img = distort(img, rotation=rotation, skew=skew, noise=4)
            page_type = "A3 drawing"
        path = out / f"page{i:03d}.png"
        img.save(path, dpi=(dpi, dpi))
        manifest.append(
            {
                "path": str(path),
                "type": page_type,
                "rotation": rotation,
                "skew": skew,
                "dpi": dpi,
                "words": truth,
            }
        )
    return manifest


# ---------------------------------------------------------------- engines (subprocesses)


def run_sohoa(paths: list[str]) -> list[dict]:
    """Read each page as the pipeline does, PDF included (runs inside the worker process)."""
    from ocr.loader import load_pages
    from ocr.page import PageOptions, StageTimes, read_page
    from ocr.pdf import build_searchable_pdf

    out = []
    for path in paths:
        t0, cpu0 = time.perf_counter(), process_cpu()
        times = StageTimes()
        t = time.perf_counter()
        page = next(load_pages(Path(path).read_bytes()))
        t = times.add("load", t)
        result, pdf_page = read_page(page, 0, PageOptions(), times)
        t = time.perf_counter()
        build_searchable_pdf([pdf_page])
        times.add("pdf", t)
        out.append(
            {
                "text": result.text,
                "rotation": result.rotation,
                "skew": result.skew,
                "seconds": time.perf_counter() - t0,
                "cpu": process_cpu() - cpu0,
                "cpu_recognize": times.cpu.get("recognize", 0.0),
                "stages": times.seconds,
                "overlapped": sorted(times.overlapped),
            }
        )
    return out


_FACING = {"⇧": 0, "⇨": 90, "⇩": 180, "⇦": 270}


def run_ocrmypdf(paths: list[str]) -> list[dict]:
    out = []
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    ocrmypdf = str(Path(sys.executable).parent / "ocrmypdf")
    for path in paths:
        with tempfile.TemporaryDirectory(prefix="bench-ocrmypdf-") as tmp:
            pdf = Path(tmp) / "out.pdf"
            t0 = time.perf_counter()
            proc = subprocess.run(
                [ocrmypdf, "-v1", "-l", "vie", "--rotate-pages", "--deskew", path, str(pdf)],
                env=env,
                capture_output=True,
                text=True,
            )
            seconds = time.perf_counter() - t0
            text = ""
            if pdf.exists():
                text = subprocess.run(
                    ["pdftotext", str(pdf), "-"], capture_output=True, text=True
                ).stdout
        log = proc.stderr
        rotation = 0
        m = re.search(r"page is facing (\S), confidence [\d.]+ - will rotate", log)
        if m:
            rotation = _FACING.get(m.group(1), 0)
        m = re.search(r"Deskew angle: (-?[\d.]+)", log)
        skew = -float(m.group(1)) if m else 0.0
        out.append(
            {"text": text, "rotation": rotation, "skew": skew, "seconds": seconds, "stages": {}}
        )
    return out


ENGINES = {"sohoa": run_sohoa, "ocrmypdf": run_ocrmypdf}


def worker(engine: str, manifest_path: str, result_path: str) -> None:
    paths = [p["path"] for p in json.loads(Path(manifest_path).read_text())]
    Path(result_path).write_text(json.dumps(ENGINES[engine](paths)))


def run_engine(engine: str, manifest_path: Path, workdir: Path) -> tuple[list[dict], float]:
    """Run an engine in a child process; its results and the peak RSS (MB) of the largest
    process among it and its descendants."""
    result_path = workdir / f"{engine}.json"
    cmd = [sys.executable, "-m", "bench.ocr_bench", "--worker", engine, str(manifest_path)]
    code = (
        "import resource, subprocess, sys; "
        "rc = subprocess.call(sys.argv[1:]); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(rc)"
    )
    env = dict(os.environ, OMP_THREAD_LIMIT="1", PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-c", code, *cmd, str(result_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{engine} failed:\n{proc.stderr[-3000:]}")
    peak_mb = int(proc.stdout.strip().splitlines()[-1]) / 1024
    return json.loads(result_path.read_text()), peak_mb


# ---------------------------------------------------------------- scoring


def recall(truth: list[str], text: str) -> float:
    from ocr.text import normalize_vi

    want = collections.Counter(normalize_vi(w) for w in truth)
    got = collections.Counter(normalize_vi(text).split())
    return sum((want & got).values()) / max(1, sum(want.values()))


def report(manifest: list[dict], results: dict[str, tuple[list[dict], float]]) -> None:
    types = sorted({p["type"] for p in manifest})
    head = ["engine", *[f"recall {t}" for t in types], "min page", "orient.", "skew MAE"]
    head += ["s/page", "peak RSS MB"]
    rows = []
    for engine, (res, peak) in results.items():
        rec = [recall(p["words"], r["text"]) for p, r in zip(manifest, res, strict=True)]
        per_type = [
            sum(x for x, p in zip(rec, manifest, strict=True) if p["type"] == t)
            / sum(p["type"] == t for p in manifest)
            for t in types
        ]
        orient = sum(
            r["rotation"] == p["rotation"] for p, r in zip(manifest, res, strict=True)
        ) / len(res)
        mae = sum(abs(r["skew"] - p["skew"]) for p, r in zip(manifest, res, strict=True)) / len(res)
        sec = sum(r["seconds"] for r in res) / len(res)
        row = [engine, *[f"{x:.3f}" for x in per_type], f"{min(rec):.3f}", f"{orient:.0%}"]
        rows.append(row + [f"{mae:.2f}°", f"{sec:.2f}", f"{peak:.0f}"])
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    if "sohoa" in results:
        res = results["sohoa"][0]
        stages: dict[str, float] = collections.defaultdict(float)
        for r in res:
            for k, v in r["stages"].items():
                stages[k] += v / len(res)
        total = sum(r["seconds"] for r in res) / len(res)
        beside = {k for r in res for k in r.get("overlapped", [])}
        print("\nsohoa seconds per page by stage (mean; * beside the recognition, in a thread):")
        for k, v in stages.items():
            print(f"  {k:12s} {v:6.3f} s  {v / total:5.1%}{'  *' if k in beside else ''}")
        rec = stages.get("recognize", 0.0)
        print(f"  everything but recognition: {1 - rec / total:.1%} of the page's wall time")
        print(
            "\neverything but recognition, share of the page. wall: 1 - recognize seconds /"
            " page seconds;\nwall*: the same with the recognition counted at its CPU seconds"
            " (Tesseract is single-threaded:\nits wall time stretched by work beside it counts"
            " against that work); CPU: 1 - CPU of the\nrecognition / CPU of the whole page"
            " (every thread and child process, load to PDF):"
        )
        for t in [*types, "all"]:
            rs = [r for p, r in zip(manifest, res, strict=True) if t in ("all", p["type"])]
            seconds = sum(r["seconds"] for r in rs)
            wall = 1 - sum(r["stages"].get("recognize", 0.0) for r in rs) / seconds
            wall_cpu = 1 - sum(r["cpu_recognize"] for r in rs) / seconds
            cpu = 1 - sum(r["cpu_recognize"] for r in rs) / sum(r["cpu"] for r in rs)
            print(
                f"  {t:22s} wall {wall:5.1%}   wall* {wall_cpu:5.1%}   CPU {cpu:5.1%}"
                f"   ({len(rs)} pages, {seconds / len(rs):.2f} s and"
                f" {sum(r['cpu'] for r in rs) / len(rs):.2f} CPU s per page)"
            )
        bad = [
            (p["path"], p["rotation"], r["rotation"], p["skew"], round(r["skew"], 2))
            for p, r in zip(manifest, res, strict=True)
            if p["rotation"] != r["rotation"] or abs(p["skew"] - r["skew"]) > 0.5
        ]
        for b in bad:
            print("  sohoa miss (path, rotation, found, skew, found):", *b)


def a1_peak_rss(workdir: Path) -> None:
    """Peak RSS of the whole sohoa process (and of its largest child) on one A1 drawing
    at 300 dpi, loaded from a PNG file, read and turned into a searchable PDF."""
    img, _ = render_drawing(paper="A1", dpi=300, seed=1)
    img = distort(img, rotation=90, skew=3.0)
    path = workdir / "a1.png"
    img.save(path, dpi=(300, 300), compress_level=1)
    del img
    manifest = workdir / "a1.json"
    manifest.write_text(json.dumps([{"path": str(path)}]))
    code = (
        "import json, resource, sys; sys.path.insert(0, '.'); "
        "from bench.ocr_bench import run_sohoa; "
        f"r = run_sohoa([{str(path)!r}])[0]; "
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]; "
        "print(json.dumps({'self_mb': int(hwm.split()[1]) / 1024,"
        " 'child_mb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,"
        " 'seconds': r['seconds'], 'rotation': r['rotation'], 'skew': r['skew'],"
        " 'words': len(r['text'].split())}))"
    )
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    print("\nA1 drawing at 300 dpi (7016 x 9933):", proc.stdout.strip().splitlines()[-1])


def compare_tesseract(rounds: int = 3) -> None:
    """Seconds per A4 page at 300 dpi: the tesseract command line against tesserocr,
    interleaved on the same image, with and without the text-only PDF."""
    from ocr import tesseract

    img = render_page(DECISION, dpi=300, font_name="sans").convert("L")
    times: dict[str, list[float]] = collections.defaultdict(list)
    for _ in range(rounds):
        for engine in ("cli", "tesserocr"):
            os.environ["SOHOA_OCR_ENGINE"] = engine
            for pdf in (False, True):
                t = time.perf_counter()
                tesseract.recognize(img, text_pdf=pdf)
                times[f"{engine}{' + text PDF' if pdf else ''}"].append(time.perf_counter() - t)
    os.environ.pop("SOHOA_OCR_ENGINE")
    print("\nTesseract engines, seconds per A4 page at 300 dpi (median of", rounds, "rounds):")
    for name, ts in times.items():
        each = ", ".join(f"{x:.2f}" for x in ts)
        print(f"  {name:24s} {sorted(ts)[len(ts) // 2]:.2f}  (all: {each})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--pages", type=int, default=30, help="pages in the set (A4 : A3 = 4 : 1)")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--engines", default="sohoa,ocrmypdf")
    ap.add_argument("--a1", action="store_true", help="also measure one A1 sheet's peak RSS")
    ap.add_argument("--tesseract", action="store_true", help="also time tesserocr against the CLI")
    ap.add_argument(
        "--worker", nargs=3, metavar=("ENGINE", "MANIFEST", "OUT"), help=argparse.SUPPRESS
    )
    args = ap.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    with tempfile.TemporaryDirectory(prefix="sohoa-ocr-bench-") as tmp:
        workdir = Path(tmp)
        t = time.perf_counter()
        manifest = make_set(workdir, args.pages, args.seed)
        manifest_path = workdir / "manifest.json"
        manifest_path.write_text(json.dumps(manifest, ensure_ascii=False))
        print(f"{len(manifest)} pages generated in {time.perf_counter() - t:.0f} s", flush=True)
        results = {}
        for engine in filter(None, args.engines.split(",")):
            t = time.perf_counter()
            results[engine] = run_engine(engine, manifest_path, workdir)
            print(f"{engine}: {time.perf_counter() - t:.0f} s", flush=True)
        if results:
            report(manifest, results)
        if args.a1:
            a1_peak_rss(workdir)
        if args.tesseract:
            compare_tesseract()


if __name__ == "__main__":
    main()
