"""Review findings: the data model, the JSON schema the model must answer with, validation against the
real files, and merging across passes.

Why validation exists: a language model cites files and line numbers it has only seen as text, and it
miscounts lines or invents paths. Every finding is therefore checked against the files that were
actually reviewed before anyone sees it:

* a path that is not one of the reviewed files is mapped to one if it is an unambiguous spelling of it
  (``./a.py``, an absolute path under the root, a unique path suffix), otherwise the finding is dropped;
* the model also quotes the source line it means (``quote``); when that text is found in the file the
  finding is moved to the nearest line that holds it (models are often a few lines off), when it is not
  found the finding is kept only if its line exists, and is flagged ``verified=False``;
* a line outside the file with no quote to relocate it is dropped.

Line numbers here are 1-based and inclusive, as editors, SARIF and GitHub annotations count them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
# Lowest first; the index is the rank used for --fail-on and for keeping the worst of duplicates.
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "error")

# A closed set so SARIF rule ids and filters stay stable across runs and models; the grammar Ollama builds
# from the schema keeps the model inside it, and anything else that arrives is mapped to "other".
CATEGORIES: tuple[str, ...] = (
    "bug",
    "security",
    "error-handling",
    "concurrency",
    "performance",
    "resource-leak",
    "api-misuse",
    "maintainability",
    "documentation",
    "testing",
    "style",
    "other",
)

# Words models use for severity outside the schema (when no grammar constrained them); others -> warning.
SEVERITY_ALIASES = {"critical": "error", "high": "error", "medium": "warning", "low": "info", "note": "info"}
# Two findings of one category whose line ranges are at most this far apart may be the same issue
# reported by two passes (each pass sees the code with a different surrounding).
MERGE_LINE_SLACK = 3
# difflib ratio above which two messages about nearby lines count as one finding.
MERGE_MESSAGE_SIMILARITY = 0.6
# Caps on what the model may send back per field, so one runaway answer cannot flood a report.
MAX_MESSAGE_CHARS = 2000
MAX_SUGGESTION_CHARS = 4000


@dataclass(frozen=True)
class Finding:
    """One problem the review found, at a verified location."""

    file: str  # path relative to the project root, posix separators
    line: int  # 1-based
    end_line: int  # 1-based, inclusive, >= line
    severity: Severity
    category: str
    message: str
    suggestion: str | None = None
    # False when the model's quoted source text was not found: the line exists but may be the wrong one.
    verified: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def sort_key(self) -> tuple[str, int, int, int, str, str]:
        return (
            self.file,
            self.line,
            self.end_line,
            -severity_rank(self.severity),
            self.category,
            self.message,
        )


@dataclass(frozen=True)
class Rejected:
    """A finding the model reported that did not survive validation, with the reason (for --verbose/JSON)."""

    raw: Mapping[str, Any]
    reason: str


@dataclass(frozen=True)
class ReviewReport:
    """Everything a renderer needs: the merged findings and what was reviewed."""

    findings: tuple[Finding, ...]
    files: tuple[str, ...]  # the reviewed files, sorted
    target: str  # what was asked for, e.g. "src/", "staged changes", "diff against HEAD~1"
    model: str
    passes: int
    rejected: tuple[Rejected, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)  # e.g. files skipped as binary

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {s: 0 for s in reversed(SEVERITIES)}
        for f in self.findings:
            counts[f.severity] += 1
        return counts


def severity_rank(severity: str) -> int:
    """0 for info, 1 for warning, 2 for error; unknown values rank lowest."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else -1  # type: ignore[arg-type]


def at_or_above(findings: Iterable[Finding], threshold: str) -> list[Finding]:
    """Findings whose severity reaches ``threshold``; ``"never"`` matches nothing."""
    if threshold == "never":
        return []
    rank = severity_rank(threshold)
    return [f for f in findings if severity_rank(f.severity) >= rank]


# --------------------------------------------------------------------------- schema for Ollama's `format`


