"""`assist pack` and `assist context` through the real console script (subprocess, like an editor or hook)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from repo_factory import SHOP, make_repo

ASSIST = [sys.executable, "-m", "assistant.cli"]

SECRETS = {
    ".env": "DATABASE_PASSWORD=hunter2-super-secret\n",
    ".env.local": "STRIPE=sk_live_abcdefghijklmnop1234\n",
    "deploy/id_ed25519": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
    "certs/tls.key": "PRIVATEKEYMATERIAL\n",
    "settings.py": (
        "AWS_ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE'\n"
        "aws_secret_access_key = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'\n"
        "GITHUB_TOKEN = 'ghp_abcdefghijklmnopqrstuvwxyz0123456789'\n"
        "SLACK = 'xoxb-1234567890-abcdefghijklmnop'\n"
        'api_key = "zq8W3rT5yU7iO9pA"\n'
        "KEY = '''\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo\n-----END RSA PRIVATE KEY-----\n'''\n"
        "DEBUG = True\n"
        "def load_settings():\n    return DEBUG\n"
    ),
    "app.py": "from settings import load_settings\n\nload_settings()\n",
}
LEAKS = (
    "hunter2",
    "sk_live_abcdefghijklmnop1234",
    "b3BlbnNzaC1rZXktdjEAAAAA",
    "PRIVATEKEYMATERIAL",
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "xoxb-1234567890-abcdefghijklmnop",
    "zq8W3rT5yU7iO9pA",
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo",
)


def run(*args: str, cwd: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [*ASSIST, *args], cwd=cwd, input=stdin, capture_output=True, text=True, env=env, timeout=120
    )


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "shop", SHOP)


def test_pack_prints_context_and_summary(shop: Path) -> None:
    out = run("pack", str(shop), "--budget", "3000")
    assert out.returncode == 0, out.stderr
    assert "## shop/models.py" in out.stdout
    summary = out.stderr.strip().splitlines()
    assert len(summary) == 1 and summary[0].startswith("assist pack: ") and "/3000 tokens" in summary[0]


def test_pack_formats_and_output_file(shop: Path, tmp_path: Path) -> None:
    out = run("pack", str(shop / "shop/billing.py"), "--budget", "2000", "--format", "json")
    data = json.loads(out.stdout)
    assert data["budget"] == 2000 and data["tokens"] <= 2000
    assert data["items"][-1] == {**data["items"][-1], "path": "shop/billing.py", "kind": "full"}
    xml = run("pack", str(shop), "--budget", "2000", "--format", "xml").stdout
    assert xml.startswith("<context>") and '<file path="shop/models.py"' in xml
    target = tmp_path / "packed.md"
    assert run("pack", str(shop), "-o", str(target)).returncode == 0
    assert target.read_text().startswith("## ")


def test_pack_focus_and_diff(shop: Path) -> None:
    out = run("pack", str(shop), "--focus", f"{shop / 'shop/billing.py'}:8", "--budget", "2000")
    assert "snippet format_money" in out.stdout, out.stderr
    (shop / "shop/models.py").write_text((shop / "shop/models.py").read_text().replace("EUR", "USD"))
    out = run("pack", str(shop), "--diff", "HEAD", "--budget", "2000")
    assert (
        "(hunk, lines" in out.stdout and '+    return f"{cents // 100}.{cents % 100:02d} USD"' in out.stdout
    )


def test_context_json_shape(shop: Path) -> None:
    out = run(
        "context",
        str(shop / "shop/billing.py"),
        "--line",
        "8",
        "--column",
        "19",
        "--json",
        "--budget",
        "1200",
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) == {"budget", "tokens", "prompt", "items"}
    assert data["budget"] == 1200 and data["tokens"] <= 1200
    assert all(set(i) == {"path", "kind", "tokens", "text"} for i in data["items"])
    assert all(i["kind"] in ("full", "outline", "snippet") for i in data["items"])
    assert any(i["path"] == "shop/models.py" and i["kind"] == "snippet" for i in data["items"])
    assert data["prompt"].endswith("<|fim_middle|>")
    assert "    return format_m<|fim_suffix|>oney(invoice.total_cents)" in data["prompt"]


def test_context_reads_unsaved_text_from_stdin(shop: Path) -> None:
    buffer = "from shop.models import format_money\n\nformat_money(\n"
    out = run(
        "context",
        str(shop / "shop/new_module.py"),
        "--line",
        "3",
        "--column",
        "13",
        "--stdin",
        "--json",
        stdin=buffer,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert "format_money(<|fim_suffix|>" in data["prompt"]
    assert any(i["kind"] == "snippet" and "def format_money" in i["text"] for i in data["items"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["pack", "/no/such/path"], "no such file or folder"),
        (["context", "{shop}/nope.py", "--line", "1", "--column", "0"], "no such file"),
        (["context", "{shop}/shop/billing.py", "--line", "99", "--column", "0"], "line 99 is out of range"),
        (
            ["context", "{shop}/shop/billing.py", "--line", "1", "--column", "500"],
            "column 500 is out of range",
        ),
        (["pack", "{shop}", "--budget", "5"], "too small"),
        (["context", "{shop}/shop/billing.py", "--line", "1", "--column", "0", "--budget", "5"], "too small"),
        (["pack", "{shop}", "--focus", "{shop}/shop/billing.py:400"], "out of range"),
        (["pack", "{shop}", "--diff", "not-a-rev"], "git diff failed"),
    ],
)
def test_bad_input_is_one_line_exit_2(shop: Path, args: list[str], message: str) -> None:
    out = run(*[a.replace("{shop}", str(shop)) for a in args])
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("assist: error: ") and message in lines[0], out.stderr
    assert "Traceback" not in out.stderr


def test_file_outside_project(shop: Path, tmp_path: Path) -> None:
    other = make_repo(tmp_path / "other", {"x.py": "x = 1\n"})
    out = run("pack", str(shop), "--focus", str(other / "x.py"))
    assert out.returncode == 2 and "not a file of the project" in out.stderr


def test_secrets_never_reach_any_output(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "leaky", SECRETS)
    outputs = []
    for fmt in ("markdown", "xml", "json"):
        outputs.append(run("pack", str(repo), "--budget", "20000", "--format", fmt))
        outputs.append(run("pack", str(repo / "settings.py"), "--budget", "20000", "--format", fmt))
    outputs.append(run("pack", str(repo), "--focus", f"{repo / 'app.py'}:3"))
    outputs.append(run("context", str(repo / "app.py"), "--line", "3", "--column", "0", "--json"))
    outputs.append(run("context", str(repo / "settings.py"), "--line", "9", "--column", "0", "--json"))
    outputs.append(
        run(
            "context",
            str(repo / "app.py"),
            "--line",
            "1",
            "--column",
            "0",
            "--stdin",
            stdin="TOKEN = 'ghp_abcdefghijklmnopqrstuvwxyz0123456789'\n",
        )
    )
    (repo / "settings.py").write_text(SECRETS["settings.py"] + "\nNEW = 'xoxb-1234567890-abcdefghijklmnop'\n")
    outputs.append(run("pack", str(repo), "--diff", "HEAD"))
    for out in outputs:
        assert out.returncode == 0, out.stderr
        for leak in LEAKS:
            assert leak not in out.stdout and leak not in out.stderr, (out.args, leak)
    assert "[REDACTED:aws-access-key]" in outputs[1].stdout
    assert "[REDACTED:private-key]" in outputs[1].stdout
    assert "load_settings" in outputs[1].stdout  # the rest of the file is still there


def test_paths_relative_to_the_working_folder_inside_the_project(shop: Path) -> None:
    """Paths on the command line are relative to where the user stands, not to the project root."""
    inner = shop / "shop"
    out = run("context", "billing.py", "--line", "8", "--column", "4", "--json", cwd=inner)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["prompt"].count("<|file_sep|>shop/billing.py\n") == 1
    out = run("pack", "billing.py", "--focus", "models.py:3", "--budget", "2000", cwd=inner)
    assert out.returncode == 0, out.stderr
    out = run("pack", ".", "--budget", "2000", "--format", "json", cwd=inner)
    assert out.returncode == 0, out.stderr
    assert {i["path"] for i in json.loads(out.stdout)["items"]} <= {
        "shop/__init__.py",
        "shop/models.py",
        "shop/billing.py",
        "shop/report.py",
    }


def test_console_exit_runs_exit_handlers_and_flushes_large_output(shop: Path, tmp_path: Path) -> None:
    """The console script ends with a fast exit: exit handlers must still run and a large stdout
    (bigger than any pipe buffer) must arrive whole, with the command's exit code."""
    marker = tmp_path / "atexit-ran"
    code = (
        "import atexit, pathlib, sys\n"
        f"atexit.register(pathlib.Path({str(marker)!r}).write_text, 'yes')\n"
        "from assistant.cli import console\n"
        f"sys.argv = ['assist', 'pack', {str(shop)!r}, '--budget', '200000', '--format', 'json']\n"
        "console()\n"
    )
    (shop / "big").mkdir()  # output larger than a 64 KiB pipe buffer
    for i in range(40):
        (shop / "big" / f"mod{i}.py").write_text(f"def f{i}(x):\n    return x\n" * 200)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert len(out.stdout) > 65536
    assert json.loads(out.stdout)["items"]
    assert marker.read_text() == "yes"
    marker.unlink()
    failing = code.replace(str(shop), str(tmp_path / "missing"))
    out = subprocess.run([sys.executable, "-c", failing], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert out.stderr.startswith("assist: error:")
    assert marker.read_text() == "yes"
