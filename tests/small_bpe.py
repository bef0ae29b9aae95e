"""A small byte-level BPE vocabulary in GGUF form, trained here, for tokenizer tests.

``train()`` learns merges on a corpus the way BPE training does (most frequent adjacent pair, ties by
first occurrence), over pieces cut by the Qwen2 pre-tokenizer regex, and returns the GGUF tokenizer
metadata that ``/api/show`` (verbose) would report for such a model: ``tokenizer.ggml.model`` "gpt2",
``pre``, ``tokens`` (GPT-2 byte↔unicode strings), ``merges`` ("a b"), ``token_type`` and
``add_bos_token``. ``reference_count`` tokenizes with the textbook algorithm (apply the best-ranked
merge, leftmost on ties, until none applies), independent of the code under test.
"""

from __future__ import annotations

from collections import Counter
from itertools import pairwise
from typing import Any

import regex

QWEN2_PATTERN = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
    r"""|\s*[\r\n]+|\s+(?!\S)|\s+"""
)
SPECIALS = (
    "<|endoftext|>",
    "<|fim_prefix|>",
    "<|fim_suffix|>",
    "<|fim_middle|>",
    "<|im_start|>",
    "<|im_end|>",
)
CORPUS = (
    """
def add(a, b):
    return a + b


class Greeter:
    \"\"\"Say hello to people.\"\"\"

    def __init__(self, name):
        self.name = name

    def greet(self):
        return f"hello {self.name}"


for i in range(10):
    print(add(i, i))
    if i % 2 == 0:
        print("even")
    else:
        print("odd")
# ==========================================
import os
import sys
"""
    * 3
)


def gpt2_bytes_to_unicode() -> dict[int, str]:
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    printable += list(range(ord("®"), ord("ÿ") + 1))
    table = {b: chr(b) for b in printable}
    n = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + n)
            n += 1
    return table


def _to_units(piece: str) -> list[str]:
    table = gpt2_bytes_to_unicode()
    return [table[b] for b in piece.encode("utf-8")]


def train(
    n_merges: int = 300,
    corpus: str = CORPUS,
    *,
    add_bos: bool | None = False,
    pre: str = "qwen2",
    extra_runs: str = " =",
) -> dict[str, Any]:
    """GGUF tokenizer metadata of a BPE trained on ``corpus`` (plus runs of each char in ``extra_runs``)."""
    words = Counter(tuple(_to_units(m.group())) for m in regex.finditer(QWEN2_PATTERN, corpus))
    for ch in extra_runs:
        for n in (2, 4, 8, 16):
            words[tuple(_to_units(ch * n))] += 50
    merges: list[tuple[str, str]] = []
    for _ in range(n_merges):
        pairs: Counter[tuple[str, str]] = Counter()
        for word, freq in words.items():
            for a, b in pairwise(word):
                pairs[(a, b)] += freq
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: kv[1])[0]
        merges.append(best)
        merged: Counter[tuple[str, ...]] = Counter()
        for word, freq in words.items():
            out: list[str] = []
            i = 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(word[i] + word[i + 1])
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            merged[tuple(out)] += freq
        words = merged
    table = gpt2_bytes_to_unicode()
    tokens = [table[b] for b in range(256)]
    seen = set(tokens)
    for a, b in merges:
        if a + b not in seen:
            tokens.append(a + b)
            seen.add(a + b)
    types = [1] * len(tokens)
    tokens += list(SPECIALS)
    types += [3] * len(SPECIALS)
    info: dict[str, Any] = {
        "tokenizer.ggml.model": "gpt2",
        "tokenizer.ggml.pre": pre,
        "tokenizer.ggml.tokens": tokens,
        "tokenizer.ggml.merges": [f"{a} {b}" for a, b in merges],
        "tokenizer.ggml.token_type": types,
        "tokenizer.ggml.bos_token_id": len(tokens) - len(SPECIALS),
        "tokenizer.ggml.eos_token_id": len(tokens) - len(SPECIALS),
    }
    if add_bos is not None:
        info["tokenizer.ggml.add_bos_token"] = add_bos
    return info


def reference_count(info: dict[str, Any], text: str, specials: tuple[str, ...] | None = None) -> int:
    """Textbook BPE count (best merge first, leftmost on ties) with whole special tokens; no BOS."""
    rank = {tuple(m.split(" ", 1)): i for i, m in enumerate(info["tokenizer.ggml.merges"])}
    if specials is None:
        specials = tuple(
            t
            for t, k in zip(info["tokenizer.ggml.tokens"], info["tokenizer.ggml.token_type"], strict=True)
            if k in (3, 4)
        )
    total = 0
    parts = [text]
    if specials:
        alternation = "(" + "|".join(regex.escape(s) for s in sorted(specials, key=len, reverse=True)) + ")"
        parts = regex.split(alternation, text)
    for part in parts:
        if not part:
            continue
        if part in specials:
            total += 1
            continue
        for m in regex.finditer(QWEN2_PATTERN, part):
            units = _to_units(m.group())
            while len(units) > 1:
                candidates = [(rank[(a, b)], i) for i, (a, b) in enumerate(pairwise(units)) if (a, b) in rank]
                if not candidates:
                    break
                _, i = min(candidates)
                units[i : i + 2] = [units[i] + units[i + 1]]
            total += len(units)
    return total
