"""How much time does `assist review` itself take, apart from the model?

Target (issue 3): reviewing the `requests` sdist against a zero-latency Ollama-compatible server, our own
overhead (everything but the model) is at most 1 s cold and 0.3 s warm.

Setup: the test suite's Ollama-compatible server (`tests/ollama_fake.py`) runs in this process on
127.0.0.1 with the analysis model (num_ctx 32768, num_predict 4096, Qwen template). It answers every
review pass at once with an empty findings list, and counts prompt tokens with a trivial length/4
function so that its own work stays negligible: the measured wall time is then (almost) all ours —
process start, imports, file discovery, tree-sitter parsing, token counting, packing, HTTP round trips,
validation and rendering.

Measured:
* ``process cold``: `assist review .` as a fresh process with an empty cache dir (no index cache);
* ``process warm``: the same command again (the index cache on disk is reused);
* ``in-process cold`` / ``in-process warm``: `assistant.cli.main([...])` called twice in one process (the
  second run has modules, encodings and the index cache loaded: the cost an editor or a daemon pays);
* ``startup``: `assist --version` as a process, for scale.

Run: ``.venv/bin/python bench/review_bench.py [--corpus requests] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(BENCH_DIR))

from corpora import prepare  # noqa: E402
from ollama_fake import QWEN_TEMPLATE, OllamaFake  # noqa: E402

ASSIST = [sys.executable, "-m", "assistant.cli"]
TARGET_COLD_S = 1.0
TARGET_WARM_S = 0.3


def _env(url: str, cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSIST_", "OLLAMA_"))}
    env.update(OLLAMA_HOST=url, ASSIST_CACHE_DIR=str(cache), XDG_CONFIG_HOME=str(cache / "config"))
    return env


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed_process(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run. CPU time is what the run itself costs; on a machine shared with
    other work the wall time also holds the waits for a core."""
    cpu = _children_cpu()
    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if out.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({out.returncode}): {out.stderr.strip()}")
    return elapsed, _children_cpu() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default="requests")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    corpus = prepare(args.corpus)

    with OllamaFake(counter=lambda text: len(text) // 4) as fake:
        fake.add_model(
            "assist-coder", num_ctx=32768, num_predict=4096, template=QWEN_TEMPLATE, stop=("<|im_end|>",)
        )
        review = [*ASSIST, "review", ".", "--format", "json", "-o", os.devnull]

        startup: list[tuple[float, float]] = []
        cold: list[tuple[float, float]] = []
        warm: list[tuple[float, float]] = []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                env = _env(fake.url, Path(tmp))
                startup.append(_timed_process([*ASSIST, "--version"], corpus, env))
                before = len(fake.requests_to("/api/generate"))
                cold.append(_timed_process(review, corpus, env))
                passes = len(fake.requests_to("/api/generate")) - before
                warm.append(_timed_process(review, corpus, env))

        # In-process: the second call reuses loaded modules, encodings and the on-disk index cache.
        from assistant.cli import main as assist_main

        in_cold: list[tuple[float, float]] = []
        in_warm: list[tuple[float, float]] = []
        old_cwd = Path.cwd()
        saved_env = dict(os.environ)
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                os.environ.clear()
                os.environ.update(_env(fake.url, Path(tmp)))
                os.chdir(corpus)
                try:
                    for bucket in (in_cold, in_warm):
                        sink = io.StringIO()
                        start, cpu = time.perf_counter(), time.thread_time()
                        with contextlib.redirect_stderr(sink):
                            code = assist_main(["review", ".", "--format", "json", "-o", os.devnull])
                        # thread_time: this thread only, so the test server's threads are not counted.
                        bucket.append((time.perf_counter() - start, time.thread_time() - cpu))
                        if code not in (0, 1):
                            raise SystemExit(f"in-process review failed ({code}): {sink.getvalue().strip()}")
                finally:
                    os.chdir(old_cwd)
                    os.environ.clear()
                    os.environ.update(saved_env)

    files = subprocess.run(
        ["git", "-C", str(corpus), "ls-files"], capture_output=True, text=True
    ).stdout.split()

    def row(name: str, values: list[tuple[float, float]], target: float | None) -> str:
        wall = statistics.median(v[0] for v in values)
        cpu = statistics.median(v[1] for v in values)
        ratio = f"{wall / target:.2f} / {cpu / target:.2f}" if target else ""
        lo = min(v[0] for v in values)
        return f"| {name} | {wall:.3f} | {lo:.3f} | {cpu:.3f} | {ratio} |"

    load = os.getloadavg()[0]
    print(
        f"corpus {corpus.name}: {len(files)} tracked files; {passes} review pass(es) per run; "
        f"n={args.repeat}; load average {load:.1f} on {os.cpu_count()} cores"
    )
    print("| run | wall median s | wall min s | CPU median s | ÷ target (wall / CPU) |")
    print("| --- | ---: | ---: | ---: | --- |")
    print(row("startup (`assist --version`)", startup, None))
    print(row("process cold (empty cache)", cold, TARGET_COLD_S))
    print(row("process warm (index cache)", warm, TARGET_WARM_S))
    print(row("in-process, empty cache", in_cold, TARGET_COLD_S))
    print(row("in-process, again (warm)", in_warm, TARGET_WARM_S))
    return 0


if __name__ == "__main__":
    sys.exit(main())
