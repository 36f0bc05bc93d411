"""Is a dropped file finished? Pure checks on names, sizes, timings and file formats.

No watcher can see on its own that a writer is done (SMB/NFS writes raise no local
events, attribute caches make sizes look stable too early), so readiness combines the
signals in order of trust: temporary names are never input, a trigger file
(`name.done`, or `.done`/`READY` in a dossier folder) means "finished now", otherwise
size and mtime must stay unchanged for a while *and* the format must look complete.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

TEMP_SUFFIXES = (".tmp", ".part", ".crdownload", ".reason.txt", ".done")
TRIGGER_SUFFIX = ".done"
BATCH_TRIGGERS = (".done", "READY")
SYSTEM_FILES = frozenset({"thumbs.db", "desktop.ini"})

PDF_WINDOW = 1024  # readers look for the header and `%%EOF` within 1 KiB of either end
TAIL_WINDOW = 64 * 1024
JPEG_PADDING = b"\x00\xff\r\n\t \x1a"  # fill bytes some writers append after EOI
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_IEND = b"IEND\xaeB`\x82"  # chunk type and its fixed CRC
TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


class Verdict(enum.Enum):
    WAIT = "wait"
    READY = "ready"
    FORCED = "forced"  # unchanged for the give-up time but still failing its format check


@dataclass(frozen=True)
class Stamp:
    """What one observation of a file saw."""

    size: int
    mtime_ns: int

    @classmethod
    def of(cls, st: os.stat_result) -> Stamp:
        return cls(st.st_size, st.st_mtime_ns)


def is_ignored(name: str) -> bool:
    """True for names that are never input: temporary, hidden, trigger and reason files."""
    lower = name.lower()
    return (
        name.startswith((".", "~"))
        or lower.endswith(TEMP_SUFFIXES)
        or is_batch_trigger(name)
        or lower in SYSTEM_FILES
    )


def is_batch_trigger(name: str) -> bool:
    """`.done` or `READY` in a dossier folder: every file in that folder is finished."""
    return name == ".done" or name.upper() == "READY"


def trigger_target(name: str) -> str | None:
    """`scan.pdf.done` -> `scan.pdf`; None for any other name (including the batch `.done`)."""
    if name.startswith(".") or not name.lower().endswith(TRIGGER_SUFFIX):
        return None
    return name[: -len(TRIGGER_SUFFIX)] or None


def judge(
    size: int,
    unchanged_for: float,
    *,
    stable_seconds: float,
    give_up_seconds: float,
    triggered: bool,
    problem: Callable[[], str | None],
) -> tuple[Verdict, str | None]:
    """Decide from one observation; `problem` (the format check) is only called when needed.

    Returns the verdict and, unless READY, why the file is not ready.
    """
    if size <= 0:
        return Verdict.WAIT, "empty"
    if not triggered and unchanged_for < stable_seconds:
        return Verdict.WAIT, "still changing"
    why = problem()
    if why is None:
        return Verdict.READY, None
    if unchanged_for >= give_up_seconds:
        return Verdict.FORCED, why
    return Verdict.WAIT, why


def format_problem(path: Path) -> str | None:
    """Why the file does not look complete for its extension, or None if it does.

    Unknown extensions always pass: size stability is all there is to check.
    """
    check = _CHECKS.get(path.suffix.lower())
    if check is None:
        return None
    try:
        return check(path)
    except OSError as exc:
        return f"unreadable ({exc.strerror or type(exc).__name__})"


def _head_tail(path: Path, window: int) -> tuple[bytes, bytes]:
    with path.open("rb") as f:
        head = f.read(window)
        size = os.fstat(f.fileno()).st_size
        f.seek(max(0, size - window))
        return head, f.read(window)


def _pdf(path: Path) -> str | None:
    head, tail = _head_tail(path, PDF_WINDOW)
    if b"%PDF-" not in head:
        return "no %PDF- header"
    if b"%%EOF" not in tail:
        return "no %%EOF near the end"
    return None


def _jpeg(path: Path) -> str | None:
    head, tail = _head_tail(path, TAIL_WINDOW)
    if not head.startswith(b"\xff\xd8"):
        return "no JPEG start marker"
    # FF D9 never occurs inside entropy-coded data, so after stripping padding it ends the file.
    if not tail.rstrip(JPEG_PADDING).endswith(b"\xff\xd9"):
        return "no JPEG end marker (FFD9)"
    return None


def _png(path: Path) -> str | None:
    head, tail = _head_tail(path, TAIL_WINDOW)
    if not head.startswith(PNG_SIGNATURE):
        return "no PNG signature"
    if PNG_IEND not in tail:
        return "no PNG IEND chunk"
    return None


def _tiff(path: Path) -> str | None:
    head, _ = _head_tail(path, 4)
    if head not in TIFF_MAGIC:
        return "no TIFF header"
    page = 0
    try:
        with Image.open(path) as im:
            for page in range(getattr(im, "n_frames", 1)):
                im.seek(page)
                im.load()
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, ...
        return f"TIFF page {page + 1} does not decode ({type(exc).__name__})"
    return None


_CHECKS: dict[str, Callable[[Path], str | None]] = {
    ".pdf": _pdf,
    ".jpg": _jpeg,
    ".jpeg": _jpeg,
    ".jpe": _jpeg,
    ".jfif": _jpeg,
    ".png": _png,
    ".tif": _tiff,
    ".tiff": _tiff,
}
