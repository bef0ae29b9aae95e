"""Modelfile parsing into the structured create request, and the shipped Modelfiles."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import InputError
from assistant.modelfile import (
    default_model_name,
    load_modelfile,
    parse_modelfile,
    shipped_model_names,
    shipped_modelfiles,
)

FULL = '''
# a comment
FROM qwen2.5-coder:14b
PARAMETER num_ctx 8192
PARAMETER temperature 0.2
PARAMETER stop "<|endoftext|>"
PARAMETER stop <|file_sep|>
PARAMETER use_mmap false
PARAMETER custom_thing 7
TEMPLATE """{{- if .Suffix }}<|fim_prefix|>{{ .Prompt }}<|fim_suffix|>{{ .Suffix }}<|fim_middle|>
{{- else }}{{ .Prompt }}{{ end }}"""
SYSTEM """You review code.
Be terse."""
LICENSE "Apache-2.0"
MESSAGE user "Hi"
MESSAGE assistant """Hello,
world"""
adapter ./lora.gguf
'''


def test_parses_every_instruction() -> None:
    mf = parse_modelfile(FULL)
    assert mf.from_ == "qwen2.5-coder:14b"
    assert mf.parameters == {
        "num_ctx": 8192,
        "temperature": 0.2,
        "stop": ["<|endoftext|>", "<|file_sep|>"],
        "use_mmap": False,
        "custom_thing": 7,
    }
    assert mf.template == (
        "{{- if .Suffix }}<|fim_prefix|>{{ .Prompt }}<|fim_suffix|>{{ .Suffix }}<|fim_middle|>\n"
        "{{- else }}{{ .Prompt }}{{ end }}"
    )
    assert mf.system == "You review code.\nBe terse."
    assert mf.license == ["Apache-2.0"]
    assert mf.messages == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello,\nworld"},
    ]
    assert mf.adapters == ["./lora.gguf"]


def test_create_kwargs_are_structured() -> None:
    kwargs = parse_modelfile(FULL).create_kwargs("mine")
    assert kwargs["model"] == "mine"
    assert kwargs["from_"] == "qwen2.5-coder:14b"
    assert kwargs["parameters"]["num_ctx"] == 8192
    assert kwargs["system"].startswith("You review")
    assert kwargs["license"] == "Apache-2.0"
    assert kwargs["messages"][0] == {"role": "user", "content": "Hi"}
    assert "adapters" not in kwargs  # resolved to blob digests at send time


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("PARAMETER num_ctx 8192\n", "no FROM"),
        ("FROM x\nPARAMETER num_ctx lots\n", "num_ctx must be an integer"),
        ("FROM x\nPARAMETER temperature hot\n", "temperature must be a number"),
        ("FROM x\nPARAMETER use_mmap maybe\n", "true or false"),
        ("FROM x\nPARAMETER num_ctx\n", "needs a name and a value"),
        ("FROM x\nRUN rm -rf /\n", "unknown Modelfile instruction 'RUN'"),
        ('FROM x\nSYSTEM """never closed\n', "unterminated"),
        ("FROM x\nMESSAGE robot hi\n", "MESSAGE role"),
    ],
)
def test_errors_name_the_line(text: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "Bad.Modelfile"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as info:
        load_modelfile(path)
    assert str(path) in str(info.value)


def test_missing_modelfile_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such Modelfile"):
        load_modelfile(tmp_path / "nope.Modelfile")


def test_shipped_coder_modelfile_matches_the_issue() -> None:
    by_name = {p.name: load_modelfile(p) for p in shipped_modelfiles()}
    assert sorted(by_name) == ["Coder.Modelfile", "Completion.Modelfile", "llama3.3-70b.Modelfile"]
    coder = by_name["Coder.Modelfile"]
    assert coder.role == "analysis"
    assert coder.from_ == "qwen3-coder-next:70b"
    assert coder.parameters == {"num_ctx": 32768, "num_gpu": 999, "repeat_penalty": 1.1, "num_predict": 4096}
    llama = by_name["llama3.3-70b.Modelfile"]
    assert llama.role is None and llama.from_ == "llama3.3:70b"
    assert llama.parameters == {"num_ctx": 24576, "num_gpu": 999, "num_thread": 16}
    completion = by_name["Completion.Modelfile"]
    assert completion.role == "completion"
    assert completion.parameters["temperature"] <= 0.3
    assert completion.parameters["num_ctx"] <= 16384
    assert {"<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|file_sep|>"} <= set(
        completion.parameters["stop"]
    )


def test_model_names_follow_roles_then_stems(tmp_path: Path) -> None:
    roles = {"analysis": "team-coder", "completion": "team-complete"}
    names = {p.name: default_model_name(load_modelfile(p), roles) for p in shipped_modelfiles()}
    assert names == {
        "Coder.Modelfile": "team-coder",
        "Completion.Modelfile": "team-complete",
        "llama3.3-70b.Modelfile": "llama3.3-70b",
    }
    assert shipped_model_names() == ["assist-coder", "assist-completion", "llama3.3-70b"]
    plain = tmp_path / "Modelfile"
    plain.write_text("FROM x\n")
    with pytest.raises(InputError, match="--name"):
        default_model_name(load_modelfile(plain), roles)
