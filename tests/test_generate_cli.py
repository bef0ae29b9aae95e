"""`assist generate` end to end: the real CLI and ollama client against the Ollama-compatible server."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from ollama_fake import QWEN_TEMPLATE, OllamaFake, Reply
from repo_factory import make_repo

from assistant.cli import main

MODEL = "assist-coder"
ASSISTANT_TURN = "<|im_start|>assistant\n"

# A file with deep indentation: 40 spaces in a row are 40 identical tokens for the test server, which
# (like Ollama's Go engine) ends the stream quietly after 30 of them.
WANTED = (
    '"""Shapes."""\n\n\n'
    "class Square:\n"
    "    def __init__(self, side: float) -> None:\n"
    "        self.side = side\n\n"
    "    def area(self) -> float:\n"
    "        if self.side:\n"
    "            if self.side > 0:\n"
    "                if self.side < 1e9:\n" + " " * 40 + "return self.side * self.side\n"
    "        return 0.0\n"
)


CIRCLE = '"""Circles."""\n\n\nclass Circle:\n    def area(self) -> float:\n        return 3.14\n'


def continuing(full: str):  # type: ignore[no-untyped-def]
    """A model that writes ``full``, continuing exactly where the prefilled assistant turn stops."""

    def answer(body: dict[str, Any]) -> str:
        prompt = body["prompt"]
        assert body.get("raw") is True and ASSISTANT_TURN in prompt
        partial = prompt.split(ASSISTANT_TURN, 1)[1]
        assert full.startswith(partial), "the continuation prompt must carry the text so far"
        return full[len(partial) :]

    return answer


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ollama_fake: OllamaFake) -> OllamaFake:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("ASSIST_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("OLLAMA_HOST", ollama_fake.url)
    for var in ("ASSIST_ANALYSIS_MODEL", "ASSIST_TIMEOUT", "ASSIST_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    ollama_fake.add_model(
        MODEL, num_ctx=32768, num_predict=4096, template=QWEN_TEMPLATE, stop=("<|im_end|>",)
    )
    return ollama_fake


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_repo(
        tmp_path / "proj",
        {
            "geo/__init__.py": "",
            "geo/circle.py": CIRCLE,
        },
    )
    monkeypatch.chdir(root)
    return root


def generations(fake: OllamaFake) -> list[dict[str, Any]]:
    return [r.body for r in fake.requests_to("/api/generate")]


def test_generate_writes_the_file(env: OllamaFake, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env.script("```python\n" + WANTED.replace(" " * 40, " " * 20) + "```\n", model=MODEL)
    assert main(["generate", "geo/square.py", "-i", "A Square class with area()"]) == 0
    assert (repo / "geo/square.py").read_text() == WANTED.replace(" " * 40, " " * 20)
    body = generations(env)[0]
    assert body["raw"] is True
    assert body["prompt"].startswith("<|im_start|>user\n") and body["prompt"].endswith(ASSISTANT_TURN)
    assert "A Square class with area()" in body["prompt"]
    assert "class Circle" in body["prompt"]  # the neighbouring file is context
    assert body["options"]["num_predict"] == 8192  # generate.num_predict, raised above the Modelfile's
    assert "num_ctx" not in body["options"]
    assert "wrote geo/square.py" in capsys.readouterr().err
    assert sorted(p.name for p in (repo / "geo").iterdir()) == ["__init__.py", "circle.py", "square.py"]


def test_continues_after_length(env: OllamaFake, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env.script(*[continuing(WANTED) for _ in range(20)], model=MODEL)
    assert (
        main(
            ["generate", "geo/square.py", "-i", "Square", "--num-predict", "25", "--max-continuations", "19"]
        )
        == 0
    )
    assert (repo / "geo/square.py").read_text() == WANTED
    bodies = generations(env)
    assert len(bodies) >= 3
    assert all(b["options"]["num_predict"] == 25 for b in bodies)
    err = capsys.readouterr().err
    assert "hit num_predict; continuing" in err


def test_quiet_stop_after_identical_tokens_is_continued(
    env: OllamaFake, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env.script(*[continuing(WANTED) for _ in range(5)], model=MODEL)
    assert main(["generate", "geo/square.py", "-i", "Square"]) == 0
    assert (repo / "geo/square.py").read_text() == WANTED
    assert len(generations(env)) == 2
    assert "response 1 stopped without finishing; continuing" in capsys.readouterr().err


def test_cut_stream_is_continued(env: OllamaFake, repo: Path) -> None:
    first = Reply(WANTED[:60] + "more text that never arrives", cut_after=10)
    env.script(first, *[continuing(WANTED) for _ in range(5)], model=MODEL)
    assert main(["generate", "geo/square.py", "-i", "Square"]) == 0
    assert (repo / "geo/square.py").read_text() == WANTED


def test_templated_model_continues_with_overlap(env: OllamaFake, repo: Path) -> None:
    """A model whose template we do not know: no raw mode; the tail is shown and the overlap cut."""
    env.remove_model(MODEL)
    env.add_model(MODEL, num_ctx=32768, template="{{ .Prompt }}")
    text = "".join(f"line_{i} = {i}\n" for i in range(40))

    def answer(body: dict[str, Any]) -> str:
        assert not body.get("raw")
        prompt = body["prompt"]
        if "## Continue" not in prompt:
            return text
        tail = prompt.rsplit("\n\n", 1)[1]
        start = text.index(tail) + len(tail)
        return text[start - 30 : start + 200]  # repeats 30 characters, as models do

    env.script(*[answer for _ in range(10)], model=MODEL)
    assert main(["generate", "gen.py", "-i", "lines", "--num-predict", "60", "--max-continuations", "9"]) == 0
    assert (repo / "gen.py").read_text() == text


def test_refuses_to_overwrite_without_force(
    env: OllamaFake, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (repo / "geo/circle.py").read_text()
    assert main(["generate", "geo/circle.py", "-i", "rewrite"]) == 2
    assert "already exists; pass --force" in capsys.readouterr().err
    assert generations(env) == []  # refused before asking the model
    assert (repo / "geo/circle.py").read_text() == before
    env.script("x = 1\n", model=MODEL)
    assert main(["generate", "geo/circle.py", "-i", "rewrite", "--force"]) == 0
    assert (repo / "geo/circle.py").read_text() == "x = 1\n"
    assert "class Circle" in generations(env)[0]["prompt"]  # the current contents were shown


def test_dry_run_shows_prompt_and_budget(
    env: OllamaFake, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["generate", "geo/square.py", "-i", "Square please", "--dry-run", "--num-predict", "4000"]) == 0
    )
    out = capsys.readouterr().out
    assert "Square please" in out and "class Circle" in out
    last = out.strip().splitlines()[-1]
    assert last.startswith("--- prompt ") and "num_predict 4000; layout chatml" in last
    assert f"budget from {MODEL} at" in last
    assert generations(env) == []
    assert not (repo / "geo/square.py").exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_dry_run_without_server(
    env: OllamaFake, repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", f"http://127.0.0.1:{free_port()}")
    assert main(["generate", "geo/square.py", "-i", "Square", "--dry-run"]) == 0
    assert "budget from config (server not reachable" in capsys.readouterr().out
    assert main(["generate", "geo/square.py", "-i", "Square"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("assist: error: ")
    assert not (repo / "geo/square.py").exists()


def test_gives_up_after_max_continuations_and_keeps_the_text(
    env: OllamaFake, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env.script(*[Reply("x = 1\n" * 50) for _ in range(3)], model=MODEL)
    code = main(["generate", "geo/long.py", "-i", "long", "--num-predict", "10", "--max-continuations", "2"])
    assert code == 2
    err = capsys.readouterr().err
    assert "had not finished long.py after 3 requests; nothing was written" in err
    partial = [p for p in (repo / "geo").iterdir() if p.name.endswith(".partial")]
    assert len(partial) == 1 and partial[0].read_text().startswith("x = 1\n")
    assert not (repo / "geo/long.py").exists()


def test_spec_file_and_errors(
    env: OllamaFake, repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "spec.md"
    spec.write_text("Write a constant PI.\n")
    env.script("PI = 3.14159\n", model=MODEL)
    assert main(["generate", "geo/pi.py", "-f", str(spec)]) == 0
    assert "Write a constant PI." in generations(env)[0]["prompt"]
    assert main(["generate", "geo/x.py", "-f", str(tmp_path / "nope.md")]) == 2
    assert "no such spec file" in capsys.readouterr().err
    assert main(["generate", "geo/x.py", "-i", "  "]) == 2
    assert "instruction is empty" in capsys.readouterr().err
    assert main(["generate", "geo", "-i", "x", "--force"]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert main(["generate", "geo/x.py", "-i", "x", "--model", "nosuch"]) == 2
    assert "nosuch" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["generate", "geo/x.py"])  # neither --instruction nor -f
    assert not (repo / "geo/x.py").exists()


def test_unwritable_target_is_refused_before_generating(
    env: OllamaFake, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", "geo/circle.py/inner.py", "-i", "x"]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert generations(env) == []


def test_context_flag_chooses_the_context(
    env: OllamaFake, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "other").mkdir()
    env.script("x = 1\n", model=MODEL)
    assert main(["generate", "other/new.py", "-i", "x", "--context", "geo/circle.py", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "class Circle" in out
    assert main(["generate", "other/new.py", "-i", "x", "--context", "nope.py"]) == 2
    assert "--context nope.py: not a file of the project" in capsys.readouterr().err


def test_project_reached_through_a_symlinked_folder(
    env: OllamaFake, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    link = tmp_path / "link-to-proj"
    link.symlink_to(repo, target_is_directory=True)
    monkeypatch.chdir(link)
    env.script("y = 2\n", model=MODEL)
    assert main(["generate", "geo/y.py", "-i", "y"]) == 0
    assert (repo / "geo/y.py").read_text() == "y = 2\n"
    env.script("z = 3\n", model=MODEL)
    assert main(["generate", str(link / "geo" / "z.py"), "-i", "z"]) == 0  # a path spelled through the link
    assert (repo / "geo/z.py").read_text() == "z = 3\n"
