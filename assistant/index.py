"""The project index: per-file facts from tree-sitter, kept fresh cheaply and shared across threads.

For each file: definitions, references, imports, an outline and (lazily) token counts. The facts are
cached on disk under the user cache dir (never inside the project), keyed by path, size and mtime,
so a re-run re-parses only files that changed. A cold index of a large project is parsed in worker
processes (tree-sitter releases no GIL for our Python-side query walking).

Readers take ``index.state``: an immutable snapshot replaced atomically on every update, so a packer
running in one thread never sees a half-applied refresh from the file watcher in another.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import pickle
import subprocess
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from assistant import __version__
from assistant.config import Settings, cache_dir
from assistant.diskcache import read_pickle, write_pickle
from assistant.errors import FileAccessError
from assistant.files import (
    Discovery,
    Skipped,
    SourceFile,
    assist_ignores,
    classify,
    decode,
    discover,
    ignored_outside_git,
)
from assistant.gcpause import paused_gc
from assistant.imports import SuffixTable, resolve_file, resolve_imports
from assistant.secrets import is_secret_file
from assistant.syntax import Definition, FileFacts, outline, parse_source

# Derived data written to disk when computed, so the next process starts with it.
PERSISTED_KEYS = frozenset({"rank.global", "imports"})
# The centrality ranking is reused until this fraction of files changed since it was computed.
RANK_MAX_STALE_FRACTION = 0.01
# Seconds after the last refresh before the disk cache is written (see ProjectIndex._schedule_save).
SAVE_DELAY_SECONDS = 2.0
# Decoded texts kept in memory (snippets come from the same few files keystroke after keystroke).
TEXT_CACHE_FILES = 256
_TEXTS: OrderedDict[tuple[str, str, int, int], str] = OrderedDict()
_TEXT_LOCK = threading.Lock()
# A disk cache grown to this many shards (one per parse chunk, plus one per later run that re-parsed
# a few files) is rewritten as one.
CACHE_MAX_SHARDS = 48
# Bump when the cached facts' shape or the parsers' output changes.
CACHE_FORMAT = 4
# Below this many files to parse, worker processes cost more than they save.
PARALLEL_MIN_FILES = 300
PARALLEL_WORKERS = max(1, min(4, os.cpu_count() or 1))
# A name defined in more files than this is too generic to link files by (`get`, `save`, `__init__`).
MAX_DEFINERS = 12

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class IndexedFile:
    rel: str
    size: int
    mtime_ns: int
    facts: FileFacts
    outline: str
    generated: bool = False
    # The editor's unsaved text, when it overrides the disk.
    overlay: str | None = None


@dataclass(frozen=True)
class IndexState:
    """An immutable snapshot of the index. Derived tables are built once per snapshot, on demand."""

    root: Path
    files: Mapping[str, IndexedFile]
    skipped: tuple[Skipped, ...] = ()
    is_git: bool = False
    version: int = 0
    _derived: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    def rels(self) -> list[str]:
        return sorted(self.files)

    def definers(self) -> Mapping[str, tuple[tuple[str, Definition], ...]]:
        """Definition name -> ((rel, definition), …), in path order."""
        table = self._derived.get("definers")
        if table is None:
            acc: dict[str, list[tuple[str, Definition]]] = {}
            with paused_gc():
                for rel in sorted(self.files):
                    for d in self.files[rel].facts.definitions:
                        acc.setdefault(d.name, []).append((rel, d))
                table = {name: tuple(v) for name, v in acc.items()}
            self._derived["definers"] = table
        return table  # type: ignore[return-value]

    def suffix_table(self) -> SuffixTable:
        """Import lookup table; depends only on the set of paths, so it survives content changes."""
        return self.derived("suffixes", lambda: SuffixTable(sorted(self.files)))  # type: ignore[return-value]

    def imports_of(self) -> Mapping[str, tuple[str, ...]]:
        """rel -> files of the project that ``rel`` imports (resolved), sorted."""
        return self.derived(  # type: ignore[return-value]
            "imports",
            lambda: resolve_imports({rel: f.facts for rel, f in self.files.items()}, self.suffix_table()),
        )

    def importers_of(self) -> Mapping[str, tuple[str, ...]]:
        table = self._derived.get("importers")
        if table is None:
            acc: dict[str, set[str]] = {}
            for rel, targets in self.imports_of().items():
                for t in targets:
                    acc.setdefault(t, set()).add(rel)
            table = {k: tuple(sorted(v)) for k, v in acc.items()}
            self._derived["importers"] = table
        return table  # type: ignore[return-value]

    def derived(self, key: str, build: Callable[[], object]) -> object:
        """A per-snapshot memo for derived data (rankings, token counts) owned by other modules."""
        value = self._derived.get(key)
        if value is None:
            with paused_gc():
                value = build()
            self._derived[key] = value
            persist = self._derived.get("persist")
            if key in PERSISTED_KEYS and callable(persist):
                persist(key, value, self.files)
        return value

    def evolve(self, files: dict[str, IndexedFile], changed: Iterable[str]) -> IndexState:
        """The next snapshot after ``changed`` files were updated, added or removed.

        Derived tables are patched rather than rebuilt where that is cheap (definitions, imports),
        because the language server makes a new snapshot on every keystroke and every save. The
        centrality ranking is carried over while fewer than ``RANK_MAX_STALE_FRACTION`` of the files
        changed since it was computed: one edited file barely moves a project's map, and recomputing
        it costs a second on a Django-sized project.
        """
        changed = set(changed)
        old = self._derived
        new: dict[str, object] = {}
        same_paths = files.keys() == self.files.keys()
        if "persist" in old:
            new["persist"] = old["persist"]
        if "definers" in old:
            table = dict(old["definers"])  # type: ignore[call-overload]
            touched: set[str] = set()
            for rel in changed:
                for entry in (self.files.get(rel), files.get(rel)):
                    if entry is not None:
                        touched.update(d.name for d in entry.facts.definitions)
            for name in touched:
                kept = [(r, d) for r, d in table.get(name, ()) if r not in changed]
                for rel in changed:
                    entry = files.get(rel)
                    if entry is not None:
                        kept.extend((rel, d) for d in entry.facts.definitions if d.name == name)
                if kept:
                    table[name] = tuple(sorted(kept, key=lambda rd: (rd[0], rd[1].start_byte)))
                else:
                    table.pop(name, None)
            new["definers"] = table
        if same_paths and "suffixes" in old:
            new["suffixes"] = old["suffixes"]
            if "imports" in old:
                imports = dict(old["imports"])  # type: ignore[call-overload]
                for rel in changed:
                    if rel in files:
                        imports[rel] = resolve_file(rel, files[rel].facts, old["suffixes"])  # type: ignore[arg-type]
                new["imports"] = imports
        if "rank.global" in old:
            age = int(old.get("rank.age", 0)) + len(changed)  # type: ignore[call-overload]
            if age <= max(1, int(len(files) * RANK_MAX_STALE_FRACTION)):
                new["rank.global"] = old["rank.global"]
                new["rank.age"] = age
                if same_paths and "rank.order" in old:
                    new["rank.order"] = old["rank.order"]
        if "cursor-map" in old and same_paths:
            # A cursor's map never shows its own file: it stays valid while only that file changes.
            memo: dict[tuple[str, ...], object] = old["cursor-map"]  # type: ignore[assignment]
            new["cursor-map"] = {k: v for k, v in memo.items() if changed <= {k[0]}}
        return IndexState(
            root=self.root,
            files=files,
            skipped=self.skipped,
            is_git=self.is_git,
            version=self.version + 1,
            _derived=new,
        )

    def text(self, rel: str) -> str:
        """The file's current text (editor overlay first), decoded safely; "" if it vanished."""
        entry = self.files.get(rel)
        if entry is not None and entry.overlay is not None:
            return entry.overlay
        key = (str(self.root), rel, entry.size, entry.mtime_ns) if entry is not None else None
        if key is not None:
            with _TEXT_LOCK:
                cached = _TEXTS.get(key)
            if cached is not None:
                return cached
        try:
            data = (self.root / rel).read_bytes()
        except OSError:
            return ""
        text = decode(data, sniff=False).text
        if key is not None:
            with _TEXT_LOCK:
                _TEXTS[key] = text
                if len(_TEXTS) > TEXT_CACHE_FILES:
                    _TEXTS.popitem(last=False)
        return text


