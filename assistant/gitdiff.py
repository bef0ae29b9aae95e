"""The diffs a review or a pack can focus on, read from git."""

from __future__ import annotations

import subprocess
from pathlib import Path

from assistant.errors import InputError


def diff_text(root: Path, rev: str | None = None, *, staged: bool = False, context_lines: int = 3) -> str:
    """``git diff`` of the work tree against ``rev`` (default: the index), or of the staged changes.

    Paths in the diff are relative to the repository top, which is the project root for every caller.
    """
    args = ["git", "-C", str(root), "diff", "--no-color", "--no-ext-diff", f"-U{context_lines}"]
    if staged:
        args.append("--cached")
    if rev:
        if rev.startswith("-"):
            raise InputError(f"{rev!r} is not a revision")
        args.append(rev)
    args.append("--")
    try:
        out = subprocess.run(args, capture_output=True, check=False)
    except OSError as exc:
        raise InputError(f"cannot run git: {exc.strerror}", hint="install git") from exc
    if out.returncode != 0:
        message = out.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = message[0] if message else f"exit {out.returncode}"
        if "not a git repository" in detail.lower():
            raise InputError(f"{root}: not a git repository, so there is no diff to review")
        raise InputError(f"git diff failed: {detail}")
    return out.stdout.decode("utf-8", "replace")