def findings_schema() -> dict[str, Any]:
    """The JSON schema passed as Ollama's ``format``: the server turns it into a grammar, so the answer
    parses. Every property is required and ``suggestion`` is a plain string (empty for none) because
    llama.cpp's schema-to-grammar conversion handles required plain types most reliably."""
    finding = {
        "type": "object",
        "properties": {
            "file": {"type": "string", "description": "path exactly as shown in the file header"},
            "line": {"type": "integer", "minimum": 1, "description": "first line (1-based, as numbered)"},
            "end_line": {"type": "integer", "minimum": 1, "description": "last line, inclusive"},
            "quote": {"type": "string", "description": "the exact source text of the first line"},
            "severity": {"type": "string", "enum": list(reversed(SEVERITIES))},
            "category": {"type": "string", "enum": list(CATEGORIES)},
            "message": {"type": "string", "description": "what is wrong and why it matters"},
            "suggestion": {"type": "string", "description": "how to fix it; empty if obvious"},
        },
        "required": ["file", "line", "end_line", "quote", "severity", "category", "message", "suggestion"],
    }
    return {
        "type": "object",
        "properties": {"findings": {"type": "array", "items": finding}},
        "required": ["findings"],
    }


# --------------------------------------------------------------------------- validation


@dataclass(frozen=True)
class SourceFile:
    """The text of one reviewed file as the model saw it (lines without their newline)."""

    path: str
    lines: tuple[str, ...]

    @classmethod
    def from_text(cls, path: str, text: str) -> SourceFile:
        return cls(path, tuple(source_lines(text)))


