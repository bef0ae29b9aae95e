"""Fixtures shared by the whole suite. Keep this small: one fixture per generic need.

Test modules import the stand-in server as ``from ollama_fake import OllamaFake, Reply`` (this folder is
put on ``sys.path`` here, whatever pytest's import mode).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_TESTS_DIR = str(Path(__file__).resolve().parent)
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

from ollama_fake import OllamaFake  # noqa: E402


@pytest.fixture
def ollama_fake() -> Iterator[OllamaFake]:
    """A fresh Ollama-compatible server on 127.0.0.1 (no models until ``add_model``); closed afterwards."""
    with OllamaFake() as fake:
        yield fake


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never read the developer's config or write into their cache; no inherited model settings."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    for name in (
        "ASSIST_CONFIG",
        "ASSIST_CACHE_DIR",
        "OLLAMA_HOST",
        "ASSIST_TIMEOUT",
        "ASSIST_BUDGET",
        "ASSIST_COMPLETION_MODEL",
        "ASSIST_ANALYSIS_MODEL",
        "ASSIST_OLLAMA_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
