"""Editor settings → core settings (lsp.options): the VS Code extension's object, bad values never fatal."""

from __future__ import annotations

from pathlib import Path

import pytest

from lsp.options import EditorOptions, effective_settings, language_enabled, parse_options

FULL = {
    "ollamaHost": "gpu1:11434",
    "ollamaHeaders": {"Authorization": "Bearer t"},
    "completion": {
        "enable": False,
        "model": "qwen3-coder:30b",
        "debounceMs": 80,
        "maxTokens": 64,
        "contextTokens": 2048,
        "languages": {"markdown": False, "*": True},
    },
    "analysis": {"model": "assist-coder-70b"},
    "timeoutSeconds": 12.5,
}


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with no config files anywhere and a clean environment."""
    monkeypatch.setenv("ASSIST_CONFIG", str(tmp_path / "no-user-config.toml"))
    project = tmp_path / "project"
    project.mkdir()
    return project


def test_every_key_maps_onto_the_core_settings(isolated: Path) -> None:
    options, warnings = parse_options(FULL)
    assert warnings == []
    settings, more = effective_settings(isolated, options, environ={})
    assert more == []
    assert settings.ollama.host == "gpu1:11434"
    assert settings.hosts("completion") == ["http://gpu1:11434"]
    assert settings.hosts("analysis") == ["http://gpu1:11434"]
    assert settings.ollama.headers == {"Authorization": "Bearer t"}
    assert settings.completion.enabled is False
    assert settings.role("completion").model == "qwen3-coder:30b"
    assert settings.completion.debounce_ms == 80
    assert settings.completion.max_tokens == 64
    assert settings.completion.context_tokens == 2048
    assert settings.completion.languages == {"*": True, "markdown": False}
    assert settings.role("analysis").model == "assist-coder-70b"
    assert settings.ollama.first_token_timeout == 12.5


@pytest.mark.parametrize(
    "payload",
    [FULL, {"assist": FULL}, {"settings": {"assist": FULL}}],
    ids=["object", "section", "didChangeConfiguration"],
)
def test_the_object_is_found_in_every_wrapping(payload: object) -> None:
    options, warnings = parse_options(payload)
    assert warnings == []
    assert options.completion.model == "qwen3-coder:30b"


def test_empty_strings_and_missing_keys_leave_config_and_env_in_charge(isolated: Path) -> None:
    (isolated / ".assist.toml").write_text(
        '[completion]\ndebounce_ms = 222\n[roles.completion]\nmodel = "from-toml"\n'
    )
    options, warnings = parse_options({"ollamaHost": "", "completion": {"model": "", "debounceMs": ""}})
    assert warnings == []
    assert options.overrides() == {}
    settings, _ = effective_settings(isolated, options, environ={"ASSIST_ANALYSIS_MODEL": "from-env"})
    assert settings.completion.debounce_ms == 222
    assert settings.role("completion").model == "from-toml"
    assert settings.role("analysis").model == "from-env"


def test_nothing_sent_gives_the_defaults(isolated: Path) -> None:
    options, warnings = parse_options(None)
    assert (options, warnings) == (EditorOptions(), [])
    settings, more = effective_settings(isolated, options, environ={})
    assert more == []
    assert settings.completion.debounce_ms == 150
    assert settings.role("completion").model == "assist-completion"


def test_bad_values_warn_per_key_and_the_rest_still_applies() -> None:
    options, warnings = parse_options(
        {
            "ollamaHost": 5,
            "completion": {
                "debounceMs": -3,
                "maxTokens": "many",
                "enable": "yes",
                "model": "ok-model",
                "x": 1,
            },
            "analysis": [],
            "timeoutSeconds": 0,
            "colour": "blue",
        }
    )
    assert options.completion.model == "ok-model"
    assert options.ollama_host == ""
    assert options.completion.debounce_ms is None
    joined = "\n".join(warnings)
    for key in (
        "assist.ollamaHost",
        "assist.completion.debounceMs",
        "assist.completion.maxTokens",
        "assist.completion.enable",
        "assist.completion.x",
        "assist.analysis",
        "assist.timeoutSeconds",
        "assist.colour",
    ):
        assert key in joined
    assert len(warnings) == 8


def test_not_an_object_at_all() -> None:
    options, warnings = parse_options(["nope"])
    assert options == EditorOptions()
    assert warnings == ["assist settings: expected an object, got list; using defaults"]


def test_integers_from_javascript_floats() -> None:
    options, warnings = parse_options({"completion": {"debounceMs": 120.0}})
    assert (options.completion.debounce_ms, warnings) == (120, [])


def test_a_host_the_core_rejects_falls_back_to_config(isolated: Path) -> None:
    options, warnings = parse_options({"ollamaHost": "ftp://x", "completion": {"model": "m"}})
    assert warnings == []
    settings, more = effective_settings(isolated, options, environ={})
    assert len(more) == 1 and "scheme must be http or https" in more[0]
    assert settings.ollama.host == "http://127.0.0.1:11434"


def test_a_broken_project_config_falls_back_to_defaults(isolated: Path) -> None:
    (isolated / ".assist.toml").write_text("[completion\n")
    settings, more = effective_settings(isolated, EditorOptions(), environ={})
    assert settings.completion.debounce_ms == 150
    assert any("not valid TOML" in w for w in more)


def test_language_switches(isolated: Path) -> None:
    options, _ = parse_options({"completion": {"languages": {"markdown": False, "*": False, "python": True}}})
    settings, _ = effective_settings(isolated, options, environ={})
    assert language_enabled(settings, "python") is True
    assert language_enabled(settings, "markdown") is False
    assert language_enabled(settings, "go") is False
    options, _ = parse_options({})
    settings, _ = effective_settings(isolated, options, environ={})
    assert language_enabled(settings, "go") is True
