"""The test server speaks Ollama's wire format (checked with raw HTTP), and runs as a script.

These pin the behaviours the rest of the suite relies on, so a change to the stand-in that drifts from
the real server fails here first.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import ollama
import pytest
from ollama_fake import QWEN_TEMPLATE, OllamaFake, Reply, render_template

FAKE_SCRIPT = Path(__file__).resolve().parent / "ollama_fake.py"


@pytest.fixture
def fake(ollama_fake: OllamaFake) -> OllamaFake:
    ollama_fake.add_model(
        "coder",
        num_ctx=64,
        stop=("<|im_end|>",),
        template=QWEN_TEMPLATE,
        capabilities=("completion", "insert"),
        tokenizer={
            "model": "gpt2",
            "pre": "qwen2",
            "tokens": ["a", "b"],
            "merges": ["a b"],
            "token_type": [1, 1],
        },
    )
    return ollama_fake


def ndjson(response: httpx.Response) -> list[dict]:
    return [json.loads(line) for line in response.text.splitlines() if line.strip()]


def test_generate_stream_wire_format(fake: OllamaFake) -> None:
    fake.script(Reply("hello world"))
    with httpx.Client(base_url=fake.url) as client:
        r = client.post("/api/generate", json={"model": "coder", "prompt": "hi"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/x-ndjson"
    assert r.headers["transfer-encoding"] == "chunked"
    lines = ndjson(r)
    assert [x["response"] for x in lines[:-1]] == ["hello", " ", "world"]
    assert all(
        x["done"] is False and x["model"] == "coder" and x["created_at"].endswith("Z") for x in lines[:-1]
    )
    final = lines[-1]
    assert final["done"] is True and final["done_reason"] == "stop" and final["response"] == ""
    for key in ("total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration", "eval_count"):
        assert isinstance(final[key], int), key
    assert final["eval_count"] == 3
    assert isinstance(final["context"], list)


def test_raw_has_no_context_and_non_stream_is_one_object(fake: OllamaFake) -> None:
    with httpx.Client(base_url=fake.url) as client:
        raw = ndjson(client.post("/api/generate", json={"model": "coder", "prompt": "x", "raw": True}))
        one = client.post("/api/generate", json={"model": "coder", "prompt": "x", "stream": False}).json()
    assert "context" not in raw[-1]
    assert one["done"] is True and one["response"].startswith("fake_completion_")


def test_empty_prompt_only_loads(fake: OllamaFake) -> None:
    with httpx.Client(base_url=fake.url) as client:
        r = client.post("/api/generate", json={"model": "coder"}).json()
    assert r["done_reason"] == "load" and r["done"] is True
    assert fake.models["coder:latest"].loaded


def test_error_bodies(fake: OllamaFake) -> None:
    fake.add_model("plain", capabilities=("completion",))
    with httpx.Client(base_url=fake.url) as client:
        missing = client.post("/api/generate", json={"model": "nope", "prompt": "x"})
        insert = client.post("/api/generate", json={"model": "plain", "prompt": "x", "suffix": "y"})
        long = client.post(
            "/api/generate", json={"model": "coder", "prompt": "word " * 200, "truncate": False}
        )
        show = client.post("/api/show", json={"model": "nope"})
    assert (missing.status_code, missing.json()) == (404, {"error": "model 'nope' not found"})
    assert (insert.status_code, insert.json()) == (
        400,
        {"error": "registry.ollama.ai/library/plain:latest does not support insert"},
    )
    assert (long.status_code, long.json()) == (400, {"error": "the input length exceeds the context length"})
    assert (show.status_code, show.json()) == (404, {"error": "model 'nope' not found"})


def test_silent_truncation_reports_num_ctx(fake: OllamaFake) -> None:
    with httpx.Client(base_url=fake.url) as client:
        final = ndjson(client.post("/api/generate", json={"model": "coder", "prompt": "word " * 200}))[-1]
    assert final["prompt_eval_count"] == 64


def test_num_ctx_option_reloads(fake: OllamaFake) -> None:
    with httpx.Client(base_url=fake.url) as client:
        client.post("/api/generate", json={"model": "coder", "prompt": "a"})
        client.post("/api/generate", json={"model": "coder", "prompt": "a", "options": {"num_ctx": 128}})
        ps = client.get("/api/ps").json()
    assert fake.models["coder:latest"].reloads == 1
    assert ps["models"][0]["context_length"] == 128


def test_show_parameters_and_verbose_arrays(fake: OllamaFake) -> None:
    client = ollama.Client(host=fake.url)
    shown = client.show("coder")
    assert shown.parameters is not None
    assert shown.parameters.splitlines() == [f"{'num_ctx':<30} 64", f'{"stop":<30} "<|im_end|>"']
    assert shown.capabilities == ["completion", "insert"]
    assert shown.modelinfo is not None
    assert shown.modelinfo["tokenizer.ggml.tokens"] is None  # large arrays are null unless verbose
    assert shown.modelinfo["tokenizer.ggml.model"] == "gpt2"
    verbose = httpx.post(f"{fake.url}/api/show", json={"model": "coder", "verbose": True}).json()
    assert verbose["model_info"]["tokenizer.ggml.tokens"] == ["a", "b"]
    assert verbose["model_info"]["tokenizer.ggml.merges"] == ["a b"]


def test_tags_ps_version_with_the_real_client(fake: OllamaFake) -> None:
    client = ollama.Client(host=fake.url)
    assert [m.model for m in client.list().models] == ["coder:latest"]
    assert client.ps().models == []
    client.generate("coder", "load me")
    (entry,) = client.ps().models
    assert entry.model == "coder:latest" and entry.size_vram == entry.size and entry.context_length == 64
    assert entry.expires_at is not None
    assert httpx.get(f"{fake.url}/api/version").json() == {"version": "0.24.0"}


def test_create_streams_status_and_missing_base_tries_the_registry(fake: OllamaFake) -> None:
    client = ollama.Client(host=fake.url)
    statuses = [
        s.status for s in client.create(model="mine", from_="coder", parameters={"num_ctx": 99}, stream=True)
    ]
    assert statuses[-2:] == ["writing manifest", "success"]
    assert fake.models["mine:latest"].num_ctx == 99
    with pytest.raises(ollama.ResponseError, match="pull model manifest"):
        list(client.create(model="other", from_="absent:1b", stream=True))
    assert fake.pull_attempts == ["absent:1b"]


def test_chat_endpoint(fake: OllamaFake) -> None:
    fake.script(Reply("fine thanks"))
    client = ollama.Client(host=fake.url)
    parts = list(client.chat("coder", messages=[{"role": "user", "content": "how are you"}], stream=True))
    assert "".join(p.message.content or "" for p in parts) == "fine thanks"
    assert parts[-1].done and parts[-1].prompt_eval_count


def test_stop_sequences_end_the_answer(fake: OllamaFake) -> None:
    fake.script(Reply("answer<|im_end|>ignored"))
    result = ollama.Client(host=fake.url).generate("coder", "q")
    assert result.response == "answer" and result.done_reason == "stop"


def test_format_requests_get_a_valid_minimal_instance(fake: OllamaFake) -> None:
    schema = {
        "type": "object",
        "properties": {"findings": {"type": "array"}, "summary": {"type": "string"}},
        "required": ["findings", "summary"],
    }
    result = ollama.Client(host=fake.url).generate("coder", "review", format=schema)
    assert json.loads(result.response) == {"findings": [], "summary": ""}


def test_render_template_subset() -> None:
    assert (
        render_template(QWEN_TEMPLATE, prompt="P", suffix="S")
        == "<|fim_prefix|>P<|fim_suffix|>S<|fim_middle|>"
    )
    chat = render_template(QWEN_TEMPLATE, prompt="P", system="Y")
    assert chat == "<|im_start|>system\nY<|im_end|>\n<|im_start|>user\nP<|im_end|>\n<|im_start|>assistant\n"


def test_bearer_token_required_when_set(fake: OllamaFake) -> None:
    fake.token = "t0k"
    assert httpx.get(f"{fake.url}/api/tags").status_code == 401
    ok = httpx.get(f"{fake.url}/api/tags", headers={"Authorization": "Bearer t0k"})
    assert ok.status_code == 200
    assert fake.requests[-1].headers["authorization"] == "Bearer t0k"


def test_runs_as_a_script() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            str(FAKE_SCRIPT),
            "--port",
            "0",
            "--model",
            "assist-completion",
            "--model",
            "assist-coder",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        client = ollama.Client(host=url)
        assert sorted(m.model for m in client.list().models) == [
            "assist-coder:latest",
            "assist-completion:latest",
        ]
        assert "insert" in (client.show("assist-completion").capabilities or [])
        first = client.generate("assist-completion", "def add(a, b):\n    return", suffix="\n").response
        again = client.generate("assist-completion", "def add(a, b):\n    return", suffix="\n").response
        assert first and first == again  # deterministic, derived from the prompt
    finally:
        proc.terminate()
        proc.wait(timeout=10)
