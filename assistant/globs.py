"""Fast matching of fixed gitignore-style pattern lists (secret files, lock files).

``pathspec`` tries its patterns one by one per path; for the fixed lists we check every file of a
project against, one combined regular expression built from pathspec's own translations gives the
same answers about ten times faster (measured on the 6,890 files of the Django sdist).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pathspec


def compile_patterns(lines: Iterable[str]) -> re.Pattern[str]:
    """One regex equivalent to a gitignore spec made only of including patterns; use ``.match(path)``."""
    spec = pathspec.GitIgnoreSpec.from_lines(list(lines))
    parts = []
    for p in spec.patterns:
        if p.regex is None:
            continue
        if not p.include:
            raise ValueError(f"negated patterns are not supported here: {p.pattern!r}")
        parts.append(f"(?:{p.regex.pattern.replace('(?P<ps_d>/)', '/')})")
    return re.compile("|".join(parts) if parts else r"(?!)")
