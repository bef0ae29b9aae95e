"""`assist review` end to end: the real CLI, the real ollama client over HTTP, the Ollama-compatible test
server, real git repositories, real tree-sitter and tiktoken."""

from __future__ import annotations

import hashlib
import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ollama_fake import QWEN_TEMPLATE, OllamaFake, Reply
from repo_factory import git, make_repo, write_files

from assistant.cli import main

SARIF_SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
MODEL = "assist-coder"
# A numbered listing line as review passes render it: "  12 | code" or "  12 + code".
LISTING_LINE = re.compile(r"^\s*(\d+) [|+] (.*)$")
HEADER = re.compile(r"^### (\S+) \(lines (\d+)-(\d+) of (\d+)\)$")


def module(name: str, n_funcs: int, bug_at: int | None) -> str:
    """A Python module with ``n_funcs`` functions; function ``bug_at`` divides by zero (marked BUG)."""
    out = [f'"""Module {name}."""', "", "import math", ""]
    for i in range(n_funcs):
        out += ["", f"def {name}_f{i}(x: float) -> float:", f'    """Compute step {i} of {name}."""']
        if i == bug_at:
            out.append("    return x / 0  # BUG")
        else:
            out.append(f"    return math.sqrt(abs(x)) + {i}")
    return "\n".join(out) + "\n"


def listed_files(prompt: str) -> dict[str, list[tuple[int, str]]]:
    """The files (and their numbered lines) shown under "Code under review" in a review prompt."""
    code = prompt.split("## Code under review", 1)[1]
    files: dict[str, list[tuple[int, str]]] = {}
    current: str | None = None
    for line in code.split("\n"):
        h = HEADER.match(line)
        if h:
            current = h.group(1)
            files.setdefault(current, [])
            continue
        m = LISTING_LINE.match(line)
        if m and current:
            files[current].append((int(m.group(1)), m.group(2)))
    return files


def reviewer(extra: list[dict[str, Any]] | None = None, *, wrong_line: bool = False):  # type: ignore[no-untyped-def]
    """A scripted model: reports each BUG line it is shown (and ``extra`` findings as given)."""

    def answer(body: dict[str, Any]) -> str:
        assert body["format"]["properties"]["findings"]["type"] == "array"
        findings = []
        for path, lines in listed_files(body["prompt"]).items():
            for n, text in lines:
                if "# BUG" in text:
                    findings.append(
                        {
                            "file": path,
                            "line": n + 2 if wrong_line else n,
                            "end_line": n + 2 if wrong_line else n,
                            "quote": text.strip(),
                            "severity": "error",
                            "category": "bug",
                            "message": "Division by zero always raises ZeroDivisionError.",
                            "suggestion": "divide by a non-zero value",
                        }
                    )
        return json.dumps({"findings": findings + (extra or [])})

    return answer


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ollama_fake: OllamaFake) -> OllamaFake:
    """Isolated config and cache, OLLAMA_HOST pointing at the test server with the analysis model."""
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
            "calc/__init__.py": "",
            "calc/ops.py": module("ops", 3, bug_at=1),
            "calc/stats.py": module("stats", 2, bug_at=None),
            "README.md": "# proj\n",
        },
    )
    monkeypatch.chdir(root)
    return root


def tree_hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.parts
    }


def generate_requests(fake: OllamaFake) -> list[dict[str, Any]]:
    return [r.body for r in fake.requests_to("/api/generate")]


