"""Build real projects (git or not) in temporary folders for the tests."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def write_files(root: Path, files: Mapping[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def git(root: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV, "HOME": str(root.parent)}
    out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, env=env, check=True)
    return out.stdout


def make_repo(root: Path, files: Mapping[str, str | bytes], *, commit: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    write_files(root, files)
    git(root, "init", "-q", "-b", "main")
    if commit:
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "initial")
    return root


# A small multi-file Python project used by several tests.
SHOP = {
    "shop/__init__.py": "",
    "shop/models.py": (
        '"""Domain models."""\n\n'
        "from dataclasses import dataclass\n\n\n"
        "@dataclass\n"
        "class Invoice:\n"
        '    """An invoice with lines."""\n\n'
        "    number: str\n"
        "    total_cents: int = 0\n\n"
        "    def add_line(self, cents: int) -> None:\n"
        '        """Add one line to the invoice."""\n'
        "        self.total_cents += cents\n\n\n"
        "def format_money(cents: int) -> str:\n"
        '    """Format cents as euros."""\n'
        '    return f"{cents // 100}.{cents % 100:02d} EUR"\n'
    ),
    "shop/billing.py": (
        "from shop.models import Invoice, format_money\n\n\n"
        "def bill(number: str, amounts: list[int]) -> str:\n"
        "    invoice = Invoice(number)\n"
        "    for cents in amounts:\n"
        "        invoice.add_line(cents)\n"
        "    return format_money(invoice.total_cents)\n"
    ),
    "shop/report.py": (
        "from .billing import bill\n\n\n"
        "def monthly_report(rows):\n"
        '    return "\\n".join(bill(n, a) for n, a in rows)\n'
    ),
    "web/app.ts": (
        "import { render } from './view';\n\n"
        "export function start(root: string): void {\n"
        "  render(root);\n"
        "}\n"
    ),
    "web/view.ts": "export function render(root: string): string {\n  return `<div>${root}</div>`;\n}\n",
    "README.md": "# Shop\n\nA tiny shop.\n",
}
