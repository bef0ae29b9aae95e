"""Parse speed of ``assistant.syntax`` on a real corpus (not a test: prints numbers and ratios).

Measures, over every file of the corpus whose language we parse (as ``git ls-files`` lists them):

* raw tree-sitter: ``Parser.parse`` only, the floor no extraction can beat;
* ``parse_source`` alone, and ``parse_source`` + ``outline`` on the same thread (the index's pattern:
  the outline reuses the tree and query captures memoised by ``parse_source``);
* the same with 2 threads and with 2 processes. py-tree-sitter holds the GIL while parsing and
  querying (tree-sitter/py-tree-sitter#111: its allocator hooks need the GIL), so threads cannot
  speed it up; processes can.

Wall and CPU seconds are both printed. On the shared 2-core box CPU seconds are the stable number;
for processes they include the workers' CPU, so compare their *wall* time with one thread's.

Usage: ``.venv/bin/python bench/syntax_bench.py [django|requests|fastapi|PATH] [--repeat N]``
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from assistant.syntax import language_for, outline, parse_source
from assistant.syntax.languages import parser, tools
from assistant.syntax.tags import detect_language

WORKERS = 2
CHUNK = 32


def corpus_files(root: Path) -> list[tuple[str, str]]:
    if (root / ".git").exists():
        out = subprocess.run(["git", "ls-files", "-z"], cwd=root, check=True, capture_output=True).stdout
        paths = sorted(p for p in out.decode().split("\0") if p)
    else:
        paths = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    files = []
    for rel in paths:
        if language_for(rel) is None:
            continue
        data = (root / rel).read_bytes()
        if b"\0" in data[:8192]:
            continue
        files.append((rel, data.decode("utf-8", "replace")))
    return files


def raw_parse(item: tuple[str, str]) -> int:
    rel, text = item
    language = detect_language(rel, text)
    assert language is not None
    return parser(language).parse(text.encode("utf-8", "surrogatepass")).root_node.child_count


def facts_only(item: tuple[str, str]) -> int:
    return len(parse_source(*item).definitions)


def facts_and_outline(item: tuple[str, str]) -> int:
    rel, text = item
    return len(outline(text, parse_source(rel, text)))


def cpu_seconds() -> float:
    """CPU time of this process and its finished children: on a shared machine it moves far less
    than wall time, which counts the time other people's jobs held the cores."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def best_of(repeat: int, run: Callable[[], object]) -> tuple[float, float]:
    """(best wall seconds, best CPU seconds) over ``repeat`` runs."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), cpu_seconds()
        run()
        walls.append(time.perf_counter() - wall)
        cpus.append(cpu_seconds() - cpu)
    return min(walls), min(cpus)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="?", default="django")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    path = Path(args.corpus)
    if not path.exists():
        from corpora import corpus_path

        path = corpus_path(args.corpus)
    files = corpus_files(path)
    size = sum(len(text.encode("utf-8", "surrogatepass")) for _, text in files)
    languages = sorted({detect_language(rel, text) or "" for rel, text in files})
    for language in languages:
        tools(language)  # grammar loading and query compilation are start-up costs, not parse costs
    print(f"corpus {path}: {len(files)} parsable files, {size / 1e6:.1f} MB, languages", ", ".join(languages))

    def serial(fn: Callable[[tuple[str, str]], int]) -> Callable[[], object]:
        return lambda: [fn(item) for item in files]

    def threaded(fn: Callable[[tuple[str, str]], int]) -> Callable[[], object]:
        def run() -> object:
            with ThreadPoolExecutor(WORKERS) as pool:
                return list(pool.map(fn, files))

        return run

    def processes(fn: Callable[[tuple[str, str]], int]) -> Callable[[], object]:
        def run() -> object:
            with ProcessPoolExecutor(WORKERS) as pool:
                return list(pool.map(fn, files, chunksize=CHUNK))

        return run

    rows = [
        ("tree-sitter parse only, 1 thread", best_of(args.repeat, serial(raw_parse))),
        ("parse_source, 1 thread", best_of(args.repeat, serial(facts_only))),
        ("parse_source + outline, 1 thread", best_of(args.repeat, serial(facts_and_outline))),
        (f"parse_source + outline, {WORKERS} threads", best_of(args.repeat, threaded(facts_and_outline))),
        (f"parse_source + outline, {WORKERS} processes", best_of(args.repeat, processes(facts_and_outline))),
    ]
    floor = rows[0][1][1]
    print(f"  {'':40} {'wall':>8} {'CPU':>8} {'files/CPU-s':>12} {'MB/CPU-s':>9}  CPU vs raw parse")
    for name, (wall, cpu) in rows:
        print(
            f"  {name:40} {wall:7.2f}s {cpu:7.2f}s {len(files) / cpu:12.0f} {size / 1e6 / cpu:9.1f}  "
            f"x{cpu / floor:.2f}"
        )
    chars = sum(len(text) for _, text in files)
    outline_chars = sum(facts_and_outline(item) for item in files)
    print(f"  outline size: {outline_chars / chars:.1%} of the source characters")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak RSS (this process): {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
