"""Keep the project index fresh when files change outside the editor (git checkout, formatters, codegen).

watchdog reports every write, and a ``git checkout`` or a formatter run produces bursts of hundreds of
events; refreshing per event would re-parse the same files over and over. Events are therefore collected
and flushed once the tree has been quiet for ``quiet_seconds`` (or at the latest after ``max_delay``
seconds of continuous churn), on a worker thread so neither watchdog's thread nor the event loop waits.

Paths the index does not track (ignored by .gitignore/.assistignore, outside the root, ``.git``
internals) are dropped by the ``accept`` callback before they are queued.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pathspec
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

log = logging.getLogger(__name__)

# Quiet period before a burst of changes is applied; a formatter touching many files finishes in this.
QUIET_SECONDS = 0.3
# Upper bound on how long continuous churn (a long codegen run) can delay a refresh.
MAX_DELAY_SECONDS = 3.0
# Never looked at: git's own bookkeeping changes on every commit/checkout and is not project source.
SKIPPED_DIRS = frozenset({".git", ".hg", ".svn"})

# Build and tool output that changes constantly and is never source, whatever .gitignore says.
NOISE_DIRS = frozenset(
    {"__pycache__", "node_modules", ".venv", ".tox", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
)
IGNORE_FILES = (".gitignore", ".assistignore")

Flush = Callable[[list[Path] | None], None]


class _StopRaceFilter(logging.Filter):
    """Drop watchdog's one spurious error at shutdown.

    watchdog 7.1 logs "InotifyEmitter.queue_events() called when the thread is inactive" at ERROR when
    ``Observer.stop()`` closes the inotify handle while the emitter thread is inside its blocking read
    (watchdog/observers/inotify.py, queue_events); nothing is lost, the thread just ends. Seen on every
    server shutdown in bench/completion_bench.py.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "called when the thread is inactive" not in record.getMessage()


logging.getLogger("watchdog.observers.inotify").addFilter(_StopRaceFilter())


class IgnoreFilter:
    """A cheap first filter for watcher events: the root's .gitignore/.assistignore and noise folders.

    The index re-checks every queued path with git itself (nested .gitignore files, global excludes), so
    this only has to drop the bulk of irrelevant events cheaply, in watchdog's thread. The ignore files are
    re-read when they change.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._stamp: tuple[float, ...] = ()
        self._spec = pathspec.GitIgnoreSpec.from_lines([])
        self._reload()

    def _stamps(self) -> tuple[float, ...]:
        out = []
        for name in IGNORE_FILES:
            try:
                out.append((self.root / name).stat().st_mtime)
            except OSError:
                out.append(-1.0)
        return tuple(out)

    def _reload(self) -> None:
        stamp = self._stamps()
        if stamp == self._stamp:
            return
        lines: list[str] = []
        for name in IGNORE_FILES:
            with contextlib.suppress(OSError):
                lines += (self.root / name).read_text(encoding="utf-8", errors="replace").splitlines()
        self._spec = pathspec.GitIgnoreSpec.from_lines(lines)
        self._stamp = stamp

    def accepts(self, path: Path) -> bool:
        try:
            rel = path.relative_to(self.root)
        except ValueError:
            return False
        if any(part in NOISE_DIRS or part in SKIPPED_DIRS for part in rel.parts):
            return False
        if rel.name in IGNORE_FILES:
            self._reload()
            return False
        return not self._spec.match_file(rel.as_posix())


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: IndexWatcher) -> None:
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return  # reads are not changes
        if event.is_directory:
            if event.event_type in ("moved", "deleted"):
                self.watcher.queue_all()  # a whole subtree appeared or vanished under other names
            return
        for raw in (event.src_path, event.dest_path):
            if raw:
                self.watcher.queue(Path(os.fsdecode(raw)))


class IndexWatcher:
    """Watches ``root`` recursively and calls ``flush(paths)`` (``None``: re-check everything)."""

    def __init__(
        self,
        root: Path,
        flush: Flush,
        accept: Callable[[Path], bool] = lambda _: True,
        *,
        quiet_seconds: float = QUIET_SECONDS,
        max_delay: float = MAX_DELAY_SECONDS,
    ) -> None:
        self.root = root
        self._flush = flush
        self._accept = accept
        self.quiet_seconds = quiet_seconds
        self.max_delay = max_delay
        self._cond = threading.Condition()
        self._pending: set[Path] = set()
        self._all = False
        self._first_at = 0.0
        self._last_at = 0.0
        self._stopped = False
        self._observer: Observer | None = None  # type: ignore[valid-type]
        self._worker: threading.Thread | None = None
        self.flushes = 0

    def start(self) -> None:
        observer = Observer()
        observer.schedule(_Handler(self), str(self.root), recursive=True)
        observer.daemon = True
        observer.start()
        self._observer = observer
        self._worker = threading.Thread(target=self._run, name="assist-index-watcher", daemon=True)
        self._worker.start()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
        if self._worker is not None:
            self._worker.join(timeout=5)

    def _skipped(self, path: Path) -> bool:
        try:
            rel = path.relative_to(self.root)
        except ValueError:
            return True
        return any(part in SKIPPED_DIRS for part in rel.parts)

    def queue(self, path: Path) -> None:
        if self._skipped(path):
            return
        try:
            accepted = self._accept(path)
        except Exception:  # a filter bug must not kill watchdog's thread
            log.exception("watcher filter failed for %s", path)
            accepted = False
        if not accepted:
            return
        with self._cond:
            self._mark()
            self._pending.add(path)
            self._cond.notify_all()

    def queue_all(self) -> None:
        with self._cond:
            self._mark()
            self._all = True
            self._cond.notify_all()

    def _mark(self) -> None:
        now = time.monotonic()
        if not self._pending and not self._all:
            self._first_at = now
        self._last_at = now

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and not self._pending and not self._all:
                    self._cond.wait()
                if self._stopped:
                    return
                now = time.monotonic()
                due = min(self._last_at + self.quiet_seconds, self._first_at + self.max_delay)
                if now < due:
                    self._cond.wait(due - now)
                    continue
                paths = None if self._all else sorted(self._pending)
                self._pending.clear()
                self._all = False
            try:
                self._flush(paths)
                self.flushes += 1
            except Exception:  # keep watching; the next change retries
                log.exception("index refresh after file changes failed")
