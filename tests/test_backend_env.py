"""Environment variables and flags reach the backend the same way from every entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ollama_fake import OllamaFake, Reply

from assistant.backend import Backend
from assistant.cli import main
from assistant.config import load_settings
from assistant.errors import BackendTimeout


async def test_environment_sets_host_model_timeout_and_token(ollama_fake: OllamaFake, tmp_path: Path) -> None:
    ollama_fake.add_model("team-coder", num_ctx=4096)
    ollama_fake.token = "tok3n"
    hostport = ollama_fake.url.removeprefix("http://")  # OLLAMA_HOST is often written without a scheme
    environ = {
        "OLLAMA_HOST": hostport,
        "ASSIST_ANALYSIS_MODEL": "team-coder",
        "ASSIST_TIMEOUT": "1.5",
        "ASSIST_OLLAMA_TOKEN": "tok3n",
        "ASSIST_CACHE_DIR": str(tmp_path / "cache"),
    }
    settings = load_settings(None, environ=environ, user_config=tmp_path / "none.toml")
    backend = Backend(settings, "analysis")
    try:
        assert backend.model == "team-coder"
        assert backend.hosts == [ollama_fake.url]
        assert backend.first_token_timeout == 1.5
        assert (await backend.generate("hi")).done
        ollama_fake.script(Reply("slow", first_byte_delay=30))
        with pytest.raises(BackendTimeout):
            await backend.generate("again")
    finally:
        await backend.aclose()
    assert all(r.headers.get("authorization") == "Bearer tok3n" for r in ollama_fake.requests)


def test_cli_flags_override_the_environment(
    ollama_fake: OllamaFake, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ollama_fake.add_model("flag-coder", num_ctx=4096)
    ollama_fake.add_model("env-completion", num_ctx=8192, capabilities=("completion", "insert"))
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("ASSIST_ANALYSIS_MODEL", "env-coder")
    monkeypatch.setenv("ASSIST_COMPLETION_MODEL", "env-completion")
    code = main(["doctor", "--quick", "--json", "--host", ollama_fake.url, "--model", "flag-coder"])
    checks = json.loads(capsys.readouterr().out)
    models = {c["subject"] for c in checks if c["check"] == "model"}
    assert models == {
        f"completion model env-completion @ {ollama_fake.url}",
        f"analysis model flag-coder @ {ollama_fake.url}",
    }
    assert code == 0, checks
