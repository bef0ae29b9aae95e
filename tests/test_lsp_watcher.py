"""The index watcher (lsp.watcher) on a real file system with real watchdog: debounced, ignoring noise."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from lsp.watcher import IgnoreFilter, IndexWatcher

WAIT_SECONDS = 20.0  # generous upper bound for slow CI; never a speed assertion
pytestmark = pytest.mark.timeout(120)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[list[Path] | None] = []
        self.event = threading.Event()
        self.lock = threading.RLock()

    def __call__(self, paths: list[Path] | None) -> None:
        with self.lock:
            self.calls.append(paths)
        self.event.set()

    def paths(self) -> set[Path]:
        with self.lock:
            return {p for call in self.calls if call for p in call}

    def wait_for(self, predicate, timeout: float = WAIT_SECONDS) -> bool:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if predicate(self):
                    return True
            time.sleep(0.02)
        return False


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "pkg").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / ".gitignore").write_text("build/\n*.log\n")
    (root / "pkg" / "a.py").write_text("x = 1\n")
    return root.resolve()


def test_a_burst_of_writes_is_flushed_in_few_batches_with_every_path(project: Path) -> None:
    rec = Recorder()
    watcher = IndexWatcher(project, rec, IgnoreFilter(project).accepts, quiet_seconds=0.5)
    watcher.start()
    try:
        written = []
        for i in range(20):
            p = project / "pkg" / f"m{i}.py"
            p.write_text(f"v = {i}\n")
            written.append(p)
        assert rec.wait_for(lambda r: set(written) <= r.paths())
        assert len(rec.calls) < len(written)
        assert all(call is not None and call == sorted(call) for call in rec.calls)
    finally:
        watcher.stop()


def test_ignored_and_git_internal_paths_are_never_queued(project: Path) -> None:
    rec = Recorder()
    watcher = IndexWatcher(project, rec, IgnoreFilter(project).accepts, quiet_seconds=0.2)
    watcher.start()
    try:
        (project / "build").mkdir()
        (project / "build" / "out.py").write_text("x\n")
        (project / "run.log").write_text("log\n")
        (project / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
        (project / "pkg" / "__pycache__").mkdir()
        (project / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
        marker = project / "pkg" / "marker.py"
        marker.write_text("y = 2\n")  # written last: once it is flushed, the others were seen too
        assert rec.wait_for(lambda r: marker in r.paths())
        assert rec.paths() == {marker}
    finally:
        watcher.stop()


def test_a_moved_directory_asks_for_a_full_refresh(project: Path) -> None:
    rec = Recorder()
    watcher = IndexWatcher(project, rec, IgnoreFilter(project).accepts, quiet_seconds=0.2)
    watcher.start()
    try:
        (project / "pkg").rename(project / "pkg2")
        assert rec.wait_for(lambda r: None in r.calls)
    finally:
        watcher.stop()


def test_ignore_rules_are_reloaded_when_gitignore_changes(project: Path) -> None:
    ignore = IgnoreFilter(project)
    assert ignore.accepts(project / "pkg" / "gen.py")
    (project / ".gitignore").write_text("build/\n*.log\npkg/gen.py\n")
    # The watcher reports the .gitignore change itself; that event triggers the reload.
    assert ignore.accepts(project / ".gitignore") is False
    assert ignore.accepts(project / "pkg" / "gen.py") is False
    assert ignore.accepts(project.parent / "elsewhere.py") is False


def test_a_failing_flush_keeps_the_watcher_alive(project: Path) -> None:
    calls: list[list[Path] | None] = []

    def flaky(paths: list[Path] | None) -> None:
        calls.append(paths)
        if len(calls) == 1:
            raise OSError("disk on fire")

    watcher = IndexWatcher(project, flaky, IgnoreFilter(project).accepts, quiet_seconds=0.1)
    watcher.start()
    try:
        first = project / "pkg" / "one.py"
        first.write_text("1\n")
        deadline = time.monotonic() + WAIT_SECONDS
        while not calls and time.monotonic() < deadline:
            time.sleep(0.02)
        second = project / "pkg" / "two.py"
        second.write_text("2\n")
        while not any(c and second in c for c in calls) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert any(c and second in c for c in calls)
    finally:
        watcher.stop()