def _parse_file(root: str, rel: str, size: int, mtime_ns: int) -> IndexedFile | Skipped:
    """Parse one file from disk (runs in worker processes: module-level, picklable arguments only)."""
    try:
        with open(os.path.join(root, rel), "rb") as fh:
            data = fh.read()
    except OSError as exc:
        return Skipped(rel, f"unreadable: {exc.strerror}")
    content = decode(data)
    if content.binary:
        return Skipped(rel, "binary")
    if content.generated:
        return Skipped(rel, "generated or minified")
    return _facts_for(rel, content.text, size, mtime_ns)


def _facts_for(rel: str, text: str, size: int, mtime_ns: int, overlay: str | None = None) -> IndexedFile:
    facts = parse_source(rel, text)
    return IndexedFile(
        rel=rel, size=size, mtime_ns=mtime_ns, facts=facts, outline=outline(text, facts), overlay=overlay
    )


def _parse_chunk(root: str, items: list[tuple[str, int, int]]) -> bytes:
    """Parse a chunk in a worker; the results come back pickled by us rather than by the pool.

    Why: the parent keeps these bytes as one shard of the disk cache, so a cold index is saved
    without pickling a million objects a second time (0.13 s on Django, on the critical path).
    """
    results = [_parse_file(root, rel, size, mtime) for rel, size, mtime in items]
    return pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL)


