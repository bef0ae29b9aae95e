"""Flags and helpers shared by the sub-commands (parsing only; no work happens here)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from assistant.config import Role, Settings, load_settings


def add_backend_flags(parser: argparse.ArgumentParser) -> None:
    """``--host``, ``--model`` and ``--timeout`` for every command that talks to a model."""
    parser.add_argument(
        "--host", help="Ollama URL (overrides OLLAMA_HOST and config), e.g. http://gpu1:11434"
    )
    parser.add_argument("--model", help="model name for this command's role (overrides config and env)")
    parser.add_argument(
        "--timeout",
        type=float,
        help="seconds to wait for the first token (ASSIST_TIMEOUT); a cold 70B load can take minutes",
    )


def backend_overrides(args: argparse.Namespace, role: Role) -> dict[str, Any]:
    """Dotted config overrides from the backend flags, for ``load_settings(overrides=…)``."""
    overrides: dict[str, Any] = {}
    if getattr(args, "host", None):
        overrides["ollama.host"] = args.host
        overrides[f"roles.{role}.hosts"] = [args.host]
    if getattr(args, "model", None):
        overrides[f"roles.{role}.model"] = args.model
    if getattr(args, "timeout", None) is not None:
        overrides["ollama.first_token_timeout"] = args.timeout
    return overrides


def settings_for(
    args: argparse.Namespace, project_root: Path | None, role: Role | None = None, **extra: Any
) -> Settings:
    """Effective settings for a command: config layers plus this command's flags."""
    overrides: dict[str, Any] = dict(extra)
    if role is not None:
        overrides.update(backend_overrides(args, role))
    return load_settings(project_root, overrides=overrides)
