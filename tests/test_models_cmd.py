"""``assist models setup|list`` end to end: the CLI, the real ollama client, the test server."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from ollama_fake import QWEN_TEMPLATE, OllamaFake

from assistant.cli import main

BASES = ("qwen3-coder-next:70b", "qwen2.5-coder:14b", "llama3.3:70b")


@pytest.fixture
def server(ollama_fake: OllamaFake) -> OllamaFake:
    for base in BASES:
        ollama_fake.add_model(
            base,
            num_ctx=None,
            template=QWEN_TEMPLATE,
            capabilities=("completion", "insert") if "2.5" in base else ("completion", "tools"),
        )
    return ollama_fake


def creates(fake: OllamaFake) -> list[dict]:
    return [r.body for r in fake.requests_to("/api/create")]


def test_setup_creates_the_shipped_models(server: OllamaFake, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "setup", "--host", server.url]) == 0
    out, err = capsys.readouterr()
    bodies = {b["model"]: b for b in creates(server)}
    assert sorted(bodies) == ["assist-coder", "assist-completion", "llama3.3-70b"]
    coder = bodies["assist-coder"]
    assert coder["from"] == "qwen3-coder-next:70b"
    assert coder["parameters"] == {
        "num_ctx": 32768,
        "num_gpu": 999,
        "repeat_penalty": 1.1,
        "num_predict": 4096,
    }
    assert coder["stream"] is True
    assert "modelfile" not in coder  # the server no longer takes a Modelfile string
    assert bodies["llama3.3-70b"]["parameters"]["num_ctx"] == 24576
    assert isinstance(bodies["assist-completion"]["parameters"]["stop"], list)
    assert "created  assist-coder on" in out
    assert "writing manifest" in err and "success" in err  # progress from the create status stream
    assert server.models["assist-coder:latest"].num_ctx == 32768
    assert server.pull_attempts == []


def test_missing_base_is_not_downloaded(ollama_fake: OllamaFake, capsys: pytest.CaptureFixture[str]) -> None:
    ollama_fake.add_model("qwen2.5-coder:14b")
    code = main(["models", "setup", "--host", ollama_fake.url])
    out = capsys.readouterr().out
    assert code == 1
    assert [b["model"] for b in creates(ollama_fake)] == ["assist-completion"]
    assert ollama_fake.pull_attempts == []
    assert "fix: ollama pull qwen3-coder-next:70b" in out
    assert "fix: ollama pull llama3.3:70b" in out


def test_role_model_names_come_from_the_environment(
    server: OllamaFake, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ASSIST_ANALYSIS_MODEL", "team-coder")
    coder = str(Path(__file__).resolve().parents[1] / "modelfiles" / "Coder.Modelfile")
    assert main(["models", "setup", coder, "--host", server.url]) == 0
    assert [b["model"] for b in creates(server)] == ["team-coder"]


def test_custom_modelfile_with_name(
    server: OllamaFake, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "Review.Modelfile"
    path.write_text(
        'FROM qwen2.5-coder:14b\nPARAMETER num_ctx 16384\nSYSTEM """Review.\nTersely."""\n'
        'TEMPLATE "{{ .System }} {{ .Prompt }}"\n'
    )
    assert main(["models", "setup", str(path), "--name", "reviewer", "--host", server.url]) == 0
    body = creates(server)[0]
    assert body["model"] == "reviewer"
    assert body["system"] == "Review.\nTersely."
    assert body["template"] == "{{ .System }} {{ .Prompt }}"
    assert body["parameters"] == {"num_ctx": 16384}


def test_file_stem_is_the_default_name(
    server: OllamaFake, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "Small-Coder.Modelfile"
    path.write_text("FROM qwen2.5-coder:14b\n")
    assert main(["models", "setup", str(path), "--host", server.url]) == 0
    assert creates(server)[0]["model"] == "small-coder"


def test_name_with_several_modelfiles_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "setup", "--name", "x", "--host", "http://127.0.0.1:9"]) == 2
    assert "--name needs exactly one Modelfile" in capsys.readouterr().err


def test_dry_run_prints_requests(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "setup", "--dry-run", "--host", "http://127.0.0.1:9"]) == 0
    data = json.loads(capsys.readouterr().out)
    coder = next(d for d in data if d["request"]["model"] == "assist-coder")
    assert coder["role"] == "analysis"
    assert coder["hosts"] == ["http://127.0.0.1:9"]
    assert coder["request"]["from"] == "qwen3-coder-next:70b"


def test_setup_against_a_down_server(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert main(["models", "setup", "--host", f"http://127.0.0.1:{port}"]) == 1
    out = capsys.readouterr().out
    assert "cannot reach Ollama" in out and "OLLAMA_HOST" in out


def test_list_shows_window_loaded_and_vram(server: OllamaFake, capsys: pytest.CaptureFixture[str]) -> None:
    server.add_model("assist-coder", num_ctx=32768, loaded=True, size=48 * 2**30, size_vram=40 * 2**30)
    server.add_model("assist-completion", num_ctx=8192)
    assert main(["models", "list", "--host", server.url]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["ROLE", "MODEL", "HOST", "NUM_CTX", "LOADED", "VRAM"]
    completion = next(line for line in table if line.startswith("completion"))
    analysis = next(line for line in table if line.startswith("analysis"))
    assert "assist-completion" in completion and "8192" in completion and " no " in completion
    assert "32768" in analysis and "yes" in analysis
    assert "40.0 GiB of 48.0 GiB (83%)" in analysis


def test_list_json_and_missing_model(server: OllamaFake, capsys: pytest.CaptureFixture[str]) -> None:
    server.add_model("assist-completion", num_ctx=8192, capabilities=("completion", "insert"))
    assert main(["models", "list", "--json", "--host", server.url]) == 0
    rows = {r["role"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["completion"]["present"] and rows["completion"]["num_ctx"] == 8192
    assert rows["completion"]["capabilities"] == ["completion", "insert"]
    assert not rows["analysis"]["present"]
    assert "assist models setup" in rows["analysis"]["error"]


def test_setup_from_a_gguf_file_uploads_blobs(
    ollama_fake: OllamaFake, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import hashlib

    weights = tmp_path / "tiny.gguf"
    weights.write_bytes(b"GGUF" + bytes(range(256)) * 64)
    adapter = tmp_path / "lora.gguf"
    adapter.write_bytes(b"GGUF-adapter")
    path = tmp_path / "Local.Modelfile"
    path.write_text("FROM ./tiny.gguf\nADAPTER ./lora.gguf\nPARAMETER num_ctx 2048\n")
    assert main(["models", "setup", str(path), "--host", ollama_fake.url]) == 0
    body = creates(ollama_fake)[0]
    digest = "sha256:" + hashlib.sha256(weights.read_bytes()).hexdigest()
    assert body["model"] == "local"
    assert "from" not in body
    assert body["files"] == {"tiny.gguf": digest}
    assert body["adapters"] == {"lora.gguf": "sha256:" + hashlib.sha256(b"GGUF-adapter").hexdigest()}
    assert ollama_fake.blobs[digest] == weights.stat().st_size
    assert "uploading tiny.gguf" in capsys.readouterr().err


def test_setup_with_a_missing_local_file(
    ollama_fake: OllamaFake, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "Local.Modelfile"
    path.write_text("FROM ./absent.gguf\n")
    assert main(["models", "setup", str(path), "--host", ollama_fake.url]) == 2
    assert "absent.gguf is not a file" in capsys.readouterr().err
    assert creates(ollama_fake) == []


def test_list_with_a_down_host(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{s.getsockname()[1]}"
    assert main(["models", "list", "--host", down]) == 0
    out = capsys.readouterr().out
    assert "missing" in out and "cannot reach Ollama" in out
