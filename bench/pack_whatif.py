"""What-if measurements for the packer's two missed targets, on Django with a warm in-process index.

Not a test and not product code: it measures the current code, then the same calls with proposed fixes
applied *in this process only* (by wrapping module functions), so the owner of ``assistant/pack.py`` and
``assistant/index.py`` can see what each fix buys before making it. Every variant asserts that prompts
and packs stay within budget and that the packed text is byte-identical to the unpatched result.

Fixes tried, cumulatively:
1. ``ProjectIndex._save_cache`` not run on every ``refresh`` (the whole index is pickled per refresh);
2. ``pack._fit_lines`` memoised by (text, budget, counter) — it re-counts a growing outline ~8 times per
   map file per request (binary search), the dominant cost of ``assist context``;
3. ``secrets.redact`` of full file texts memoised by text (``_upgrade_to_full`` redacts every candidate
   file on every pack).

    .venv/bin/python bench/pack_whatif.py [--corpus django] [--cursors 200] [--changes 7]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpora
from pack_bench import CHANGED_FILE, fresh_copy


def _memo(fn: Callable[..., str], key: Callable[..., object]) -> Callable[..., str]:
    cache: dict[object, str] = {}

    def wrapped(*args: object) -> str:
        k = key(*args)
        hit = cache.get(k)
        if hit is None:
            hit = cache[k] = fn(*args)
        return hit

    return wrapped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="django")
    parser.add_argument("--cursors", type=int, default=200)
    parser.add_argument("--changes", type=int, default=7)
    args = parser.parse_args()

    import assistant.pack as pack_mod
    import assistant.secrets as secrets_mod
    from assistant.config import load_settings
    from assistant.fim import build_completion_prompt, family_for
    from assistant.index import ProjectIndex
    from assistant.pack import CursorFocus, PathsFocus, pack_and_render
    from assistant.tokens import default_counter

    corpora.corpus_path(args.corpus)
    root = fresh_copy(args.corpus, "whatif")
    cache = tempfile.mkdtemp(prefix="assist-whatif-", dir=corpora.WORK_DIR)
    settings = load_settings(root, overrides={"cache_dir": cache}, environ={})
    index = ProjectIndex.open(root, settings)
    index.warm()
    counter = default_counter()
    family = family_for(settings.role("completion").model)
    budget = settings.completion.context_tokens
    rng = random.Random(0)
    py = [r for r in index.files() if r.endswith(".py")]
    cursors = []
    while len(cursors) < args.cursors:
        rel = rng.choice(py)
        lines = index.read(rel).split("\n")
        line = rng.randrange(len(lines))
        cursors.append(CursorFocus(rel, line, rng.randrange(len(lines[line]) + 1)))
    focus = PathsFocus((".",))
    changed = root / CHANGED_FILE[args.corpus]
    reference = pack_and_render(index, focus, 32768, counter)[1]
    edits = [0]

    def context_ms() -> tuple[float, float]:
        times = []
        for c in cursors:
            t0 = time.perf_counter()
            prompt = build_completion_prompt(index, c, budget, counter, family, repo_name=root.name)
            times.append(time.perf_counter() - t0)
            assert prompt.tokens <= prompt.budget
        times.sort()
        return statistics.median(times) * 1000, times[int(0.9 * (len(times) - 1))] * 1000

    def repack_s() -> tuple[float, float]:
        refresh, repack = [], []
        for _ in range(args.changes):
            edits[0] += 1
            with changed.open("a", encoding="utf-8") as fh:
                fh.write(f"\n\ndef _whatif_{edits[0]}(v):\n    return v\n")
            t0 = time.perf_counter()
            index.refresh([changed])
            t1 = time.perf_counter()
            p, _text = pack_and_render(index, focus, 32768, counter)
            refresh.append(t1 - t0)
            repack.append(time.perf_counter() - t1)
            assert p.tokens <= 32768
        return statistics.median(refresh), statistics.median(repack)

    def report(label: str) -> None:
        p50, p90 = context_ms()
        r, k = repack_s()
        print(f"| {label} | {p50:.1f} | {p90:.1f} | {r:.3f} | {k:.3f} | {r + k:.3f} |")

    print(f"# what-if on {args.corpus}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print("| variant | context p50 ms | context p90 ms | refresh s | re-pack s | refresh + re-pack s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    report("as committed")
    ProjectIndex._save_cache = lambda self, *a, **k: None  # type: ignore[method-assign]
    report("+ no index pickle per refresh")
    pack_mod._fit_lines = _memo(pack_mod._fit_lines, lambda text, b, c: (text, b, c.name))
    report("+ memoised _fit_lines")
    pack_mod.redact = _memo(secrets_mod.redact, lambda text: text)
    report("+ memoised redaction of full texts")
    # identical output: re-pack a fresh copy with all fixes and compare with the unpatched reference
    root2 = fresh_copy(args.corpus, "whatif")
    index2 = ProjectIndex.open(root2, load_settings(root2, overrides={"cache_dir": cache}, environ={}))
    same = pack_and_render(index2, focus, 32768, counter)[1] == reference
    print(f"\npacked text identical to the unpatched packer's: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
