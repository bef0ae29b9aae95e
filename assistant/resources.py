"""Locate the data that ships with `assist`: ``prompts/`` and ``modelfiles/``.

In a built wheel both folders live inside the package as ``assistant/_data/<name>`` (see
``[tool.hatch.build.targets.wheel.force-include]``); in a checkout or an editable install they are the
top-level folders beside ``assistant/``. Either way an installed ``assist`` needs no checkout.
"""

from __future__ import annotations

from pathlib import Path

from assistant.errors import AssistError

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The folder of shipped data called ``name`` ("prompts" or "modelfiles")."""
    for candidate in (_PACKAGE_DIR / "_data" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise AssistError(f"the '{name}' data folder is missing from this installation", hint="reinstall assist")


def prompt_path(name: str) -> Path:
    """Path of prompt ``name`` (file name with or without extension) in ``prompts/``."""
    folder = data_dir("prompts")
    direct = folder / name
    if direct.is_file():
        return direct
    matches = sorted(p for p in folder.glob(f"{name}.*") if p.is_file())
    if not matches:
        known = ", ".join(sorted(p.stem for p in folder.iterdir() if p.is_file()))
        raise AssistError(f"no prompt named {name!r} (known: {known})")
    return matches[0]


def load_prompt(name: str) -> str:
    """The text of prompt ``name``; prompts are data, edited without touching code."""
    return prompt_path(name).read_text(encoding="utf-8")
