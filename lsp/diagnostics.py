"""Review findings → LSP diagnostics and quick fixes.

Findings count lines 1-based and inclusive (``assistant.findings``); LSP counts 0-based with an exclusive
end, so a finding on lines 3–4 covers ``(2, 0)`` to the end of line index 3.

A finding's ``suggestion`` is text from the model. When it carries code (a fenced block), the quick fix
replaces the finding's lines with that code; when it is prose, the quick fix records it as a TODO comment
above the finding (in the file's comment syntax), so the advice is not lost once the diagnostic goes.
Nothing is ever applied without the user choosing the action.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from lsprotocol import types

from assistant.findings import Finding

SOURCE = "assist"
SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
}
# Line-comment syntax by file extension, for the "keep the advice as a TODO" quick fix.
LINE_COMMENT = {
    **dict.fromkeys(
        (".py", ".sh", ".bash", ".rb", ".pl", ".r", ".yaml", ".yml", ".toml", ".cfg", ".ini", ".mk"), "#"
    ),
    **dict.fromkeys(
        (".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs", ".go", ".rs", ".java", ".kt", ".scala", ".swift"), "//"
    ),
    **dict.fromkeys((".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".cs", ".php", ".dart", ".zig"), "//"),
    **dict.fromkeys((".lua", ".sql", ".hs", ".elm"), "--"),
}
FENCE = re.compile(r"```[^\n]*\n(.*?)```", re.DOTALL)
UNVERIFIED_NOTE = " (location approximate)"


@dataclass(frozen=True)
class Published:
    """A diagnostic and the finding it came from, kept to answer code-action requests."""

    diagnostic: types.Diagnostic
    finding: Finding


def finding_range(finding: Finding, lines: Sequence[str]) -> types.Range:
    """The LSP range of a finding; clamped to the document so a stale finding never points past the end."""
    last = max(len(lines) - 1, 0)
    start = min(max(finding.line - 1, 0), last)
    end = min(max(finding.end_line - 1, start), last)
    end_char = len(lines[end]) if lines else 0
    return types.Range(types.Position(start, 0), types.Position(end, end_char))


def to_diagnostic(finding: Finding, lines: Sequence[str]) -> types.Diagnostic:
    message = finding.message + ("" if finding.verified else UNVERIFIED_NOTE)
    if finding.suggestion:
        message += f"\nSuggestion: {finding.suggestion}"
    return types.Diagnostic(
        range=finding_range(finding, lines),
        message=message,
        severity=SEVERITY.get(finding.severity, types.DiagnosticSeverity.Information),
        code=finding.category,
        source=SOURCE,
    )


def publishable(findings: Iterable[Finding], text_of: dict[str, str]) -> dict[str, list[Published]]:
    """Findings grouped by file (relative path) as diagnostics, in a stable order."""
    grouped: dict[str, list[Published]] = {}
    for finding in sorted(findings, key=Finding.sort_key):
        lines = text_of.get(finding.file, "").split("\n")
        grouped.setdefault(finding.file, []).append(Published(to_diagnostic(finding, lines), finding))
    return grouped


def suggested_code(suggestion: str) -> str | None:
    """The code of the first fenced block in a suggestion, if it has one."""
    match = FENCE.search(suggestion)
    return match.group(1) if match else None


def _overlaps(a: types.Range, b: types.Range) -> bool:
    return (a.start.line, a.start.character) <= (b.end.line, b.end.character) and (
        b.start.line,
        b.start.character,
    ) <= (a.end.line, a.end.character)


def quick_fixes(
    uri: str, text: str, published: Sequence[Published], at: types.Range
) -> list[types.CodeAction]:
    """Quick fixes for the findings of one document that overlap ``at``."""
    lines = text.split("\n")
    actions: list[types.CodeAction] = []
    for item in published:
        finding, diag = item.finding, item.diagnostic
        if not finding.suggestion or not _overlaps(diag.range, at):
            continue
        code = suggested_code(finding.suggestion)
        if code is not None:
            title = f"assist: apply suggestion ({finding.category})"
            edit = types.TextEdit(range=diag.range, new_text=code.rstrip("\n"))
        else:
            comment = LINE_COMMENT.get(PurePosixPath(finding.file).suffix.lower())
            if comment is None:
                continue
            line = lines[diag.range.start.line] if diag.range.start.line < len(lines) else ""
            indent = line[: len(line) - len(line.lstrip())]
            note = " ".join(finding.suggestion.split())
            title = f"assist: add suggestion as TODO ({finding.category})"
            start = types.Position(diag.range.start.line, 0)
            edit = types.TextEdit(
                range=types.Range(start, start), new_text=f"{indent}{comment} TODO(assist): {note}\n"
            )
        actions.append(
            types.CodeAction(
                title=title,
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[diag],
                edit=types.WorkspaceEdit(changes={uri: [edit]}),
                is_preferred=code is not None,
            )
        )
    return actions
