"""Unattended, restart-safe watcher of a scanner drop folder ("hot folder").

Layout under `root`: files at the top level have no dossier; a first-level subfolder is
a dossier whose name is the dossier code. Handed-over files move to `root/done/<rel>`,
rejected ones to `root/quarantine/<rel>` with `<name>.reason.txt` beside them; both
folders are never read as input. Restart safety comes from the moves plus the caller
de-duplicating by content: a crash between submit and move re-submits the same bytes.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import math
import os
import shutil
import stat
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest import readiness
from ingest.readiness import Stamp, Verdict
from models.errors import BadInput

log = logging.getLogger(__name__)

DONE = "done"
QUARANTINE = "quarantine"
EXCLUDED = frozenset({DONE, QUARANTINE})
REASON_SUFFIX = ".reason.txt"
MAX_SLEEP = 0.2  # longest wait between checks of the stop event
DEBOUNCE = 0.05  # after a file event, gather more before looking


@dataclass
class _Entry:
    """What is known about one inbox file since its size and mtime last changed."""

    stamp: Stamp
    since: float  # monotonic time this stamp was first seen
    wake_at: float = 0.0  # when it is next worth looking at
    retry_at: float = 0.0  # no submit or move before this (backoff)
    failures: int = 0
    checked: bool = False
    problem: str | None = None  # format check result for this stamp, once checked
    outcome: tuple[str, str | None] | None = None  # submit done: (folder, reason); move pending


class DropFolder:
    """Hand every finished file in `root` to `submit(path, dossier_code)`, then move it away."""

    give_up_factor: float = 10.0  # hand over a stable but malformed file after this × stable
    max_backoff: float = 300.0  # seconds between retries of a failing submit or move, at most

    def __init__(
        self,
        root: Path,
        submit: Callable[[Path, str | None], object],
        *,
        stable_seconds: float = 2.0,
        poll_interval: float = 5.0,
        use_events: bool = True,
    ) -> None:
        self.root = Path(root)
        self.submit = submit
        self.stable_seconds = stable_seconds
        self.poll_interval = poll_interval
        self.use_events = use_events
        self._entries: dict[Path, _Entry] = {}
        self._orphans: dict[Path, float] = {}  # `name.done` without `name`: first seen
        self._lock = threading.RLock()
        self._dirty: set[Path] = set()
        self._dirty_lock = threading.Lock()
        self._wake = threading.Event()
        self._observer: Any = None
        self._watches: dict[Path, Any] = {}

    @property
    def give_up_seconds(self) -> float:
        return self.stable_seconds * self.give_up_factor

    # -- public -------------------------------------------------------------------------

    def scan_once(self) -> list[Path]:
        """Walk the whole inbox and hand over every file that is ready now.

        Returns the inbox paths whose submit completed (returned, or raised BadInput).
        """
        with self._lock:
            self._take_dirty()
            files, triggers = self._walk(self.root)
            for rel in self._entries.keys() - files:
                del self._entries[rel]
            self._tidy_orphans(triggers)
            self._sync_watches()
            return self._evaluate_all(sorted(files))

    def run(self, stop: threading.Event) -> None:
        """Watch until `stop` is set: file events (if enabled) plus a full rescan every
        `poll_interval`, which also catches everything the events miss."""
        if self.use_events:
            self._start_observer()
        next_scan = 0.0
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    if time.monotonic() >= next_scan:
                        self.scan_once()
                        next_scan = time.monotonic() + self.poll_interval
                    else:
                        self._check_pending()
                except Exception as exc:  # never let one bad pass end the watcher
                    log.error("drop-folder pass failed (%s)", _describe(exc))
                timeout = min(next_scan, self._next_wake()) - time.monotonic()
                if self._wake.wait(min(max(timeout, 0.0), MAX_SLEEP)):
                    stop.wait(DEBOUNCE)
        finally:
            self._stop_observer()

    # -- readiness and hand-over ----------------------------------------------------------

    def _evaluate_all(self, rels: Iterable[Path]) -> list[Path]:
        handed = []
        for rel in rels:
            try:
                if self._evaluate(rel):
                    handed.append(self.root / rel)
            except Exception as exc:
                log.error("%s: unexpected failure (%s)", rel, _describe(exc))
        return handed

    def _evaluate(self, rel: Path) -> bool:
        """Look at one inbox file; submit and move it if ready. True if submit completed."""
        path = self.root / rel
        now = time.monotonic()
        try:
            st = path.lstat()
        except FileNotFoundError:
            self._entries.pop(rel, None)
            return False
        if not stat.S_ISREG(st.st_mode):
            self._entries.pop(rel, None)
            return False
        stamp = Stamp.of(st)
        entry = self._entries.get(rel)
        if entry is None or entry.stamp != stamp:
            entry = self._entries[rel] = _Entry(stamp, since=now)
        if now < entry.retry_at:
            entry.wake_at = entry.retry_at
            return False
        handed = False
        if entry.outcome is None:
            verdict, why = readiness.judge(
                stamp.size,
                now - entry.since,
                stable_seconds=self.stable_seconds,
                give_up_seconds=self.give_up_seconds,
                triggered=self._triggered(rel),
                problem=lambda: self._format_problem(path, entry),
            )
            if verdict is Verdict.WAIT:
                entry.wake_at = self._next_look(entry, now)
                return False
            if verdict is Verdict.FORCED:
                log.warning("%s: handing over although %s", rel, why)
            entry.outcome = self._submit(rel, entry)
            if entry.outcome is None:
                return False
            handed = True
        self._finish(rel, entry)
        return handed

    def _format_problem(self, path: Path, entry: _Entry) -> str | None:
        if not entry.checked:
            entry.problem, entry.checked = readiness.format_problem(path), True
        return entry.problem

    def _next_look(self, entry: _Entry, now: float) -> float:
        if entry.stamp.size == 0:
            return math.inf  # rescans and events notice when it grows
        if now - entry.since < self.stable_seconds:
            return entry.since + self.stable_seconds
        return entry.since + self.give_up_seconds

    def _triggered(self, rel: Path) -> bool:
        path = self.root / rel
        if os.path.lexists(path.with_name(path.name + readiness.TRIGGER_SUFFIX)):
            return True
        in_dossier = len(rel.parts) > 1
        return in_dossier and any(
            os.path.lexists(path.parent / n) for n in readiness.BATCH_TRIGGERS
        )

    def _submit(self, rel: Path, entry: _Entry) -> tuple[str, str | None] | None:
        dossier = rel.parts[0] if len(rel.parts) > 1 else None
        try:
            self.submit(self.root / rel, dossier)
        except BadInput as exc:
            log.warning("%s: rejected, moving to %s/", rel, QUARANTINE)
            return QUARANTINE, str(exc) or type(exc).__name__
        except Exception as exc:
            self._backoff(rel, entry, "submit", exc)
            return None
        log.info("%s: submitted", rel)
        return DONE, None

    def _finish(self, rel: Path, entry: _Entry) -> None:
        """Move a submitted file out of the inbox (the outcome says where)."""
        assert entry.outcome is not None
        folder, reason = entry.outcome
        src = self.root / rel
        try:
            if Stamp.of(src.lstat()) != entry.stamp:
                log.warning("%s: changed while being handed over; will hand over again", rel)
                self._entries.pop(rel, None)
                return
            dest = move_no_clobber(src, self.root / folder / rel, keep_free=REASON_SUFFIX)
        except FileNotFoundError:
            log.warning("%s: vanished before it could be moved", rel)
            self._entries.pop(rel, None)
            return
        except OSError as exc:
            self._backoff(rel, entry, "move", exc)
            return
        self._entries.pop(rel, None)
        log.info("%s: moved to %s/", rel, folder)
        try:
            if reason is not None:
                dest.with_name(dest.name + REASON_SUFFIX).write_text(reason + "\n", "utf-8")
        except OSError as exc:
            log.warning("%s: cannot write the reason file (%s)", rel, _describe(exc))
        try:
            src.with_name(src.name + readiness.TRIGGER_SUFFIX).unlink(missing_ok=True)
        except OSError as exc:  # an orphan trigger is removed after the give-up time
            log.warning("%s: cannot remove its trigger (%s)", rel, _describe(exc))

    def _backoff(self, rel: Path, entry: _Entry, what: str, exc: Exception) -> None:
        entry.failures += 1
        base = max(self.poll_interval, 0.01)
        delay = min(base * 2 ** min(entry.failures - 1, 30), self.max_backoff)
        entry.retry_at = entry.wake_at = time.monotonic() + delay
        log.warning("%s: %s failed (%s); retrying in %.1f s", rel, what, _describe(exc), delay)

    # -- walking --------------------------------------------------------------------------

    def _walk(self, top: Path) -> tuple[set[Path], set[Path]]:
        """Candidate files and `name.done` triggers below `top`, relative to the root."""
        files: set[Path] = set()
        triggers: set[Path] = set()
        stack = [top]
        while stack:
            folder = stack.pop()
            try:
                with os.scandir(folder) as it:
                    items = list(it)
            except OSError as exc:
                log.warning("cannot list %s/ (%s)", self._rel(folder), _describe(exc))
                continue
            for item in items:
                rel = Path(item.path).relative_to(self.root)
                if rel.parts[0] in EXCLUDED:
                    continue
                try:
                    if item.is_dir(follow_symlinks=False):
                        if not item.name.startswith("."):
                            stack.append(Path(item.path))
                    elif item.is_file(follow_symlinks=False):
                        if readiness.trigger_target(item.name):
                            triggers.add(rel)
                        elif not readiness.is_ignored(item.name):
                            files.add(rel)
                except OSError:
                    continue
        return files, triggers

    def _tidy_orphans(self, triggers: set[Path]) -> None:
        """Remove `name.done` triggers whose `name` has been missing for the give-up time."""
        now = time.monotonic()
        self._orphans = {rel: t for rel, t in self._orphans.items() if rel in triggers}
        for rel in triggers:
            target = self.root / rel.with_name(readiness.trigger_target(rel.name) or "")
            if os.path.lexists(target):
                self._orphans.pop(rel, None)
            elif now - self._orphans.setdefault(rel, now) >= self.give_up_seconds:
                try:
                    (self.root / rel).unlink(missing_ok=True)
                except OSError as exc:
                    log.warning("%s: cannot remove stale trigger (%s)", rel, _describe(exc))
                else:
                    log.info("%s: removed trigger without a file", rel)
                self._orphans.pop(rel, None)

    def _rel(self, path: Path) -> Path:
        try:
            return path.relative_to(self.root)
        except ValueError:
            return Path(path.name)

    # -- events ---------------------------------------------------------------------------

    def _on_event(self, event: Any) -> None:
        """Watchdog event (observer thread): note the paths and wake the loop."""
        if event.event_type in ("opened", "closed_no_write"):
            return
        rels = []
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if not raw:
                continue
            try:
                rel = Path(os.fsdecode(raw)).relative_to(self.root)
            except ValueError:
                continue
            if rel.parts and rel.parts[0] not in EXCLUDED:
                rels.append(rel)
        if rels:
            with self._dirty_lock:
                self._dirty.update(rels)
            self._wake.set()

    def _take_dirty(self) -> set[Path]:
        with self._dirty_lock:
            dirty, self._dirty = self._dirty, set()
        return dirty

    def _check_pending(self) -> list[Path]:
        """Between full scans: look at paths named by events and at entries now due."""
        with self._lock:
            dirty = self._take_dirty()
            if any(len(r.parts) == 1 and (self.root / r).is_dir() for r in dirty):
                self._sync_watches()  # watch a new dossier folder before listing it
            rels: set[Path] = set()
            for rel in dirty:
                if any(part.startswith(".") for part in rel.parts[:-1]):
                    continue
                path = self.root / rel
                if readiness.is_batch_trigger(rel.name):
                    if len(rel.parts) > 1:  # batch triggers only count in dossier folders
                        rels |= {r for r in self._walk(path.parent)[0] if r.parent == rel.parent}
                elif target := readiness.trigger_target(rel.name):
                    rels.add(rel.with_name(target))
                elif rel.name.startswith("."):
                    continue
                elif path.is_dir():
                    rels |= self._walk(path)[0]
                else:
                    rels.add(rel)
            now = time.monotonic()
            rels |= {rel for rel, e in self._entries.items() if e.wake_at <= now}
            return self._evaluate_all(sorted(r for r in rels if not readiness.is_ignored(r.name)))

    def _next_wake(self) -> float:
        with self._lock:
            return min((e.wake_at for e in self._entries.values()), default=math.inf)

    def _start_observer(self) -> None:
        try:
            from watchdog.observers import Observer

            observer = Observer()
            observer.start()
        except Exception as exc:
            log.warning("file events unavailable (%s); polling only", _describe(exc))
            return
        self._observer = observer
        with self._lock:
            self._sync_watches()

    def _stop_observer(self) -> None:
        observer, self._observer = self._observer, None
        self._watches.clear()
        if observer is not None:
            observer.stop()
            observer.join(5)

    def _sync_watches(self) -> None:
        """Watch the root (flat) and each dossier folder (recursive), never done/ or
        quarantine/: their growing trees would eat inotify watches and only add noise."""
        observer = self._observer
        if observer is None:
            return
        want = {self.root: False}
        try:
            with os.scandir(self.root) as it:
                for item in it:
                    name = item.name
                    if name.startswith(".") or name in EXCLUDED:
                        continue
                    if item.is_dir(follow_symlinks=False):
                        want[Path(item.path)] = True
        except OSError:
            pass
        for path in self._watches.keys() - want.keys():
            with contextlib.suppress(Exception):  # already gone with its folder
                observer.unschedule(self._watches.pop(path))
        for path, recursive in want.items():
            if path in self._watches:
                continue
            try:
                self._watches[path] = observer.schedule(
                    _EventSink(self), str(path), recursive=recursive
                )
            except Exception as exc:  # e.g. inotify watch limit: the rescans still cover it
                log.warning("cannot watch %s/ (%s)", self._rel(path), _describe(exc))


class _EventSink:
    """What watchdog calls; keeps the observer API off DropFolder's public surface."""

    def __init__(self, folder: DropFolder) -> None:
        self._folder = folder

    def dispatch(self, event: Any) -> None:
        self._folder._on_event(event)


def move_no_clobber(src: Path, dest: Path, *, keep_free: str = "") -> Path:
    """Move `src` to `dest`, or to `dest` with a `-N` suffix if taken; returns where it went.

    `keep_free`: a companion suffix (e.g. `.reason.txt`) whose name must be free too.
    Atomic rename within a filesystem; across filesystems (EXDEV) copy to a temporary
    name beside `dest`, fsync, rename, then remove `src`.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    final, n = dest, 0
    while os.path.lexists(final) or (
        keep_free and os.path.lexists(final.with_name(final.name + keep_free))
    ):
        n += 1
        final = dest.with_name(f"{dest.stem}-{n}{dest.suffix}")
    try:
        os.replace(src, final)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        _copy_across(src, final)
    return final


def _copy_across(src: Path, dest: Path) -> None:
    tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        with src.open("rb") as fin, tmp.open("xb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)
            fout.flush()
            os.fsync(fout.fileno())
        shutil.copystat(src, tmp)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(dest.parent)
    src.unlink()


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # not supported on some filesystems
    finally:
        os.close(fd)


def _describe(exc: BaseException) -> str:
    """The error's kind without its message, which may carry absolute paths or content."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{type(exc).__name__}: {exc.strerror}"
    return type(exc).__name__