def test_review_text_finds_and_fails(env: OllamaFake, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env.script(reviewer(), model=MODEL)
    before = tree_hashes(repo)
    code = main(["review", "calc"])
    out, err = capsys.readouterr()
    assert code == 1, err
    bug_line = module("ops", 3, 1).splitlines().index("    return x / 0  # BUG") + 1
    assert out.splitlines()[0] == (
        f"calc/ops.py:{bug_line}: error [bug] Division by zero always raises ZeroDivisionError."
    )
    assert out.splitlines()[-1].startswith("1 finding (1 error, 0 warnings, 0 info) in 2 files (1 pass")
    assert "pass 1/1" in err
    assert tree_hashes(repo) == before  # review never modifies the reviewed files
    body = generate_requests(env)[0]
    assert body["format"]["required"] == ["findings"]
    assert body["options"]["temperature"] == 0
    assert "num_ctx" not in body["options"]
    assert (
        "calc/ops.py" in body["prompt"] and "README.md" not in body["prompt"].split("## Code under review")[1]
    )


def test_review_clean_exits_zero_and_fail_on(
    env: OllamaFake, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    info = {
        "file": "calc/stats.py",
        "line": 1,
        "end_line": 1,
        "quote": '"""Module stats."""',
        "severity": "info",
        "category": "documentation",
        "message": "The module docstring says nothing.",
        "suggestion": "",
    }
    env.script(reviewer([info]), reviewer([info]), model=MODEL)
    assert main(["review", "calc/stats.py"]) == 0
    out = capsys.readouterr().out
    assert "calc/stats.py:1: info [documentation]" in out
    assert main(["review", "calc/stats.py", "--fail-on", "info"]) == 1


def test_review_json_and_invented_locations(
    env: OllamaFake, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    invented = [
        {
            "file": "calc/ghost.py",
            "line": 3,
            "end_line": 3,
            "quote": "x",
            "severity": "error",
            "category": "bug",
            "message": "ghost",
            "suggestion": "",
        },
        {
            "file": "calc/ops.py",
            "line": 999,
            "end_line": 999,
            "quote": "",
            "severity": "warning",
            "category": "bug",
            "message": "past the end",
            "suggestion": "",
        },
    ]
    env.script(reviewer(invented, wrong_line=True), model=MODEL)
    assert main(["review", "calc", "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    bug_line = module("ops", 3, 1).splitlines().index("    return x / 0  # BUG") + 1
    # The model cited the line 2 off; its quote moved the finding to the real line.
    assert [(f["file"], f["line"], f["verified"]) for f in data["findings"]] == [
        ("calc/ops.py", bug_line, True)
    ]
    assert sorted(d["reason"].split(" ")[0] for d in data["dropped"]) == ["file", "line"]
    assert data["files"] == ["calc/ops.py", "calc/stats.py"]  # the empty __init__.py has nothing to review
    assert data["summary"] == {"error": 1, "warning": 0, "info": 0}


def test_review_sarif_output_file_is_valid(
    env: OllamaFake, repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env.script(reviewer(), model=MODEL)
    out_file = tmp_path / "report.sarif"
    assert main(["review", ".", "--format", "sarif", "-o", str(out_file)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "1 finding" in err
    doc = json.loads(out_file.read_text())
    schema = json.loads(SARIF_SCHEMA.read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(doc)
    result = doc["runs"][0]["results"][0]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "calc/ops.py"
    assert doc["runs"][0]["originalUriBaseIds"]["SRCROOT"]["uri"] == repo.resolve().as_uri() + "/"


def test_review_github_format(env: OllamaFake, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env.script(reviewer(), model=MODEL)
    assert main(["review", "calc/ops.py", "--format", "github", "--fail-on", "never"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("::error file=calc/ops.py,line=")


def test_review_in_several_passes_merges_findings(
    env: OllamaFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A project several times larger than the window: budgeted passes, findings from all merged."""
    env.remove_model(MODEL)
    env.add_model(MODEL, num_ctx=2600, num_predict=512, template=QWEN_TEMPLATE, stop=("<|im_end|>",))
    files = {f"pkg/m{i}.py": module(f"m{i}", 12, bug_at=(i * 5) % 12) for i in range(5)}
    # One file larger than a whole pass: it must be split by definitions.
    files["pkg/big.py"] = module("big", 60, bug_at=50)
    root = make_repo(tmp_path / "large", files)
    monkeypatch.chdir(root)
    before = tree_hashes(root)
    # The first two passes (both parts of big.py) report the same issue: merged into one finding.
    dup = {
        "file": "pkg/big.py",
        "line": 3,
        "end_line": 3,
        "quote": "import math",
        "severity": "warning",
        "category": "maintainability",
        "message": "math is imported in every module",
        "suggestion": "",
    }
    env.script(*[reviewer([dup] if i < 2 else []) for i in range(40)], model=MODEL)
    code = main(["review", "pkg", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 1, err
    data = json.loads(out)
    requests = generate_requests(env)
    assert data["passes"] == len(requests) >= 4
    bug_files = sorted({f["file"] for f in data["findings"] if f["category"] == "bug"})
    assert bug_files == sorted(files)
    # Every BUG appears exactly once even though big.py was split over several passes.
    assert sum(1 for f in data["findings"] if f["category"] == "bug") == len(files)
    assert sum(1 for f in data["findings"] if f["category"] == "maintainability") == 1
    # Every prompt fitted the window (the server would report prompt_eval_count == num_ctx otherwise).
    for body in requests:
        assert "<|im_start|>" not in body["prompt"] and not body.get("raw")
    big_parts = [b for b in requests if "### pkg/big.py (lines " in b["prompt"]]
    assert len(big_parts) >= 2
    assert "several parts" in requests[0]["prompt"]
    assert tree_hashes(root) == before


def test_review_plan_shows_passes_without_generating(
    env: OllamaFake, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["review", "calc", "--plan"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1 pass(es) for calc; prompt budget ")
    assert "pass 1: " in out and "calc/ops.py" in out
    assert generate_requests(env) == []


def test_review_staged_changes_reviews_only_the_change(
    env: OllamaFake, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (repo / "calc/stats.py").read_text()
    (repo / "calc/stats.py").write_text(
        text + "\n\ndef broken(y: float) -> float:\n    return y / 0  # BUG\n"
    )
    git(repo, "add", "calc/stats.py")
    # An unstaged edit after staging: the review must see the staged text, not this.
    (repo / "calc/stats.py").write_text(text + "\n# unstaged\n")
    env.script(reviewer(), model=MODEL)
    assert main(["review", "--staged"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("calc/stats.py:")
    prompt = generate_requests(env)[0]["prompt"]
    # The changed lines carry the "+" mark, the unchanged context the "|" mark.
    assert re.search(r"^\s*\d+ \+     return y / 0  # BUG$", prompt, re.M)
    assert re.search(r"^\s*\d+ \| def stats_f0", prompt, re.M)
    assert "calc/ops.py" not in prompt.split("## Code under review")[1]
    assert "# unstaged" not in prompt


def test_review_nothing_staged(env: OllamaFake, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["review", "--staged"]) == 0
    assert "nothing staged to review" in capsys.readouterr().err
    assert generate_requests(env) == []


def test_review_diff_rev(env: OllamaFake, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_files(repo, {"calc/new.py": module("new", 2, bug_at=0)})
    git(repo, "add", "calc/new.py")
    git(repo, "commit", "-q", "-m", "new")
    env.script(reviewer(), model=MODEL)
    assert main(["review", "--diff", "HEAD~1"]) == 1
    assert capsys.readouterr().out.startswith("calc/new.py:")


# --------------------------------------------------------------------------- errors


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def down(env: OllamaFake, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("OLLAMA_HOST", url)
    yield url


def test_server_down_is_exit_2_with_one_line(
    down: str, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["review", "calc"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("assist: error: ") and "127.0.0.1" in err[-1]


def test_hook_mode_warns_and_passes_when_down(
    down: str, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "calc/ops.py").write_text("x = 1\n")
    git(repo, "add", "calc/ops.py")
    assert main(["review", "--hook"]) == 0
    err = capsys.readouterr().err
    assert "warning: skipped, the model server is not available" in err
    assert main(["review", "--hook", "--strict"]) == 2
    assert "assist: error: " in capsys.readouterr().err


def test_missing_model(env: OllamaFake, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["review", "calc", "--model", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert "assist: error: " in err and "nosuch" in err
    # A missing model is a setup problem: the hook fails on it too (waiting will not fix it).
    (repo / "calc/ops.py").write_text("x = 1\n")
    git(repo, "add", "calc/ops.py")
    assert main(["review", "--hook", "--model", "nosuch"]) == 2


def test_truncation_detected(env: OllamaFake, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The server reports that it evaluated the whole window: Ollama's sign of a silently cut prompt.
    env.script(Reply(json.dumps({"findings": []}), prompt_eval_count=32768), model=MODEL)
    assert main(["review", "calc"]) == 2
    err = capsys.readouterr().err
    assert "assist: error: " in err and "truncated" in err


def test_unusable_answer_is_retried_then_reported(
    env: OllamaFake, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env.script("not json at all", reviewer(), model=MODEL)
    assert main(["review", "calc/ops.py"]) == 1
    capsys.readouterr()
    env.script("{oops", Reply('{"findings": [', done_reason="length"), model=MODEL)
    assert main(["review", "calc/ops.py"]) == 2
    err = capsys.readouterr().err
    assert "did not answer the review of calc/ops.py with usable findings" in err
    assert "cut off" in err


def test_usage_errors(env: OllamaFake, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["review"]) == 2
    assert "nothing to review" in capsys.readouterr().err
    assert main(["review", "nope.py"]) == 2
    assert "nope.py: no such file or folder" in capsys.readouterr().err
    assert main(["review", "calc", "--staged"]) == 2
    assert main(["review", "calc", "--strict"]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["review", "calc", "--format", "xml"])
    assert exc.value.code == 2


def test_non_git_folder_binary_and_secret_files(
    env: OllamaFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "plain"
    write_files(
        root,
        {
            "app.py": module("app", 2, bug_at=0),
            "logo.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00binary",
            ".env": "API_KEY=sk-live-123456789012345678901234\n",
        },
    )
    monkeypatch.chdir(root)
    env.script(reviewer(), model=MODEL)
    assert main(["review", "."]) == 1
    out = capsys.readouterr().out
    assert out.startswith("app.py:")
    prompt = generate_requests(env)[0]["prompt"]
    assert "sk-live" not in prompt and "PNG" not in prompt  # secrets and binaries never reach a prompt
    assert main(["review", "logo.png"]) == 2
    assert "nothing reviewable there" in capsys.readouterr().err
    assert main(["review", "--staged"]) == 2
    assert "not a git repository" in capsys.readouterr().err


def test_secret_lines_are_redacted_and_findings_still_validate(
    env: OllamaFake, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "calc/keys.py").write_text(
        'TOKEN = "ghp_' + "a" * 36 + '"\n\n\ndef use(x):\n    return x / 0  # BUG\n'
    )
    env.script(reviewer(), model=MODEL)
    assert main(["review", "calc/keys.py"]) == 1
    prompt = generate_requests(env)[0]["prompt"]
    assert "ghp_" + "a" * 36 not in prompt and "REDACTED" in prompt
    assert capsys.readouterr().out.startswith("calc/keys.py:5: error [bug]")


def test_consolidate_lets_the_model_drop_and_lower_but_not_add(
    env: OllamaFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.remove_model(MODEL)
    env.add_model(MODEL, num_ctx=2600, num_predict=512, template=QWEN_TEMPLATE, stop=("<|im_end|>",))
    files = {f"pkg/m{i}.py": module(f"m{i}", 12, bug_at=3) for i in range(3)}
    root = make_repo(tmp_path / "several", files)
    monkeypatch.chdir(root)
    merge_prompts: list[str] = []
    pass_reviewer = reviewer()

    def answer(body: dict[str, Any]) -> str:
        if "consolidating the findings" not in body["prompt"]:
            return pass_reviewer(body)
        merge_prompts.append(body["prompt"])
        given = json.loads(body["prompt"].split("## Findings", 1)[1])["findings"]
        assert len(given) == 3 and all(g["quote"] == "return x / 0  # BUG" for g in given)
        kept = dict(given[0], severity="error", message="Division by zero (consolidated).")
        lowered = dict(given[1], severity="info")
        invented = dict(given[2], line=1, end_line=1, quote='"""Module m2."""', message="new finding")
        return json.dumps({"findings": [kept, lowered, invented]})

    env.script(*[answer for _ in range(40)], model=MODEL)
    assert main(["review", "pkg", "--format", "json", "--consolidate"]) == 1
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert len(merge_prompts) == 1 and data["passes"] >= 2
    assert [(f["file"], f["severity"], f["message"]) for f in data["findings"]] == [
        ("pkg/m0.py", "error", "Division by zero (consolidated)."),
        ("pkg/m1.py", "info", "Division by zero always raises ZeroDivisionError."),
    ]
    assert "consolidation by the model dropped 1 finding(s)" in data["notes"]
    assert "consolidating 3 findings" in err


def test_progress_bar_on_a_terminal(env: OllamaFake, repo: Path) -> None:
    """On a terminal stderr gets a rich progress bar; piped (the other tests) it gets plain lines."""
    import os
    import pty
    import subprocess
    import sys

    env.script(reviewer(), model=MODEL)
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "assistant.cli", "review", "calc"],
            cwd=repo,
            env={**os.environ, "COLUMNS": "100", "TERM": "xterm"},
            stdout=subprocess.PIPE,
            stderr=follower,
            timeout=120,
            check=False,
        )
        os.close(follower)
        follower = -1
        chunks = []
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
    finally:
        if follower != -1:
            os.close(follower)
        os.close(leader)
    err = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 1
    assert "review" in err and "━" in err  # the bar
    assert "pass 1/1" not in err  # no plain lines on a terminal
    assert proc.stdout.decode().startswith("calc/ops.py:")


def test_failure_midway_keeps_the_finished_passes(
    env: OllamaFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.remove_model(MODEL)
    env.add_model(MODEL, num_ctx=2600, num_predict=512, template=QWEN_TEMPLATE, stop=("<|im_end|>",))
    files = {f"pkg/m{i}.py": module(f"m{i}", 12, bug_at=3) for i in range(3)}
    root = make_repo(tmp_path / "midway", files)
    monkeypatch.chdir(root)
    # Pass 1 answers; pass 2's stream is cut once (retried) and then the runner fails for good.
    env.script(
        reviewer(),
        Reply('{"findings": [', cut_after=3),
        Reply(status=500, error="llama runner process has terminated"),
        model=MODEL,
    )
    assert main(["review", "pkg", "--format", "json"]) == 2
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert data["passes"] == 1 and len(data["findings"]) >= 1
    assert any(n.startswith("review incomplete: 1 of ") for n in data["notes"])
    assert "assist: error: " in err and "llama runner process has terminated" in err
    assert len(generate_requests(env)) == 3


def test_max_passes_guards_against_huge_targets(
    env: OllamaFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.remove_model(MODEL)
    env.add_model(MODEL, num_ctx=2600, num_predict=512, template=QWEN_TEMPLATE, stop=("<|im_end|>",))
    root = make_repo(tmp_path / "huge", {f"pkg/m{i}.py": module(f"m{i}", 12, bug_at=None) for i in range(4)})
    monkeypatch.chdir(root)
    assert main(["review", "pkg", "--max-passes", "2"]) == 2
    err = capsys.readouterr().err
    assert "needs " in err and "passes of the analysis model (limit 2)" in err and "--max-passes" in err
    assert generate_requests(env) == []
    assert main(["review", "pkg", "--max-passes", "0"]) == 0
    assert re.search(
        r"assist review: 4 files in \d+ passes of up to \d+ tokens with assist-coder", capsys.readouterr().err
    )


def test_stalled_server_times_out_and_the_hook_lets_the_commit_through(
    env: OllamaFake, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env.script(Reply(json.dumps({"findings": []}), first_byte_delay=5), model=MODEL)
    assert main(["review", "calc/ops.py", "--timeout", "0.5"]) == 2
    err = capsys.readouterr().err
    assert "assist: error: " in err and "sent nothing for 0.5 s" in err
    (repo / "calc/ops.py").write_text("x = 1\n")
    git(repo, "add", "calc/ops.py")
    env.script(Reply(json.dumps({"findings": []}), first_byte_delay=5), model=MODEL)
    assert main(["review", "--hook", "--timeout", "0.5"]) == 0
    assert "warning: skipped, the model server is not available" in capsys.readouterr().err
