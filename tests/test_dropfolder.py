"""The drop-folder watcher: readiness, hand-over, moves, restarts, events and polling."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from ingest import dropfolder, readiness
from ingest.dropfolder import DropFolder
from ingest.readiness import Verdict
from models.errors import BadInput

STABLE = 0.2
POLL = 0.05


# -- generated files ----------------------------------------------------------------------


def page(seed: int = 0, size: tuple[int, int] = (320, 240)) -> Image.Image:
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    for i in range(12):
        y = 10 + i * 18
        draw.line((10, y, size[0] - 10 - (seed * 7 + i * 13) % 90, y), fill="black", width=3)
    draw.text((12, size[1] - 24), f"HO SO {seed}", fill="black")
    return img


def encode(fmt: str, seed: int = 0, **kw: object) -> bytes:
    buf = io.BytesIO()
    page(seed).save(buf, fmt, **kw)
    return buf.getvalue()


def tiff_pages(n: int = 3) -> bytes:
    buf = io.BytesIO()
    first, *rest = [page(i) for i in range(n)]
    first.save(buf, "TIFF", save_all=True, append_images=rest, compression="tiff_deflate")
    return buf.getvalue()


def truncated_jpeg() -> bytes:
    data = encode("JPEG", quality=90)
    cut = data[: len(data) * 2 // 3]
    assert not cut.rstrip(readiness.JPEG_PADDING).endswith(b"\xff\xd9")
    return cut


# -- a fake pipeline --------------------------------------------------------------------------


class Pipeline:
    """Records every hand-over; rejects what the real pipeline would reject, like it does."""

    def __init__(self, fail: Callable[[Path, int], BaseException | None] | None = None) -> None:
        self.calls: list[tuple[Path, str | None, str]] = []
        self.fail = fail
        self.lock = threading.Lock()

    def __call__(self, path: Path, dossier: str | None) -> None:
        data = path.read_bytes()  # the file must still be in the inbox
        with self.lock:
            self.calls.append((path, dossier, hashlib.sha256(data).hexdigest()))
            n = len(self.calls)
        if self.fail and (exc := self.fail(path, n)):
            raise exc
        if path.suffix.lower() == ".pdf":
            if not data.startswith(b"%PDF-"):
                raise BadInput("not a PDF")
            return
        try:
            with Image.open(io.BytesIO(data)) as im:
                im.load()
        except Exception as exc:
            raise BadInput(f"unreadable image: {exc}") from exc

    @property
    def names(self) -> list[str]:
        return [p.name for p, _, _ in self.calls]


def settle(folder: DropFolder, done: Callable[[], bool], timeout: float = 5.0) -> None:
    """Call scan_once until `done()` holds, failing after `timeout` seconds."""
    end = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < end, "condition not reached in time"
        folder.scan_once()
        time.sleep(POLL)


def spin(folder: DropFolder, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        folder.scan_once()
        time.sleep(POLL)


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    root = tmp_path / "inbox"
    root.mkdir()
    return root


def polling(root: Path, pipe: Pipeline, stable: float = STABLE) -> DropFolder:
    return DropFolder(root, pipe, stable_seconds=stable, poll_interval=POLL, use_events=False)


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


# -- readiness (pure) ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "a.tmp",
        "a.pdf.part",
        "a.PDF.crdownload",
        "~a.pdf",
        ".a.pdf",
        ".DS_Store",
        "a.pdf.reason.txt",
        "a.pdf.done",
        ".done",
        "READY",
        "Thumbs.db",
    ],
)
def test_temporary_and_trigger_names_are_ignored(name: str) -> None:
    assert readiness.is_ignored(name)


@pytest.mark.parametrize("name", ["a.pdf", "scan 01.JPG", "a.part.pdf", "ready.pdf", "x"])
def test_ordinary_names_are_candidates(name: str) -> None:
    assert not readiness.is_ignored(name)


def test_trigger_target() -> None:
    assert readiness.trigger_target("scan.pdf.done") == "scan.pdf"
    assert readiness.trigger_target(".done") is None
    assert readiness.trigger_target("scan.pdf") is None


@pytest.mark.parametrize(
    ("name", "data", "ok"),
    [
        ("a.png", encode("PNG"), True),
        ("a.png", encode("PNG")[:-20], False),
        ("a.pdf", encode("PDF"), True),
        ("a.pdf", encode("PDF")[:-40], False),
        ("a.pdf", b"hello %%EOF", False),
        ("a.jpg", encode("JPEG"), True),
        ("a.jpeg", encode("JPEG") + b"\x00" * 300, True),
        ("a.jpg", truncated_jpeg(), False),
        ("a.jpg", truncated_jpeg() + b"\x00" * 4096, False),
        ("a.tif", tiff_pages(3), True),
        ("a.tiff", tiff_pages(3)[:-200], False),
        ("a.tif", encode("PNG"), False),
        ("a.docx", b"anything", True),
    ],
)
@pytest.mark.filterwarnings("ignore:Corrupt EXIF")
def test_format_check(tmp_path: Path, name: str, data: bytes, ok: bool) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    assert (readiness.format_problem(path) is None) is ok


def test_judge() -> None:
    def judge(size: int, age: float, triggered: bool = False, problem: str | None = None):
        return readiness.judge(
            size,
            age,
            stable_seconds=2,
            give_up_seconds=20,
            triggered=triggered,
            problem=lambda: problem,
        )

    assert judge(0, 100, triggered=True)[0] is Verdict.WAIT
    assert judge(10, 1)[0] is Verdict.WAIT
    assert judge(10, 2)[0] is Verdict.READY
    assert judge(10, 0, triggered=True)[0] is Verdict.READY
    assert judge(10, 0, triggered=True, problem="no IEND") == (Verdict.WAIT, "no IEND")
    assert judge(10, 5, problem="no IEND") == (Verdict.WAIT, "no IEND")
    assert judge(10, 20, problem="no IEND") == (Verdict.FORCED, "no IEND")


# -- hand-over and moves ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["PNG", "PDF", "JPEG", "TIFF"])
def test_valid_file_at_root_is_submitted_once_and_moved_to_done(inbox: Path, fmt: str) -> None:
    pipe = Pipeline()
    data = tiff_pages(2) if fmt == "TIFF" else encode(fmt)
    src = inbox / f"scan.{fmt.lower()}"
    src.write_bytes(data)
    folder = polling(inbox, pipe)

    assert folder.scan_once() == []  # one observation is not enough
    assert pipe.calls == []
    time.sleep(STABLE + 0.05)
    assert folder.scan_once() == [src]
    assert [(p, d) for p, d, _ in pipe.calls] == [(src, None)]
    assert not src.exists()
    assert (inbox / "done" / src.name).read_bytes() == data
    spin(folder, 0.3)
    assert len(pipe.calls) == 1


def test_subfolder_is_the_dossier_code(inbox: Path) -> None:
    pipe = Pipeline()
    (inbox / "HS-2024-0001" / "phu-luc").mkdir(parents=True)
    (inbox / "HS-2024-0001" / "p1.png").write_bytes(encode("PNG", 1))
    (inbox / "HS-2024-0001" / "phu-luc" / "p2.pdf").write_bytes(encode("PDF", 2))
    folder = polling(inbox, pipe)
    settle(folder, lambda: len(pipe.calls) == 2)
    assert sorted((p.relative_to(inbox).as_posix(), d) for p, d, _ in pipe.calls) == [
        ("HS-2024-0001/p1.png", "HS-2024-0001"),
        ("HS-2024-0001/phu-luc/p2.pdf", "HS-2024-0001"),
    ]
    assert files_under(inbox / "done") == ["HS-2024-0001/p1.png", "HS-2024-0001/phu-luc/p2.pdf"]
    assert files_under(inbox) == [
        "done/HS-2024-0001/p1.png",
        "done/HS-2024-0001/phu-luc/p2.pdf",
    ]


def write_slowly(path: Path, data: bytes, chunks: int, pause: float, stall_at: int = -1) -> None:
    step = -(-len(data) // chunks)
    with path.open("wb") as f:
        for i in range(chunks):
            f.write(data[i * step : (i + 1) * step])
            f.flush()
            time.sleep(0.6 if i == stall_at else pause)


@pytest.mark.parametrize("stall", [False, True])
def test_file_written_slowly_is_taken_once_when_complete(inbox: Path, stall: bool) -> None:
    """Chunks every 0.1 s over ~1 s; with `stall`, a 1 s pause mid-file (longer than
    stable_seconds) where only the missing IEND keeps the file pending."""
    pipe = Pipeline()
    data = encode("PNG", 3)
    dest = inbox / "slow.png"
    writer = threading.Thread(target=write_slowly, args=(dest, data, 10, 0.1, 4 if stall else -1))
    folder = polling(inbox, pipe)
    writer.start()
    while writer.is_alive():
        folder.scan_once()
        time.sleep(POLL)
    assert pipe.calls == []
    settle(folder, lambda: (inbox / "done" / "slow.png").exists())
    spin(folder, 0.3)
    assert len(pipe.calls) == 1
    assert pipe.calls[0][2] == hashlib.sha256(data).hexdigest()  # the complete file


def test_part_file_renamed_to_final_name_is_taken_once(inbox: Path) -> None:
    pipe = Pipeline()
    part = inbox / "scan.pdf.part"
    part.write_bytes(encode("PDF"))
    folder = polling(inbox, pipe)
    spin(folder, STABLE * 3)
    assert pipe.calls == [] and part.exists()
    part.rename(inbox / "scan.pdf")
    settle(folder, lambda: (inbox / "done" / "scan.pdf").exists())
    spin(folder, 0.3)
    assert pipe.names == ["scan.pdf"]


def test_temporary_hidden_and_empty_files_are_never_taken(inbox: Path) -> None:
    pipe = Pipeline()
    names = ["a.tmp", "~b.png", ".c.png", "d.png.crdownload", "e.png.reason.txt", "empty.png"]
    for name in names:
        (inbox / name).write_bytes(b"" if name == "empty.png" else encode("PNG"))
    (inbox / ".hidden").mkdir()
    (inbox / ".hidden" / "f.png").write_bytes(encode("PNG"))
    folder = polling(inbox, pipe, stable=0.05)
    spin(folder, 0.8)  # past the give-up time too
    assert pipe.calls == []
    assert not (inbox / "done").exists()


def test_truncated_jpeg_is_quarantined_after_the_long_timeout(inbox: Path) -> None:
    pipe = Pipeline()
    stable = 0.1  # give up after 10 x 0.1 s
    (inbox / "D7").mkdir()
    (inbox / "D7" / "cut.jpg").write_bytes(truncated_jpeg())
    folder = polling(inbox, pipe, stable=stable)
    start = time.monotonic()
    settle(folder, lambda: bool(pipe.calls))
    assert time.monotonic() - start >= folder.give_up_seconds - 0.05
    assert files_under(inbox / "quarantine") == ["D7/cut.jpg", "D7/cut.jpg.reason.txt"]
    reason = (inbox / "quarantine" / "D7" / "cut.jpg.reason.txt").read_text("utf-8")
    assert reason.startswith("unreadable image")
    assert not (inbox / "D7" / "cut.jpg").exists()
    spin(folder, 0.3)
    assert len(pipe.calls) == 1


def test_bad_input_goes_to_quarantine_with_its_reason(inbox: Path) -> None:
    pipe = Pipeline(fail=lambda p, n: BadInput("unsupported format: .docx"))
    (inbox / "HS1").mkdir()
    (inbox / "HS1" / "form.docx").write_bytes(b"PK\x03\x04 not really")
    folder = polling(inbox, pipe)
    settle(folder, lambda: (inbox / "quarantine" / "HS1" / "form.docx").exists())
    reason = inbox / "quarantine" / "HS1" / "form.docx.reason.txt"
    assert reason.read_text("utf-8") == "unsupported format: .docx\n"
    assert not (inbox / "done").exists()
    spin(folder, 0.3)
    assert [(p.name, d) for p, d, _ in pipe.calls] == [("form.docx", "HS1")]


def test_transient_failure_is_retried_later_then_done(inbox: Path) -> None:
    pipe = Pipeline(fail=lambda p, n: ConnectionError("db down") if n == 1 else None)
    src = inbox / "scan.png"
    src.write_bytes(encode("PNG"))
    # backoff starts at poll_interval: 0.5 s here, so the next scans must not retry yet
    folder = DropFolder(inbox, pipe, stable_seconds=STABLE, poll_interval=0.5, use_events=False)
    settle(folder, lambda: bool(pipe.calls))
    assert len(pipe.calls) == 1 and src.exists()
    assert not (inbox / "done").exists() and not (inbox / "quarantine").exists()
    spin(folder, 0.25)
    assert len(pipe.calls) == 1
    settle(folder, lambda: (inbox / "done" / "scan.png").exists())
    spin(folder, 0.3)
    assert len(pipe.calls) == 2 and not src.exists()


def test_backoff_grows_per_file(inbox: Path) -> None:
    pipe = Pipeline(fail=lambda p, n: OSError("share offline"))
    (inbox / "scan.png").write_bytes(encode("PNG"))
    folder = polling(inbox, pipe)
    spin(folder, STABLE + 0.75)  # retries at ~0.05, 0.1, 0.2, 0.4 s after the first call
    assert 3 <= len(pipe.calls) <= 5
    assert (inbox / "scan.png").exists()


def test_same_name_twice_keeps_both_in_done(inbox: Path) -> None:
    pipe = Pipeline()
    first, second = encode("PNG", 1), encode("PNG", 2)
    folder = polling(inbox, pipe)
    (inbox / "scan.png").write_bytes(first)
    settle(folder, lambda: (inbox / "done" / "scan.png").exists())
    (inbox / "scan.png").write_bytes(second)
    settle(folder, lambda: (inbox / "done" / "scan-1.png").exists())
    spin(folder, 0.3)
    assert pipe.names == ["scan.png", "scan.png"]
    assert (inbox / "done" / "scan.png").read_bytes() == first
    assert (inbox / "done" / "scan-1.png").read_bytes() == second


def test_quarantine_never_overwrites_a_reason(inbox: Path) -> None:
    (inbox / "quarantine").mkdir()
    (inbox / "quarantine" / "x.docx.reason.txt").write_text("old\n")
    (inbox / "x.docx").write_bytes(b"junk")
    pipe = Pipeline(fail=lambda p, n: BadInput("new"))
    folder = polling(inbox, pipe)
    settle(folder, lambda: bool(pipe.calls))
    assert files_under(inbox / "quarantine") == [
        "x-1.docx",
        "x-1.docx.reason.txt",
        "x.docx.reason.txt",
    ]
    assert (inbox / "quarantine" / "x.docx.reason.txt").read_text() == "old\n"


def test_done_and_quarantine_are_never_input(inbox: Path) -> None:
    for rel in ["done/a.png", "done/HS1/b.pdf", "quarantine/c.png", "quarantine/HS2/d.jpg"]:
        (inbox / rel).parent.mkdir(parents=True, exist_ok=True)
        (inbox / rel).write_bytes(encode(rel[-3:].upper().replace("JPG", "JPEG")))
    pipe = Pipeline()
    folder = polling(inbox, pipe, stable=0.05)
    spin(folder, 0.8)
    assert pipe.calls == []


def test_restart_never_resubmits_done_files(inbox: Path) -> None:
    pipe = Pipeline()
    (inbox / "HS1").mkdir()
    (inbox / "HS1" / "a.png").write_bytes(encode("PNG", 1))
    first = polling(inbox, pipe)
    settle(first, lambda: (inbox / "done" / "HS1" / "a.png").exists())
    (inbox / "b.png").write_bytes(encode("PNG", 2))  # present at the restart

    second = polling(inbox, pipe)
    assert second.scan_once() == []  # even at start-up a file needs two observations
    settle(second, lambda: (inbox / "done" / "b.png").exists())
    spin(second, 0.3)
    assert pipe.names == ["a.png", "b.png"]


class Crash(BaseException):
    """The process dies between submit and the move."""


def test_crash_between_submit_and_move_resubmits_the_same_content(inbox: Path) -> None:
    pipe = Pipeline(fail=lambda p, n: Crash() if n == 1 else None)
    (inbox / "a.png").write_bytes(encode("PNG"))
    with pytest.raises(Crash):
        settle(polling(inbox, pipe), lambda: False)
    assert (inbox / "a.png").exists()
    settle(polling(inbox, pipe), lambda: (inbox / "done" / "a.png").exists())
    assert len(pipe.calls) == 2 and pipe.calls[0][2] == pipe.calls[1][2]


def test_trigger_file_makes_a_file_ready_at_once_and_is_removed(inbox: Path) -> None:
    pipe = Pipeline()
    (inbox / "a.pdf").write_bytes(encode("PDF"))
    (inbox / "a.pdf.done").write_bytes(b"")
    (inbox / "b.png").write_bytes(encode("PNG")[:-30])  # incomplete: trigger is not enough
    (inbox / "b.png.done").write_bytes(b"")
    folder = polling(inbox, pipe, stable=30)
    assert folder.scan_once() == [inbox / "a.pdf"]
    assert files_under(inbox) == ["b.png", "b.png.done", "done/a.pdf"]
    assert folder.scan_once() == [] and pipe.names == ["a.pdf"]


def test_ready_file_in_a_dossier_folder_releases_the_batch(inbox: Path) -> None:
    pipe = Pipeline()
    (inbox / "HS9").mkdir()
    (inbox / "HS9" / "p1.png").write_bytes(encode("PNG", 1))
    (inbox / "HS9" / "p2.jpg").write_bytes(encode("JPEG", 2))
    (inbox / "c.png").write_bytes(encode("PNG", 3))
    (inbox / "READY").write_bytes(b"")  # at the root it means nothing
    folder = polling(inbox, pipe, stable=30)
    assert folder.scan_once() == []
    (inbox / "HS9" / "READY").write_bytes(b"")
    assert sorted(p.name for p in folder.scan_once()) == ["p1.png", "p2.jpg"]
    assert {d for _, d, _ in pipe.calls} == {"HS9"}


def test_orphan_trigger_is_removed_after_the_give_up_time(inbox: Path) -> None:
    (inbox / "gone.pdf.done").write_bytes(b"")
    folder = polling(inbox, Pipeline(), stable=0.05)
    folder.scan_once()
    assert (inbox / "gone.pdf.done").exists()
    settle(folder, lambda: not (inbox / "gone.pdf.done").exists())


def test_move_across_filesystems_copies_then_removes(
    inbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_replace = os.replace
    crossed = []

    def replace(src: os.PathLike[str], dst: os.PathLike[str]) -> None:
        if Path(src).parent == inbox:  # the inbox "is on another mount"
            crossed.append(Path(src).name)
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real_replace(src, dst)

    monkeypatch.setattr(dropfolder.os, "replace", replace)
    pipe = Pipeline()
    data = encode("PNG")
    (inbox / "a.png").write_bytes(data)
    settle(polling(inbox, pipe), lambda: (inbox / "done" / "a.png").exists())
    assert crossed == ["a.png"]
    assert files_under(inbox) == ["done/a.png"]  # no temporary copy left behind
    assert (inbox / "done" / "a.png").read_bytes() == data


def test_failing_move_is_retried_without_resubmitting(
    inbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_replace = os.replace
    attempts = []

    def replace(src: os.PathLike[str], dst: os.PathLike[str]) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise PermissionError(errno.EACCES, "Permission denied")
        real_replace(src, dst)

    monkeypatch.setattr(dropfolder.os, "replace", replace)
    pipe = Pipeline()
    (inbox / "a.png").write_bytes(encode("PNG"))
    folder = polling(inbox, pipe)
    settle(folder, lambda: (inbox / "done" / "a.png").exists())
    assert len(attempts) == 2 and len(pipe.calls) == 1


# -- run() --------------------------------------------------------------------------------------


def start(folder: DropFolder) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=folder.run, args=(stop,), daemon=True)
    thread.start()
    return thread, stop


def wait_for(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "condition not reached in time"
        time.sleep(0.02)


def stop_promptly(thread: threading.Thread, stop: threading.Event) -> None:
    t0 = time.monotonic()
    stop.set()
    thread.join(2)
    assert not thread.is_alive()
    assert time.monotonic() - t0 < 1.0


def test_run_with_events_picks_up_new_files_without_waiting_for_a_rescan(inbox: Path) -> None:
    pipe = Pipeline()
    (inbox / "old.png").write_bytes(encode("PNG", 1))  # present at start-up
    # The full rescan comes only every 60 s: after the first one, events must do the work.
    folder = DropFolder(inbox, pipe, stable_seconds=STABLE, poll_interval=60, use_events=True)
    thread, stop = start(folder)
    try:
        time.sleep(0.1)
        (inbox / "new.pdf").write_bytes(encode("PDF", 2))
        (inbox / "HS5").mkdir()  # a dossier folder created while running
        time.sleep(0.1)
        (inbox / "HS5" / "p1.png.part").write_bytes(encode("PNG", 3))
        (inbox / "HS5" / "p1.png.part").rename(inbox / "HS5" / "p1.png")
        wait_for(
            lambda: (
                files_under(inbox / "done") == ["HS5/p1.png", "new.pdf", "old.png"]
                if (inbox / "done").exists()
                else False
            )
        )
        time.sleep(0.3)
    finally:
        stop_promptly(thread, stop)
    assert sorted((p.name, d) for p, d, _ in pipe.calls) == [
        ("new.pdf", None),
        ("old.png", None),
        ("p1.png", "HS5"),
    ]


def test_run_polling_only(inbox: Path) -> None:
    pipe = Pipeline()
    folder = DropFolder(inbox, pipe, stable_seconds=STABLE, poll_interval=POLL, use_events=False)
    thread, stop = start(folder)
    try:
        time.sleep(0.1)
        (inbox / "HS3").mkdir()
        (inbox / "HS3" / "a.jpg").write_bytes(encode("JPEG"))
        wait_for(lambda: (inbox / "done" / "HS3" / "a.jpg").exists())
        time.sleep(0.3)
    finally:
        stop_promptly(thread, stop)
    assert [(p.name, d) for p, d, _ in pipe.calls] == [("a.jpg", "HS3")]


def test_run_survives_a_submit_that_keeps_failing(inbox: Path) -> None:
    pipe = Pipeline(fail=lambda p, n: RuntimeError("boom") if p.name == "bad.png" else None)
    (inbox / "bad.png").write_bytes(encode("PNG", 1))
    folder = DropFolder(inbox, pipe, stable_seconds=0.1, poll_interval=POLL, use_events=True)
    thread, stop = start(folder)
    try:
        wait_for(lambda: "bad.png" in pipe.names)
        (inbox / "good.png").write_bytes(encode("PNG", 2))
        wait_for(lambda: (inbox / "done" / "good.png").exists())
        assert thread.is_alive()
    finally:
        stop_promptly(thread, stop)
    assert (inbox / "bad.png").exists()


def test_file_changed_during_submit_is_not_moved_but_taken_again(inbox: Path) -> None:
    """If the writer was not finished after all, the old bytes were submitted: the newer
    bytes must be submitted too, and done/ must hold what was submitted last."""
    full = encode("PDF", 5)

    def writer_resumes(path: Path, n: int) -> None:
        if n == 1:
            time.sleep(0.01)
            path.write_bytes(full)

    pipe = Pipeline(fail=writer_resumes)
    (inbox / "a.pdf").write_bytes(encode("PDF", 4))
    folder = polling(inbox, pipe)
    settle(folder, lambda: (inbox / "done" / "a.pdf").exists())
    spin(folder, 0.3)
    assert len(pipe.calls) == 2 and pipe.calls[1][2] == hashlib.sha256(full).hexdigest()
    assert (inbox / "done" / "a.pdf").read_bytes() == full
