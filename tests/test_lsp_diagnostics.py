"""Review findings → LSP diagnostics and quick fixes (lsp.diagnostics)."""

from __future__ import annotations

from lsprotocol import types

from assistant.findings import Finding
from lsp.diagnostics import SOURCE, publishable, quick_fixes, suggested_code, to_diagnostic

TEXT = "import os\n\ndef f(path):\n    data = open(path).read()\n    return data\n"
LINES = TEXT.split("\n")
URI = "file:///proj/a.py"


def finding(**kw: object) -> Finding:
    base: dict[str, object] = {
        "file": "a.py",
        "line": 4,
        "end_line": 4,
        "severity": "warning",
        "category": "resource-leak",
        "message": "file is never closed",
    }
    base.update(kw)
    return Finding(**base)  # type: ignore[arg-type]


def test_lines_severity_source_and_code() -> None:
    d = to_diagnostic(finding(line=3, end_line=4, severity="error"), LINES)
    assert d.range == types.Range(types.Position(2, 0), types.Position(3, len(LINES[3])))
    assert d.severity == types.DiagnosticSeverity.Error
    assert d.source == SOURCE == "assist"
    assert d.code == "resource-leak"
    assert to_diagnostic(finding(severity="info"), LINES).severity == types.DiagnosticSeverity.Information
    assert to_diagnostic(finding(), LINES).severity == types.DiagnosticSeverity.Warning


def test_stale_lines_are_clamped_into_the_document() -> None:
    d = to_diagnostic(finding(line=40, end_line=45), LINES)
    last = len(LINES) - 1
    assert d.range.start.line == last and d.range.end.line == last


def test_unverified_location_and_suggestion_are_in_the_message() -> None:
    d = to_diagnostic(finding(verified=False, suggestion="use a with block"), LINES)
    assert "location approximate" in d.message
    assert "Suggestion: use a with block" in d.message


def test_grouped_by_file_in_a_stable_order() -> None:
    grouped = publishable(
        [finding(line=5, end_line=5), finding(file="b.py", line=1, end_line=1), finding(line=1, end_line=1)],
        {"a.py": TEXT, "b.py": "x = 1\n"},
    )
    assert sorted(grouped) == ["a.py", "b.py"]
    assert [p.finding.line for p in grouped["a.py"]] == [1, 5]


def test_code_suggestion_becomes_a_replacing_quick_fix() -> None:
    code = "    with open(path) as fh:\n        data = fh.read()\n"
    f = finding(suggestion=f"Use a context manager:\n```python\n{code}```")
    published = publishable([f], {"a.py": TEXT})["a.py"]
    actions = quick_fixes(URI, TEXT, published, types.Range(types.Position(3, 5), types.Position(3, 5)))
    assert len(actions) == 1
    action = actions[0]
    assert action.kind == types.CodeActionKind.QuickFix
    assert action.is_preferred
    assert action.diagnostics == [published[0].diagnostic]
    assert action.edit is not None and action.edit.changes is not None
    (edit,) = action.edit.changes[URI]
    assert edit.range == published[0].diagnostic.range
    assert edit.new_text == code.rstrip("\n")


def test_prose_suggestion_becomes_a_todo_comment_above_the_finding() -> None:
    f = finding(suggestion="Close the file,\n  e.g. with a context manager.")
    published = publishable([f], {"a.py": TEXT})["a.py"]
    (action,) = quick_fixes(URI, TEXT, published, types.Range(types.Position(3, 0), types.Position(3, 0)))
    assert action.edit is not None and action.edit.changes is not None
    (edit,) = action.edit.changes[URI]
    assert edit.range == types.Range(types.Position(3, 0), types.Position(3, 0))
    assert edit.new_text == "    # TODO(assist): Close the file, e.g. with a context manager.\n"
    assert not action.is_preferred


def test_no_action_without_suggestion_or_outside_the_range() -> None:
    published = publishable([finding(), finding(line=1, end_line=1, suggestion="x")], {"a.py": TEXT})["a.py"]
    far = types.Range(types.Position(4, 0), types.Position(4, 1))
    assert quick_fixes(URI, TEXT, published, far) == []


def test_js_comment_syntax_and_unknown_extension() -> None:
    js = "let x = 1;\n"
    f = finding(file="a.js", line=1, end_line=1, suggestion="use const")
    (action,) = quick_fixes(
        URI,
        js,
        publishable([f], {"a.js": js})["a.js"],
        types.Range(types.Position(0, 0), types.Position(0, 0)),
    )
    assert action.edit is not None and action.edit.changes is not None
    assert action.edit.changes[URI][0].new_text == "// TODO(assist): use const\n"
    f2 = finding(file="notes.unknownext", line=1, end_line=1, suggestion="prose")
    assert (
        quick_fixes(
            URI,
            js,
            publishable([f2], {})["notes.unknownext"],
            types.Range(types.Position(0, 0), types.Position(0, 0)),
        )
        == []
    )


def test_suggested_code_takes_the_first_fence() -> None:
    assert suggested_code("a\n```\nx = 1\n```\n```\ny\n```") == "x = 1\n"
    assert suggested_code("no code here") is None
