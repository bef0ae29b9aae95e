"""The `assist-review` hook under the real pre-commit framework (PyPI), in a temporary git repository.

pre-commit clones the hook repository at a commit and pip-installs it into its own virtualenv
(``language: python``), so the tests build a snapshot repository of this checkout's tracked files as
they are in the work tree, point a local ``repos:`` entry at it, and commit with ``git commit`` through
the installed git hook. The Ollama-compatible test server plays the model server. Installing the hook's
environment takes a pip install from the package index (≈20 s here), once per test session.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ollama_fake import QWEN_TEMPLATE, OllamaFake
from repo_factory import GIT_ENV, git, make_repo

CHECKOUT = Path(__file__).resolve().parent.parent
# What the hook repository needs to build and install: the package, its data, its metadata.
SNAPSHOT_PATHS = (
    "pyproject.toml",
    "README.md",
    ".pre-commit-hooks.yaml",
    "assistant",
    "lsp",
    "prompts",
    "modelfiles",
)
PRE_COMMIT = [sys.executable, "-m", "pre_commit"]
MODEL = "assist-coder"
INSTALL_TIMEOUT = 600

pytestmark = [
    pytest.mark.skipif(shutil.which("git") is None, reason="git is required"),
    # The first test pays for pip-installing the hook environment (a fresh CI machine has no pip cache).
    pytest.mark.timeout(INSTALL_TIMEOUT + 120),
]


def tracked_files(root: Path) -> list[str]:
    out = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z", "--", *SNAPSHOT_PATHS], capture_output=True, check=True
    ).stdout
    return sorted(p for p in out.decode().split("\0") if p and (root / p).is_file())


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A git repository holding this checkout's tracked package files (work-tree contents), committed."""
    dest = tmp_path_factory.mktemp("hookrepo")
    files = tracked_files(CHECKOUT)
    assert ".pre-commit-hooks.yaml" in files, "the hook definition must be tracked"
    for rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(CHECKOUT / rel, target)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "snapshot")
    return dest, git(dest, "rev-parse", "HEAD").strip()


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory, hook_repo: tuple[Path, str]) -> Path:
    """pre-commit's cache with the hook environment installed once for the session."""
    home = tmp_path_factory.mktemp("pre-commit-home")
    project = make_repo(tmp_path_factory.mktemp("install") / "p", {"a.py": "x = 1\n"})
    write_config(project, hook_repo)
    out = run_pre_commit(project, home, "install-hooks", timeout=INSTALL_TIMEOUT)
    assert out.returncode == 0, out.stdout + out.stderr
    return home


def write_config(project: Path, hook_repo: tuple[Path, str], args: list[str] | None = None) -> None:
    hook: dict[str, Any] = {"id": "assist-review"}
    if args:
        hook["args"] = args
    config = {"repos": [{"repo": str(hook_repo[0]), "rev": hook_repo[1], "hooks": [hook]}]}
    # JSON is YAML: no YAML writer needed.
    (project / ".pre-commit-config.yaml").write_text(json.dumps(config, indent=2))


def base_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSIST_", "OLLAMA_", "PRE_COMMIT"))}
    env.update(GIT_ENV)
    env["PRE_COMMIT_HOME"] = str(home)
    env["XDG_CONFIG_HOME"] = str(home / "xdg-config")
    env["ASSIST_CACHE_DIR"] = str(home / "assist-cache")
    env.update(extra or {})
    return env


def run_pre_commit(
    project: Path, home: Path, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PRE_COMMIT, *args],
        cwd=project,
        env=base_env(home),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def commit(project: Path, home: Path, ollama_host: str) -> subprocess.CompletedProcess[str]:
    """``git commit`` through the installed pre-commit git hook; git hooks print on stderr, so the result's
    ``stdout`` holds both streams."""
    out = subprocess.run(
        ["git", "commit", "-m", "change"],
        cwd=project,
        env=base_env(home, {"OLLAMA_HOST": ollama_host, "HOME": str(project.parent)}),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    return subprocess.CompletedProcess(out.args, out.returncode, out.stdout + out.stderr, "")


def head_count(project: Path) -> int:
    return int(git(project, "rev-list", "--count", "HEAD").strip())


@pytest.fixture
def project(tmp_path: Path, hook_repo: tuple[Path, str], pre_commit_home: Path) -> Iterator[Path]:
    root = make_repo(tmp_path / "proj", {"calc.py": "def half(x):\n    return x / 2\n"})
    write_config(root, hook_repo)
    git(root, "add", ".pre-commit-config.yaml")
    git(root, "commit", "-q", "-m", "config")
    out = run_pre_commit(root, pre_commit_home, "install")
    assert out.returncode == 0, out.stderr
    yield root


@pytest.fixture
def server(ollama_fake: OllamaFake) -> OllamaFake:
    ollama_fake.add_model(
        MODEL, num_ctx=32768, num_predict=4096, template=QWEN_TEMPLATE, stop=("<|im_end|>",)
    )
    return ollama_fake


def stage_bug(project: Path) -> str:
    text = "def half(x):\n    return x / 0\n"
    (project / "calc.py").write_text(text)
    git(project, "add", "calc.py")
    return text


def finding(severity: str) -> str:
    return json.dumps(
        {
            "findings": [
                {
                    "file": "calc.py",
                    "line": 2,
                    "end_line": 2,
                    "quote": "return x / 0",
                    "severity": severity,
                    "category": "bug",
                    "message": "Division by zero.",
                    "suggestion": "divide by 2",
                }
            ]
        }
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_error_finding_blocks_the_commit(project: Path, pre_commit_home: Path, server: OllamaFake) -> None:
    text = stage_bug(project)
    server.script(finding("error"), model=MODEL)
    out = commit(project, pre_commit_home, server.url)
    assert out.returncode != 0, out.stdout + out.stderr
    assert "calc.py:2: error [bug] Division by zero." in out.stdout
    assert "assist review (staged changes)" in out.stdout and "Failed" in out.stdout
    assert head_count(project) == 2  # no commit was made
    assert (project / "calc.py").read_text() == text  # the hook never modifies files
    prompt = server.requests_to("/api/generate")[0].body["prompt"]
    assert "return x / 0" in prompt


def test_clean_review_and_warnings_let_the_commit_through(
    project: Path, pre_commit_home: Path, server: OllamaFake
) -> None:
    stage_bug(project)
    server.script(finding("warning"), model=MODEL)
    out = commit(project, pre_commit_home, server.url)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "calc.py:2: warning [bug]" in out.stdout  # shown (verbose hook), not blocking
    assert head_count(project) == 3


def test_server_down_warns_and_passes(project: Path, pre_commit_home: Path) -> None:
    stage_bug(project)
    out = commit(project, pre_commit_home, f"http://127.0.0.1:{free_port()}")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "warning: skipped, the model server is not available" in out.stdout
    assert head_count(project) == 3


def test_server_down_blocks_with_strict(
    project: Path, pre_commit_home: Path, hook_repo: tuple[Path, str]
) -> None:
    write_config(project, hook_repo, args=["--strict"])
    git(project, "add", ".pre-commit-config.yaml")
    stage_bug(project)
    out = commit(project, pre_commit_home, f"http://127.0.0.1:{free_port()}")
    assert out.returncode != 0
    assert "assist: error: cannot reach Ollama" in out.stdout
    assert head_count(project) == 2
