"""Filling the prompt templates in ``prompts/``.

Prompts are Markdown files with ``{name}`` placeholders (lower-case letters, digits and underscores).
Only those are replaced, in one pass, so JSON examples (``{"findings": []}``), code in the values and
braces anywhere else stay as written, and a value that itself contains ``{name}`` is never expanded
again. A placeholder without a value, or a value without a placeholder, is a bug in the caller and
raises, so a renamed placeholder cannot silently drop context from a prompt.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from assistant.errors import AssistError
from assistant.resources import load_prompt

PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")


def placeholders(template: str) -> list[str]:
    """The placeholder names of a template, sorted and unique."""
    return sorted(set(PLACEHOLDER.findall(template)))


def fill(template: str, values: Mapping[str, str], *, name: str = "prompt") -> str:
    """``template`` with every ``{key}`` replaced by ``values[key]``."""
    wanted = placeholders(template)
    missing = [k for k in wanted if k not in values]
    unused = sorted(k for k in values if k not in wanted)
    if missing or unused:
        missing_text, unused_text = ", ".join(missing) or "-", ", ".join(unused) or "-"
        raise AssistError(
            f"prompt template {name!r} does not match its caller "
            f"(missing values: {missing_text}; unknown placeholders: {unused_text})",
            hint="check the placeholders in the prompts/ file",
        )
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def render_prompt(name: str, values: Mapping[str, str]) -> str:
    """Load ``prompts/<name>.md`` and fill it."""
    return fill(load_prompt(name), values, name=name)