def source_lines(text: str) -> list[str]:
    """Lines as editors, git and SARIF number them: split on LF only (``str.splitlines`` also splits on
    form feeds and Unicode separators, which would shift every later line number), CR of CRLF dropped."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


_LINE_SUFFIX = re.compile(r"(?::\d+){1,2}$")


def resolve_path(raw_path: str, known: Sequence[str], root: str | None = None) -> str | None:
    """Map what the model wrote as a path to one of the ``known`` reviewed paths, or None.

    Accepts ``./x``, backslashes, a trailing ``:line[:col]``, an absolute path under ``root``, quotes or
    backticks around it, and a unique path suffix (``b.py`` for ``pkg/b.py``)."""
    path = raw_path.strip().strip("`'\"").replace("\\", "/")
    path = _LINE_SUFFIX.sub("", path)
    if root:
        prefix = root.replace("\\", "/").rstrip("/") + "/"
        if path.startswith(prefix):
            path = path[len(prefix) :]
    while path.startswith("./"):
        path = path[2:]
    path = path.lstrip("/") if path not in known else path
    if path in known:
        return path
    if not path:
        return None
    suffix_matches = [k for k in known if k.endswith("/" + path)]
    if len(suffix_matches) == 1:
        return suffix_matches[0]
    return None


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _normalize_ws(text: str) -> str:
    return " ".join(text.split())


def _locate_quote(lines: Sequence[str], quote: str, near: int) -> int | None:
    """The 1-based line holding ``quote`` nearest to ``near``; exact (whitespace-normalised) line matches
    win over substring matches. None if the text is nowhere in the file."""
    wanted = _normalize_ws(quote)
    if not wanted:
        return None
    exact = [i + 1 for i, line in enumerate(lines) if _normalize_ws(line) == wanted]
    candidates = exact or [i + 1 for i, line in enumerate(lines) if wanted in _normalize_ws(line)]
    if not candidates:
        return None
    return min(candidates, key=lambda n: (abs(n - near), n))


def validate_finding(
    raw: Mapping[str, Any], sources: Mapping[str, SourceFile], root: str | None = None
) -> Finding | Rejected:
    """Check one raw finding from the model against the reviewed files (see the module docstring)."""
    if not isinstance(raw, Mapping):
        return Rejected({"value": repr(raw)}, "not an object")
    message = str(raw.get("message") or "").strip()
    if not message:
        return Rejected(raw, "empty message")
    path = resolve_path(str(raw.get("file") or ""), sorted(sources), root)
    if path is None:
        return Rejected(raw, f"file {raw.get('file')!r} is not one of the reviewed files")
    lines = sources[path].lines
    n_lines = max(len(lines), 1)
    line = _as_int(raw.get("line"))
    end_line = _as_int(raw.get("end_line"))
    if line is None:
        return Rejected(raw, "line is not a number")
    span = max(0, (end_line or line) - line)
    quote = str(raw.get("quote") or "")
    verified = True
    found = _locate_quote(lines, quote, line) if quote.strip() else None
    if found is not None:
        line = found
    elif not 1 <= line <= n_lines:
        return Rejected(raw, f"line {line} is outside {path} ({len(lines)} lines)")
    elif quote.strip():
        verified = False  # the line exists, but the text the model quoted is not in the file
    end = min(line + span, n_lines)
    severity = str(raw.get("severity") or "").strip().lower()
    if severity not in SEVERITIES:
        severity = {
            "critical": "error",
            "high": "error",
            "medium": "warning",
            "low": "info",
            "note": "info",
        }.get(severity, "warning")
    category = str(raw.get("category") or "").strip().lower().replace(" ", "-").replace("_", "-")
    if category not in CATEGORIES:
        category = "other"
    suggestion = str(raw.get("suggestion") or "").strip()[:MAX_SUGGESTION_CHARS] or None
    return Finding(
        file=path,
        line=line,
        end_line=end,
        severity=severity,  # type: ignore[arg-type]
        category=category,
        message=message[:MAX_MESSAGE_CHARS],
        suggestion=suggestion,
        verified=verified,
    )


def parse_findings(
    answer: str, sources: Mapping[str, SourceFile], root: str | None = None
) -> tuple[list[Finding], list[Rejected]]:
    """Parse a model answer (JSON per ``findings_schema``) and validate each finding.

    Raises ``ValueError`` when the answer is not JSON of that shape at all; the caller decides whether to
    ask again."""
    import json

    text = answer.strip()
    if text.startswith("```"):  # a model without grammar support may still fence its JSON
        text = text.strip("`")
        text = text[text.find("\n") + 1 :] if "\n" in text else text
    data = json.loads(text)
    if isinstance(data, list):
        items = data
    elif isinstance(data, Mapping) and isinstance(data.get("findings"), list):
        items = data["findings"]
    else:
        raise ValueError("expected an object with a 'findings' list")
    kept: list[Finding] = []
    rejected: list[Rejected] = []
    for item in items:
        result = validate_finding(item, sources, root)
        if isinstance(result, Finding):
            kept.append(result)
        else:
            rejected.append(result)
    return kept, rejected


# --------------------------------------------------------------------------- merging


def _same_issue(a: Finding, b: Finding) -> bool:
    if a.file != b.file:
        return False
    near = a.line <= b.end_line + MERGE_LINE_SLACK and b.line <= a.end_line + MERGE_LINE_SLACK
    if not near:
        return False
    ma, mb = _normalize_ws(a.message).lower(), _normalize_ws(b.message).lower()
    if ma == mb:
        return True
    if a.category != b.category:
        return False
    return difflib.SequenceMatcher(None, ma, mb).ratio() >= MERGE_MESSAGE_SIMILARITY


def _better(a: Finding, b: Finding) -> Finding:
    """Of two reports of one issue keep the more useful one, preferring (in order) a verified location,
    the higher severity, one with a suggestion, the longer message; ties go to the earlier sort key."""

    def score(f: Finding) -> tuple[int, int, int, int]:
        return (int(f.verified), severity_rank(f.severity), int(f.suggestion is not None), len(f.message))

    if score(a) != score(b):
        return a if score(a) > score(b) else b
    return min(a, b, key=Finding.sort_key)


def merge_findings(batches: Iterable[Iterable[Finding]]) -> list[Finding]:
    """Merge the findings of several passes: drop duplicates (same file, nearby lines, same or very similar
    message) keeping the best of each, and sort by file, line, severity. Deterministic for any input order."""
    everything = sorted((f for batch in batches for f in batch), key=Finding.sort_key)
    merged: list[Finding] = []
    for finding in everything:
        for i, kept in enumerate(merged):
            if _same_issue(kept, finding):
                merged[i] = _better(kept, finding)
                break
        else:
            merged.append(finding)
    return sorted(merged, key=Finding.sort_key)
