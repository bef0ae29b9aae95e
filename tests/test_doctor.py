"""``assist doctor`` against the test server: each problem found, with its fix, and the exit code."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from ollama_fake import QWEN_TEMPLATE, OllamaFake, Reply

from assistant.cli import main

GIB = 2**30


@pytest.fixture
def healthy(ollama_fake: OllamaFake) -> OllamaFake:
    ollama_fake.add_model(
        "assist-completion",
        num_ctx=8192,
        num_predict=128,
        capabilities=("completion", "insert"),
        template=QWEN_TEMPLATE,
        size=9 * GIB,
    )
    ollama_fake.add_model(
        "assist-coder",
        num_ctx=32768,
        num_predict=4096,
        capabilities=("completion", "tools"),
        template=QWEN_TEMPLATE,
        size=48 * GIB,
    )
    return ollama_fake


def doctor(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict]]:
    code = main(["doctor", "--json", *args])
    return code, json.loads(capsys.readouterr().out)


def by_check(checks: list[dict], check: str, role: str | None = None) -> list[dict]:
    return [c for c in checks if c["check"] == check and (role is None or c["subject"].startswith(role))]


def test_healthy_setup_passes(healthy: OllamaFake, capsys: pytest.CaptureFixture[str]) -> None:
    code, checks = doctor(capsys, "--host", healthy.url)
    assert code == 0, [c for c in checks if c["status"] == "problem"]
    assert by_check(checks, "server")[0]["detail"] == "Ollama 0.24.0 answers"
    assert by_check(checks, "fim", "completion")[0]["status"] == "ok"
    trips = by_check(checks, "round-trip")
    assert len(trips) == 2 and all(c["status"] == "ok" for c in trips)
    assert all(c["status"] == "ok" for c in by_check(checks, "vram"))
    assert by_check(checks, "resident")[0]["status"] == "ok"
    # the round trips really went to the server, one per role, without num_ctx
    bodies = [r.body for r in healthy.requests_to("/api/generate")]
    assert sorted(b["model"] for b in bodies) == ["assist-coder", "assist-completion"]
    assert all("num_ctx" not in b.get("options", {}) for b in bodies)


def test_text_report_and_exit_code_on_problems(
    ollama_fake: OllamaFake, capsys: pytest.CaptureFixture[str]
) -> None:
    ollama_fake.add_model("assist-coder", num_ctx=32768, template=QWEN_TEMPLATE)
    code = main(["doctor", "--host", ollama_fake.url])
    out = capsys.readouterr().out
    assert code == 1
    assert "PROBLEM  model" in out and "assist-completion" in out
    assert "fix: run `assist models setup`" in out
    assert out.strip().endswith("problem found") or out.strip().endswith("problems found")


def test_unreachable_server(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, checks = doctor(capsys, "--host", f"http://127.0.0.1:{port}")
    assert code == 1
    assert [c["check"] for c in checks] == ["server"]
    assert "docker compose" in checks[0]["fix"]


def test_completion_model_without_fim_and_small_window(
    healthy: OllamaFake, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSIST_COMPLETION_MODEL", "my-chat-model")
    healthy.add_model(
        "my-chat-model",
        num_ctx=2048,
        capabilities=("completion",),
        template="{{ .Prompt }}",
        family="llama",  # no FIM layout known for it, and no `insert` in its template
    )
    code, checks = doctor(capsys, "--host", healthy.url)
    assert code == 1
    fim = by_check(checks, "fim", "completion")[0]
    assert fim["status"] == "problem" and "Completion.Modelfile" in fim["fix"]
    budget = by_check(checks, "budget", "completion")[0]
    assert budget["status"] == "problem" and "exceed num_ctx 2048" in budget["detail"]


def test_missing_num_ctx_is_a_problem(healthy: OllamaFake, capsys: pytest.CaptureFixture[str]) -> None:
    healthy.add_model("assist-coder", num_ctx=None, template=QWEN_TEMPLATE)
    code, checks = doctor(capsys, "--host", healthy.url, "--quick")
    assert code == 1
    ctx = by_check(checks, "num_ctx", "analysis")[0]
    assert ctx["status"] == "problem" and "PARAMETER num_ctx" in ctx["fix"]


def test_partial_vram_offload(healthy: OllamaFake, capsys: pytest.CaptureFixture[str]) -> None:
    healthy.models["assist-coder:latest"].size_vram = 36 * GIB
    code, checks = doctor(capsys, "--host", healthy.url)
    assert code == 1
    vram = by_check(checks, "vram", "analysis")[0]
    assert vram["status"] == "problem"
    assert "only 75% in VRAM" in vram["detail"] and "12.0 GiB on the CPU" in vram["detail"]
    assert "num_gpu 999" in vram["fix"]


def test_num_parallel_multiplies_the_context(healthy: OllamaFake, capsys: pytest.CaptureFixture[str]) -> None:
    healthy.num_parallel = 4
    code, checks = doctor(capsys, "--host", healthy.url)
    assert code == 1
    ctx = by_check(checks, "context", "analysis")[0]
    assert "4 × num_ctx 32768" in ctx["detail"] and "OLLAMA_NUM_PARALLEL=1" in ctx["fix"]
    assert "~18.0 GiB more than one slot" in ctx["detail"]  # 3 extra slots × 6 GiB


def test_kv_cache_size_from_the_architecture(healthy: OllamaFake, capsys: pytest.CaptureFixture[str]) -> None:
    code, checks = doctor(capsys, "--host", healthy.url, "--quick")
    kv = {c["subject"].split()[0]: c["detail"] for c in by_check(checks, "kv-cache")}
    # 2 (K and V) × 48 layers × 8 KV heads × 128 (5120 / 40) × 2 bytes = 196,608 bytes per token.
    assert kv["analysis"].startswith("KV cache of one 32768-token window ≈ 6.0 GiB")
    assert kv["completion"].startswith("KV cache of one 8192-token window ≈ 1.5 GiB")
    assert code == 0


def test_models_evicting_each_other(healthy: OllamaFake, capsys: pytest.CaptureFixture[str]) -> None:
    healthy.max_loaded_models = 1
    code, checks = doctor(capsys, "--host", healthy.url)
    assert code == 1
    resident = [c for c in by_check(checks, "resident") if c["status"] == "problem"]
    assert resident and "OLLAMA_MAX_LOADED_MODELS=2" in resident[0]["fix"]


def test_keep_alive_zero_unloads(healthy: OllamaFake, capsys: pytest.CaptureFixture[str]) -> None:
    healthy.keep_alive_zero = True
    code, checks = doctor(capsys, "--host", healthy.url)
    assert code == 1
    assert any("OLLAMA_KEEP_ALIVE" in (c["fix"] or "") for c in by_check(checks, "resident"))


def test_round_trip_timeout_is_reported(
    healthy: OllamaFake, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    healthy.script(Reply("late", first_byte_delay=30), model="assist-coder")
    code, checks = doctor(capsys, "--host", healthy.url, "--timeout", "1.5")
    assert code == 1
    trip = by_check(checks, "round-trip", "analysis")[0]
    assert trip["status"] == "problem" and "sent nothing for 1.5 s" in trip["detail"]
    assert by_check(checks, "round-trip", "completion")[0]["status"] == "ok"


def test_quick_skips_round_trips(healthy: OllamaFake, capsys: pytest.CaptureFixture[str]) -> None:
    code, checks = doctor(capsys, "--host", healthy.url, "--quick")
    assert code == 0
    assert by_check(checks, "round-trip") == []
    assert healthy.requests_to("/api/generate") == []
    assert all(c["status"] == "info" for c in by_check(checks, "vram"))


def test_tokenizer_kind_is_reported(healthy: OllamaFake, capsys: pytest.CaptureFixture[str]) -> None:
    from small_bpe import train

    healthy.models["assist-coder:latest"].tokenizer = train(60)
    code, checks = doctor(capsys, "--host", healthy.url, "--quick")
    assert code == 0
    tokens = {c["subject"].split()[0]: c for c in by_check(checks, "tokens")}
    assert tokens["analysis"]["status"] == "ok" and "gguf-qwen2" in tokens["analysis"]["detail"]
    assert tokens["completion"]["status"] == "info" and "offline counter" in tokens["completion"]["detail"]


def test_every_host_of_a_role_is_checked(
    healthy: OllamaFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{s.getsockname()[1]}"
    (tmp_path / ".assist.toml").write_text(
        f'[ollama]\nhost = "{healthy.url}"\n[roles.analysis]\nhosts = ["{healthy.url}", "{down}"]\n'
    )
    monkeypatch.chdir(tmp_path)
    code, checks = doctor(capsys, "--quick")
    assert code == 1
    servers = {c["subject"]: c["status"] for c in by_check(checks, "server")}
    assert servers == {healthy.url: "ok", down: "problem"}
    assert {c["subject"] for c in by_check(checks, "model")} == {
        f"completion model assist-completion @ {healthy.url}",
        f"analysis model assist-coder @ {healthy.url}",
    }


def test_qwen_family_completion_model_needs_no_insert_capability(
    healthy: OllamaFake, capsys: pytest.CaptureFixture[str]
) -> None:
    """qwen3-coder's Ollama template cannot insert, yet raw FIM prompts with its own tokens work."""
    healthy.add_model("assist-completion", num_ctx=8192, capabilities=("completion",), family="qwen3moe")
    _, checks = doctor(capsys, "--host", healthy.url, "--quick")
    fim = by_check(checks, "fim", "completion")[0]
    assert fim["status"] == "ok" and "raw qwen" in fim["detail"]
