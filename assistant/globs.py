"""Fast matching of fixed gitignore-style pattern lists (secret files, lock files).

``pathspec`` tries its patterns one by one per path; for the fixed lists we check every file of a
project against, one combined regular expression built from pathspec's own translations gives the
same answers about ten times faster (measured on the 6,890 files of the Django sdist).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pathspec

# pathspec's translation of a pattern that may match at any depth starts with this.
_ANY_DEPTH = "^(?:.+/)?"


def compile_patterns(lines: Iterable[str]) -> re.Pattern[str]:
    """One regex equivalent to a gitignore spec made only of including patterns; use ``.match(path)``.

    The any-depth prefix is factored out of the alternation: repeated in every alternative, it made
    the engine scan the whole path once per pattern (10 µs a path for the secret-file list, against
    2 µs factored), and discovery runs it on every file of a project.
    """
    spec = pathspec.GitIgnoreSpec.from_lines(list(lines))
    any_depth: list[str] = []
    anchored: list[str] = []
    for p in spec.patterns:
        if p.regex is None:
            continue
        if not p.include:
            raise ValueError(f"negated patterns are not supported here: {p.pattern!r}")
        body = p.regex.pattern.replace("(?P<ps_d>/)", "/")
        if body.startswith(_ANY_DEPTH):
            any_depth.append(f"(?:{body[len(_ANY_DEPTH) :]})")
        else:
            anchored.append(f"(?:{body})")
    parts = ([f"{_ANY_DEPTH}(?:{'|'.join(any_depth)})"] if any_depth else []) + anchored
    return re.compile("|".join(parts) if parts else r"(?!)")