def _unpickle_shard(shard: bytes) -> list[IndexedFile | Skipped]:
    """One shard's entries; a damaged shard (from a disk cache) reads as empty."""
    try:
        loaded = pickle.loads(shard)
    except (EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError):
        return []
    if not isinstance(loaded, list):
        return []
    return [entry for entry in loaded if isinstance(entry, (IndexedFile, Skipped))]


@dataclass
class RefreshStats:
    parsed: int = 0
    reused: int = 0
    removed: int = 0
    skipped: int = 0


class ProjectIndex:
    """The index of one project root. Thread-safe: updates are serialised, reads use snapshots."""

    def __init__(self, root: Path, settings: Settings, *, use_disk_cache: bool = True) -> None:
        self.root = root.resolve()
        self.settings = settings
        self.use_disk_cache = use_disk_cache
        self._lock = threading.RLock()
        self._state = IndexState(root=self.root, files={})
        self.last_refresh = RefreshStats()
        self._save_timer: threading.Timer | None = None
        self._atexit_registered = False

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        root: Path,
        settings: Settings,
        *,
        progress: Progress | None = None,
        use_disk_cache: bool = True,
    ) -> ProjectIndex:
        index = cls(root, settings, use_disk_cache=use_disk_cache)
        index.rescan(progress=progress)
        return index

    @property
    def state(self) -> IndexState:
        return self._state

    def files(self) -> list[str]:
        return self._state.rels()

    def get(self, rel: str) -> IndexedFile | None:
        return self._state.files.get(rel)

    def resolve(self, path: str | Path) -> str | None:
        """``path`` (absolute, or relative to the root) as a root-relative posix path, or None if outside."""
        p = Path(path)
        if not p.is_absolute():
            p = self.root / p
        try:
            rel = p.resolve().relative_to(self.root)
        except (ValueError, OSError):
            try:
                rel = Path(os.path.normpath(p)).relative_to(self.root)
            except ValueError:
                return None
        text = PurePosixPath(rel).as_posix()
        return None if text in (".", "") or text.startswith("../") else text

    # ------------------------------------------------------------------ cache

    def cache_path(self) -> Path:
        key = hashlib.sha256(str(self.root).encode("utf-8", "surrogateescape")).hexdigest()[:20]
        return cache_dir(self.settings) / "index" / f"{key}.pickle"

    def _load_cache(self) -> tuple[dict[str, IndexedFile], list[bytes]]:
        """The cached files (a later shard's entry wins over an earlier one's) and the raw shards."""
        if not self.use_disk_cache:
            return {}, []
        data = read_pickle(self.cache_path(), (CACHE_FORMAT, __version__))
        if data is None or data.get("root") != str(self.root):
            return {}, []
        shards = data.get("shards")
        if not isinstance(shards, list) or not all(isinstance(shard, bytes) for shard in shards):
            return {}, []
        files: dict[str, IndexedFile] = {}
        for shard in shards:
            for entry in _unpickle_shard(shard):
                if isinstance(entry, IndexedFile):
                    files[entry.rel] = entry
        return files, shards

    def _derived_path(self, key: str) -> Path:
        return self.cache_path().with_suffix(f".{key}.pickle")

    def _persist(self, key: str, value: object, files: Mapping[str, IndexedFile]) -> None:
        """Write a persisted derived table with the file versions it was computed from."""
        if not self.use_disk_cache or key not in PERSISTED_KEYS:
            return
        payload = {
            "format": (CACHE_FORMAT, __version__),
            "versions": {rel: (f.size, f.mtime_ns) for rel, f in files.items()},
            "value": value,
        }
        write_pickle(self._derived_path(key), payload)

    def _seed_derived(self, files: Mapping[str, IndexedFile]) -> dict[str, object]:
        """Derived tables from disk that are still good for ``files``.

        The ranking is reused while few files changed (see ``RANK_MAX_STALE_FRACTION``); the import
        table is reused when no file was added or removed, with the changed files' imports resolved
        again.
        """
        if not self.use_disk_cache:
            return {}
        seeded: dict[str, object] = {}
        for key in sorted(PERSISTED_KEYS):
            data = read_pickle(self._derived_path(key), (CACHE_FORMAT, __version__))
            versions, value = (data.get("versions"), data.get("value")) if data else (None, None)
            if not isinstance(versions, dict) or not isinstance(value, dict):
                continue
            changed = {rel for rel, f in files.items() if versions.get(rel) != (f.size, f.mtime_ns)}
            changed |= {rel for rel in versions if rel not in files}
            if key == "rank.global" and len(changed) <= max(1, int(len(files) * RANK_MAX_STALE_FRACTION)):
                seeded[key] = {rel: value.get(rel, 0.0) for rel in files}
                seeded["rank.age"] = len(changed)
            elif key == "imports" and versions.keys() == files.keys():
                if changed:
                    table = SuffixTable(sorted(files))
                    seeded["suffixes"] = table
                    value = {**value, **{rel: resolve_file(rel, files[rel].facts, table) for rel in changed}}
                seeded[key] = value
        return seeded

    def _schedule_save(self) -> None:
        """Write the disk cache a little after the last refresh, off the caller's path.

        A file watcher refreshes on every save; pickling a Django-sized index takes 0.17 s, which would
        otherwise be paid by each edit. ``flush()`` (also run at exit) writes a pending save at once.
        """
        if not self.use_disk_cache:
            return
        with self._lock:
            if self._save_timer is not None:
                self._save_timer.cancel()
            self._save_timer = threading.Timer(SAVE_DELAY_SECONDS, self.flush)
            self._save_timer.daemon = True
            self._save_timer.start()
            if not self._atexit_registered:
                atexit.register(self.flush)
                self._atexit_registered = True

    def flush(self) -> None:
        """Write a pending disk-cache save now."""
        with self._lock:
            timer, self._save_timer = self._save_timer, None
            if timer is None:
                return
            timer.cancel()
            files = self._state.files
        self._save_cache(files)

    def _save_cache(self, files: Mapping[str, IndexedFile], shards: list[bytes] | None = None) -> None:
        """Write the disk cache: ``shards`` when given (pickled entry lists: the parse workers' own,
        or the loaded shards plus one of re-parsed files; on load a later entry for a path wins), else
        ``files`` pickled here as one shard (editor overlays left out)."""
        if not self.use_disk_cache:
            return
        if shards is None:
            entries = [replace(f, overlay=None) if f.overlay is not None else f for f in files.values()]
            shards = [pickle.dumps(entries, protocol=pickle.HIGHEST_PROTOCOL)]
        payload = {"format": (CACHE_FORMAT, __version__), "root": str(self.root), "shards": shards}
        write_pickle(self.cache_path(), payload)

    # ------------------------------------------------------------------ updates

    def rescan(self, *, progress: Progress | None = None) -> RefreshStats:
        """Rediscover the project and re-parse what changed since the disk cache or the last scan."""
        with self._lock, paused_gc():
            discovery = discover(self.root, self.settings.files)
            loaded: list[bytes] = []
            previous: dict[str, IndexedFile] = dict(self._state.files)
            if not previous:
                previous, loaded = self._load_cache()
            shards: list[bytes] = []
            stats, files, skipped = self._parse_changed(discovery.files, previous, progress, shards)
            overlays = {rel: f.overlay for rel, f in self._state.files.items() if f.overlay is not None}
            for rel, text in overlays.items():
                if rel in files:
                    files[rel] = _facts_for(rel, text, files[rel].size, files[rel].mtime_ns, overlay=text)
            stats.removed = len(set(previous) - set(files))
            self._publish(files, tuple(sorted(discovery.skipped + skipped, key=lambda s: s.rel)), discovery)
            if stats.parsed or stats.removed or not self.cache_path().exists():
                if shards and not stats.reused and not overlays:
                    # Every file freshly parsed by the workers: their shards are the whole cache.
                    self._save_cache(files, shards)
                elif loaded and not stats.removed and not overlays and len(loaded) < CACHE_MAX_SHARDS:
                    # A few files changed since the cache was written: append them as one more shard
                    # rather than pickle the whole index again (0.14 s on Django, every hook run).
                    fresh = [f for rel, f in files.items() if previous.get(rel) is not f]
                    self._save_cache(files, [*loaded, pickle.dumps(fresh, protocol=pickle.HIGHEST_PROTOCOL)])
                else:  # files were removed (their entries must go), or too many shards: rewrite
                    self._save_cache(files)
            self.last_refresh = stats
            return stats

    def _parse_changed(
        self,
        candidates: list[SourceFile],
        previous: Mapping[str, IndexedFile],
        progress: Progress | None,
        shards: list[bytes],
    ) -> tuple[RefreshStats, dict[str, IndexedFile], list[Skipped]]:
        stats = RefreshStats()
        files: dict[str, IndexedFile] = {}
        todo: list[tuple[str, int, int]] = []
        for sf in candidates:
            old = previous.get(sf.rel)
            if old is not None and old.size == sf.size and old.mtime_ns == sf.mtime_ns:
                files[sf.rel] = old
                stats.reused += 1
            else:
                todo.append((sf.rel, sf.size, sf.mtime_ns))
        skipped: list[Skipped] = []
        total = len(todo)
        for done, result in enumerate(self._parse_many(todo, shards), start=1):
            if isinstance(result, Skipped):
                skipped.append(result)
                stats.skipped += 1
            else:
                files[result.rel] = result
                stats.parsed += 1
            if progress is not None and (done % 64 == 0 or done == total):
                progress(done, total)
        return stats, files, skipped

    def _parse_many(
        self, todo: list[tuple[str, int, int]], shards: list[bytes]
    ) -> Iterable[IndexedFile | Skipped]:
        """Parse ``todo``, in worker processes when it is large; ``shards`` receives the workers'
        pickled results, all of them or none (see ``_save_cache``)."""
        root = str(self.root)
        if len(todo) < PARALLEL_MIN_FILES or PARALLEL_WORKERS < 2:
            for rel, size, mtime in todo:
                yield _parse_file(root, rel, size, mtime)
            return
        # Imported here: multiprocessing costs 15 ms at start-up, which warm runs and small projects skip.
        from concurrent.futures import ProcessPoolExecutor

        chunk = max(16, len(todo) // (PARALLEL_WORKERS * 8))
        chunks = [todo[i : i + chunk] for i in range(0, len(todo), chunk)]
        try:
            with ProcessPoolExecutor(max_workers=PARALLEL_WORKERS) as pool:
                for shard in pool.map(_parse_chunk, [root] * len(chunks), chunks):
                    shards.append(shard)
                    yield from _unpickle_shard(shard)
        except (OSError, RuntimeError):
            # No processes allowed here (some sandboxes): parse in this process instead.
            shards.clear()
            for rel, size, mtime in todo:
                yield _parse_file(root, rel, size, mtime)

    def _publish(
        self, files: dict[str, IndexedFile], skipped: tuple[Skipped, ...], discovery: Discovery
    ) -> None:
        old = self._state
        if old.files:
            changed = {r for r in files.keys() | old.files.keys() if files.get(r) is not old.files.get(r)}
            state = old.evolve(files, changed)
            self._state = replace(state, skipped=skipped, is_git=discovery.is_git)
            return
        derived: dict[str, object] = {"persist": self._persist, **self._seed_derived(files)}
        self._state = IndexState(
            root=self.root,
            files=files,
            skipped=skipped,
            is_git=discovery.is_git,
            version=old.version + 1,
            _derived=derived,
        )

    def refresh(self, paths: Iterable[str | Path] | None = None) -> RefreshStats:
        """Re-stat and re-parse the given files (or everything), dropping deleted ones. Thread-safe.

        Paths may be absolute or root-relative; those outside the root, ignored by git or .assistignore,
        or secret are dropped from the index. ``None`` rescans the whole project.
        """
        if paths is None:
            return self.rescan()
        with self._lock:
            state = self._state
            files = dict(state.files)
            stats = RefreshStats()
            skipped = {s.rel: s for s in state.skipped}
            rels = sorted({r for r in (self.resolve(p) for p in paths) if r is not None})
            allowed = self._allowed(rels)
            for rel in rels:
                old = files.get(rel)
                if rel not in allowed:
                    if files.pop(rel, None) is not None:
                        stats.removed += 1
                    continue
                result = classify(self.root, rel, self.settings.files)
                if isinstance(result, Skipped):
                    skipped[rel] = result
                    if files.pop(rel, None) is not None:
                        stats.removed += 1
                    continue
                if (
                    old is not None
                    and old.overlay is None
                    and (old.size, old.mtime_ns) == (result.size, result.mtime_ns)
                ):
                    stats.reused += 1
                    continue
                parsed = _parse_file(str(self.root), rel, result.size, result.mtime_ns)
                if isinstance(parsed, Skipped):
                    skipped[rel] = parsed
                    files.pop(rel, None)
                    stats.skipped += 1
                    continue
                if old is not None and old.overlay is not None:
                    parsed = _facts_for(rel, old.overlay, parsed.size, parsed.mtime_ns, overlay=old.overlay)
                skipped.pop(rel, None)
                files[rel] = parsed
                stats.parsed += 1
            if stats.parsed or stats.removed or stats.skipped:
                changed = {r for r in rels if files.get(r) is not state.files.get(r)}
                self._state = replace(
                    state.evolve(files, changed), skipped=tuple(sorted(skipped.values(), key=lambda s: s.rel))
                )
                self._schedule_save()
            self.last_refresh = stats
            return stats

    def _allowed(self, rels: list[str]) -> set[str]:
        """Which of ``rels`` git (and .assistignore) would list: one ``git ls-files`` call for all."""
        existing = [r for r in rels if (self.root / r).exists()]
        if not existing:
            return set()
        if not self._state.is_git:
            return {r for r in existing if not ignored_outside_git(self.root, r, self.settings.files)}

        out = subprocess.run(
            ["git", "-C", str(self.root), "ls-files", "-co", "--exclude-standard", "-z", "--", *existing],
            capture_output=True,
            check=False,
        )
        if out.returncode != 0:
            return set(existing)
        listed = {n.decode("utf-8", "surrogateescape") for n in out.stdout.split(b"\0") if n}
        ignores = assist_ignores(self.root, sorted(listed), self.settings.files)
        return {r for r in existing if r in listed and not ignores.matches(r)}

    def update_text(self, rel: str, text: str) -> None:
        """The editor's unsaved text for ``rel`` overrides the disk until ``clear_text``."""
        with self._lock:
            state = self._state
            old = state.files.get(rel)
            if old is not None and old.overlay == text:
                return
            if old is None and not self._may_add(rel):
                return  # a secret or ignored file open in the editor stays out of every prompt
            size, mtime = (old.size, old.mtime_ns) if old is not None else (len(text.encode()), 0)
            files = dict(state.files)
            files[rel] = _facts_for(rel, text, size, mtime, overlay=text)
            self._state = state.evolve(files, {rel})

    def _may_add(self, rel: str) -> bool:
        if not self.settings.files.include_secrets and is_secret_file(rel):
            return False
        return not (self.root / rel).exists() or rel in self._allowed([rel])

    def clear_text(self, rel: str) -> None:
        """Forget the editor's text for ``rel`` (document closed) and go back to the disk."""
        with self._lock:
            old = self._state.files.get(rel)
            if old is None or old.overlay is None:
                return
            files = dict(self._state.files)
            files[rel] = replace(old, overlay=None, mtime_ns=-1)  # force a re-parse from disk
            self._state = self._state.evolve(files, {rel})
        self.refresh([rel])

    def warm(self) -> None:
        """Build the derived tables (definitions, imports, ranking, tokenizer) ahead of the first request.

        A language server calls this in its background thread right after ``open`` so that the first
        completion does not pay for them.
        """
        from assistant.rank import ranked_order
        from assistant.tokens import default_counter

        state = self._state
        state.definers()
        state.importers_of()
        ranked_order(state)
        default_counter().count("warm")

    def read(self, rel: str) -> str:
        """Current text of an indexed file (overlay first); FileAccessError if it cannot be read."""
        entry = self.get(rel)
        if entry is not None and entry.overlay is not None:
            return entry.overlay
        try:
            data = (self.root / rel).read_bytes()
        except OSError as exc:
            raise FileAccessError(f"{rel}: cannot read: {exc.strerror}") from exc
        return decode(data).text
