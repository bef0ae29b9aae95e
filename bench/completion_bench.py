"""Completion latency of ``assist-lsp`` on a real project, against a zero-latency Ollama-compatible server.

What it measures (targets from issue 4):

* **overhead** of one inline completion with a warm index: the time from the client sending
  ``textDocument/inlineCompletion`` to receiving the answer, while "typing" lines of a Django file one
  character at a time (a ``didChange`` and an automatic inline request per keystroke, debounce 0 so the
  deliberate wait is not counted). The model server answers instantly (``tests/ollama_fake.py``, no
  delays), so model time is ~0 and the figure is an upper bound of what the server adds: it includes the
  JSON-RPC round trip over stdio and the HTTP round trip to the test server. Target p50 ≤ 10 ms,
  p99 ≤ 30 ms. The server's own figure (``assist/status`` ``latencyMs``, request in → response out) is
  reported too.
* **first completion after start**: spawn the server, initialize, open the file, ask once; measured from
  ``initialized`` (the editor is ready) and from the process spawn. Cold (no disk cache) and warm (the
  index cache from the cold run). Target ≤ 1 s.
* **prefix sharing**: for consecutive prompts while typing, the common prefix (bytes) over the prompt's
  length — what Ollama can reuse from its KV cache. Target ≥ 90 %.
* **memory**: resident set size of the server process with the whole project indexed (VmRSS, and the
  peak VmHWM). Target ≤ 300 MB.

Run (the Django corpus comes from ``bench/corpora.py``)::

    .venv/bin/python bench/completion_bench.py [--corpus bench/.work/corpora/django-5.2.8] [--lines 6]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "tests"))

from lsp_harness import Session, server_env, start_session, stop_session  # noqa: E402
from ollama_fake import OllamaFake  # noqa: E402

DEFAULT_CORPUS = BENCH / ".work" / "corpora" / "django-5.2.8"
TARGET_FILE = "django/db/models/query.py"
# Where the typing happens: after the line that starts the body of QuerySet.filter().
ANCHOR = "    def filter(self, *args, **kwargs):"
TYPED_LINES = [
    "qs = self._chain()",
    "if args and not kwargs: return self._filter_or_exclude(False, args, {})",
    "clone = self._filter_or_exclude(negate=False, args=args, kwargs=kwargs)",
    "self._not_support_combined_queries('filter')",
    "return clone.distinct() if kwargs.get('distinct') else clone",
    "assert not self.query.is_sliced, 'Cannot filter a query once a slice has been taken.'",
    "for key, value in kwargs.items(): self._validate_values_are_expressions((value,), key)",
    "query = self.query.chain(); query.add_q(Q(*args, **kwargs)); return self._chain(query=query)",
]
OPTIONS = {"completion": {"debounceMs": 0}}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def common_prefix(a: bytes, b: bytes) -> int:
    """Length of the common leading bytes (the part of the prompt Ollama can reuse from its KV cache)."""
    n = min(len(a), len(b))
    lo, hi = 0, n
    while lo < hi:  # binary search on slices: fast for long prompts
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def rss_mb(pid: int) -> tuple[float, float]:
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


async def wait_indexed(session: Session, timeout: float = 600.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for m in session.client.log_messages:
            if m.message.startswith("assist: indexed"):
                return m.message
        await asyncio.sleep(0.05)
    raise RuntimeError("the server never reported its index")


async def first_completion(
    corpus: Path, env: dict[str, str], text: str, line: int, col: int
) -> dict[str, Any]:
    spawned = time.perf_counter()
    session = await start_session(corpus, env, options=OPTIONS)
    initialized = time.perf_counter()
    try:
        uri = session.open(TARGET_FILE, text)
        result = await session.inline(uri, line, col)
        done = time.perf_counter()
        assert result is not None and result.items, "no completion"
        indexed = await wait_indexed(session)
        return {
            "from_initialized_ms": (done - initialized) * 1000,
            "from_spawn_ms": (done - spawned) * 1000,
            "indexed": indexed,
        }
    finally:
        await stop_session(session)


def anchor_position(text: str) -> tuple[int, int, str]:
    """(line, column, indentation) of the first line of ANCHOR's body after its docstring (0-based)."""
    lines = text.split("\n")
    i = lines.index(ANCHOR)
    j = i + 1
    if lines[j].strip().startswith('"""'):
        one_line = lines[j].strip().endswith('"""') and len(lines[j].strip()) > 3
        if not one_line:
            j += 1
            while '"""' not in lines[j]:
                j += 1
    return j + 1, 8, " " * 8


