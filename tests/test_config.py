from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import cache_dir, load_settings, normalize_host
from assistant.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_any_file(tmp_path: Path) -> None:
    s = load_settings(tmp_path, environ={})
    assert s.ollama.host == "http://127.0.0.1:11434"
    assert s.role("analysis").model == "assist-coder"
    assert s.sources == ["defaults"]


def test_layers_in_order(tmp_path: Path) -> None:
    user = write(tmp_path / "user.toml", '[pack]\nbudget = 1000\n[roles.analysis]\nmodel = "user-model"\n')
    project = tmp_path / "proj"
    write(project / ".assist.toml", "[pack]\nbudget = 2000\n")
    (project / "sub").mkdir()
    s = load_settings(project / "sub", environ={}, user_config=user)
    assert s.pack.budget == 2000  # project beats user
    assert s.role("analysis").model == "user-model"
    s = load_settings(project, environ={"ASSIST_BUDGET": "3000"}, user_config=user)
    assert s.pack.budget == 3000  # environment beats project
    s = load_settings(
        project, environ={"ASSIST_BUDGET": "3000"}, user_config=user, overrides={"pack.budget": 4000}
    )
    assert s.pack.budget == 4000  # flags beat everything
    assert s.sources[-1] == "command line"


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    cfg = write(tmp_path / ".assist.toml", "[pack]\nbudgett = 5\n")
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path, environ={})
    assert str(cfg) in str(err.value) and "pack.budgett" in str(err.value)


def test_bad_value_names_file_and_key(tmp_path: Path) -> None:
    cfg = write(tmp_path / ".assist.toml", '[completion]\ndebounce_ms = "soon"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path, environ={})
    assert str(cfg) in str(err.value) and "completion.debounce_ms" in str(err.value)
    write(tmp_path / ".assist.toml", '[review]\nfail_on = "sometimes"\n')
    with pytest.raises(ConfigError, match=r"review\.fail_on"):
        load_settings(tmp_path, environ={})


def test_bad_toml_is_a_config_error(tmp_path: Path) -> None:
    write(tmp_path / ".assist.toml", "[pack\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(tmp_path, environ={})


def test_environment_variables(tmp_path: Path) -> None:
    env = {
        "OLLAMA_HOST": "0.0.0.0:11500",
        "ASSIST_COMPLETION_MODEL": "qwen2.5-coder:14b",
        "ASSIST_ANALYSIS_MODEL": "big",
        "ASSIST_TIMEOUT": "42",
        "ASSIST_OLLAMA_TOKEN": "tok",
    }
    s = load_settings(tmp_path, environ=env)
    assert s.hosts("completion") == ["http://127.0.0.1:11500"]
    assert s.role("completion").model == "qwen2.5-coder:14b"
    assert s.role("analysis").model == "big"
    assert s.ollama.first_token_timeout == 42.0
    assert s.ollama.headers == {"Authorization": "Bearer tok"}
    with pytest.raises(ConfigError, match=r"environment.*first_token_timeout"):
        load_settings(tmp_path, environ={"ASSIST_TIMEOUT": "never"})


def test_role_hosts_failover_order(tmp_path: Path) -> None:
    write(tmp_path / ".assist.toml", '[roles.analysis]\nhosts = ["gpu1", "https://gpu2.example"]\n')
    s = load_settings(tmp_path, environ={})
    assert s.hosts("analysis") == ["http://gpu1:11434", "https://gpu2.example:443"]
    assert s.hosts("completion") == ["http://127.0.0.1:11434"]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("localhost", "http://localhost:11434"),
        ("http://h:1/", "http://h:1"),
        ("[::1]:8080", "http://[::1]:8080"),
        ("https://proxy.example/ollama", "https://proxy.example:443/ollama"),
    ],
)
def test_normalize_host(given: str, expected: str) -> None:
    assert normalize_host(given) == expected


def test_bad_host_is_rejected() -> None:
    with pytest.raises(ConfigError):
        normalize_host("ftp://x")
    with pytest.raises(ConfigError):
        normalize_host("host:port")


def test_cache_dir_is_outside_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir(load_settings(tmp_path, environ={})) == tmp_path / "xdg" / "assist"