async def typing_run(
    corpus: Path, env: dict[str, str], text: str, n_lines: int, fake: OllamaFake
) -> dict[str, Any]:
    session = await start_session(corpus, env, options=OPTIONS)
    try:
        indexed = await wait_indexed(session)
        await session.wait_status(lambda st: st["state"] == "ready")
        uri = session.open(TARGET_FILE, text)
        line, _, indent = anchor_position(text)
        # Warm-up: one request so the first measured one does not pay for lazy imports.
        await session.inline(uri, line, 0)
        client_ms: list[float] = []
        server_ms: list[float] = []
        shares: list[float] = []
        model_bodies: list[dict[str, Any] | None] = []
        first_request = len(fake.requests_to("/api/generate"))
        for typed in TYPED_LINES[:n_lines]:
            session.insert(uri, line, 0, indent + "\n")
            col = len(indent)
            prompts_before = len(fake.requests_to("/api/generate"))
            for ch in typed:
                session.insert(uri, line, col, ch)
                col += 1
                seen = len(session.statuses)
                calls = len(fake.requests_to("/api/generate"))
                t0 = time.perf_counter()
                await session.inline(uri, line, col, invoked=False)
                client_ms.append((time.perf_counter() - t0) * 1000)
                status = await session.wait_status(lambda st: st["latencyMs"] is not None, after=seen)
                server_ms.append(float(status["latencyMs"]))
                bodies = [r.body for r in fake.requests_to("/api/generate")[calls:]]
                model_bodies.append(bodies[-1] if bodies else None)
            prompts = [r.body["prompt"].encode() for r in fake.requests_to("/api/generate")[prompts_before:]]
            for a, b in itertools.pairwise(prompts):
                shares.append(common_prefix(a, b) / len(b))
            line += 1
        generated = len(fake.requests_to("/api/generate")) - first_request
        rss, hwm = rss_mb(session.client._server.pid)  # type: ignore[union-attr]
        last_prompt = fake.requests_to("/api/generate")[-1].body["prompt"]
        return {
            "indexed": indexed,
            "requests": len(client_ms),
            "model_calls": generated,
            "client_ms": client_ms,
            "server_ms": server_ms,
            "model_bodies": model_bodies,
            "shares": shares,
            "rss_mb": rss,
            "hwm_mb": hwm,
            "prompt_chars": len(last_prompt),
            "context_files": last_prompt.count("<|file_sep|>") - 1,
        }
    finally:
        await stop_session(session)


async def replay_model_time(url: str, tmp: Path, bodies: list[dict[str, Any] | None]) -> list[float]:
    """Model time per request: the same ``/api/generate`` calls again, through our own backend client,
    against the same zero-latency server (0 where a request was answered without the model)."""
    from assistant.backend import Backend
    from assistant.config import load_settings

    settings = load_settings(None, environ={"OLLAMA_HOST": url}, user_config=tmp / "none.toml")
    out: list[float] = []
    async with Backend(settings, "completion") as backend:
        await backend.info()
        for body in bodies:
            if body is None:
                out.append(0.0)
                continue
            t0 = time.perf_counter()
            await backend.generate(
                body["prompt"],
                raw=body.get("raw", False),
                suffix=body.get("suffix"),
                options={"stop": body["options"]["stop"]},
                num_predict=body["options"]["num_predict"],
            )
            out.append((time.perf_counter() - t0) * 1000)
    return out


def summary(values: list[float]) -> str:
    return (
        f"p50 {percentile(values, 50):.1f}  p90 {percentile(values, 90):.1f}  "
        f"p99 {percentile(values, 99):.1f}  max {max(values):.1f}  (n={len(values)})"
    )


async def main_async(args: argparse.Namespace) -> int:
    corpus = Path(args.corpus).resolve()
    text = (corpus / TARGET_FILE).read_text()
    line, _, _ = anchor_position(text)
    with OllamaFake() as fake, tempfile.TemporaryDirectory(prefix="assist-bench-") as tmp:
        fake.add_model("assist-completion")
        fake.add_model("assist-coder")
        env = server_env(Path(tmp), fake.url)
        cold = await first_completion(corpus, env, text, line - 1, 8)
        warm = await first_completion(corpus, env, text, line - 1, 8)
        typing = await typing_run(corpus, env, text, args.lines, fake)
        model_ms = await replay_model_time(fake.url, Path(tmp), typing.pop("model_bodies"))
        typing["model_ms"] = model_ms
        typing["overhead_ms"] = [max(0.0, s - m) for s, m in zip(typing["server_ms"], model_ms, strict=True)]

    print(f"corpus: {corpus.name}; file {TARGET_FILE}; {typing['indexed']}")
    print(
        f"first completion, cold cache:  {cold['from_initialized_ms']:.0f} ms after initialized "
        f"({cold['from_spawn_ms']:.0f} ms after spawn); {cold['indexed']}"
    )
    print(
        f"first completion, warm cache:  {warm['from_initialized_ms']:.0f} ms after initialized "
        f"({warm['from_spawn_ms']:.0f} ms after spawn); {warm['indexed']}"
    )
    print(
        f"typing {args.lines} lines char by char: {typing['requests']} requests, "
        f"{typing['model_calls']} model calls"
    )
    print(f"  client round trip (ms):        {summary(typing['client_ms'])}")
    print(f"  server request→response (ms):  {summary(typing['server_ms'])}")
    print(f"  model time, replayed (ms):     {summary(typing['model_ms'])}")
    print(f"  overhead = server − model (ms): {summary(typing['overhead_ms'])}")
    shares = typing["shares"]
    print(
        f"  common prefix of consecutive prompts: min {min(shares) * 100:.1f} %  "
        f"p10 {percentile(shares, 10) * 100:.1f} %  median {statistics.median(shares) * 100:.1f} %  "
        f"mean {statistics.mean(shares) * 100:.1f} %  (n={len(shares)})"
    )
    print(f"  prompt: {typing['prompt_chars']} chars, {typing['context_files']} cross-file items")
    print(f"server memory: RSS {typing['rss_mb']:.0f} MB, peak {typing['hwm_mb']:.0f} MB")
    if args.json:
        Path(args.json).write_text(json.dumps({"cold": cold, "warm": warm, "typing": typing}, indent=1))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS), help="project folder (a git work tree)")
    parser.add_argument("--lines", type=int, default=6, help="how many lines to type (max %(default)s+2)")
    parser.add_argument("--json", help="also write the raw samples here")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
