"""Findings: schema, validation against the real files, merging across passes."""

from __future__ import annotations

import json

import jsonschema
import pytest

from assistant.findings import (
    CATEGORIES,
    Finding,
    SourceFile,
    at_or_above,
    findings_schema,
    merge_findings,
    parse_findings,
    resolve_path,
    validate_finding,
)

A = "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a - b\n"
SOURCES = {
    "pkg/calc.py": SourceFile.from_text("pkg/calc.py", A),
    "pkg/util/io.py": SourceFile.from_text("pkg/util/io.py", "import os\nopen('x')\n"),
    "io.py": SourceFile.from_text("io.py", "x = 1\n"),
}


def raw(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "file": "pkg/calc.py",
        "line": 2,
        "end_line": 2,
        "quote": "return a - b",
        "severity": "error",
        "category": "bug",
        "message": "add subtracts",
        "suggestion": "return a + b",
    }
    base.update(kw)
    return base


def test_schema_is_valid_json_schema_and_accepts_a_model_answer() -> None:
    schema = findings_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate({"findings": [raw()]}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"findings": [raw(severity="fatal")]}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"findings": [{"file": "a"}]}, schema)
    assert schema["properties"]["findings"]["items"]["properties"]["category"]["enum"] == list(CATEGORIES)


def test_valid_finding_is_kept_as_is() -> None:
    f = validate_finding(raw(), SOURCES)
    assert f == Finding("pkg/calc.py", 2, 2, "error", "bug", "add subtracts", "return a + b", True)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("pkg/calc.py", "pkg/calc.py"),
        ("./pkg/calc.py", "pkg/calc.py"),
        ("pkg\\calc.py", "pkg/calc.py"),
        ("`pkg/calc.py`", "pkg/calc.py"),
        ("pkg/calc.py:2", "pkg/calc.py"),
        ("/repo/pkg/calc.py", "pkg/calc.py"),
        ("calc.py", "pkg/calc.py"),  # unique suffix
        ("io.py", "io.py"),  # exact match wins over the suffix pkg/util/io.py
        ("util/io.py", "pkg/util/io.py"),
        ("other.py", None),
        ("", None),
        ("/etc/passwd", None),
    ],
)
def test_resolve_path(written: str, expected: str | None) -> None:
    assert resolve_path(written, sorted(SOURCES), root="/repo") == expected


def test_invented_file_is_rejected() -> None:
    r = validate_finding(raw(file="pkg/nothere.py"), SOURCES)
    assert not isinstance(r, Finding)
    assert "not one of the reviewed files" in r.reason


def test_line_is_moved_to_the_quoted_text_nearest_the_claim() -> None:
    # The model says line 4 (blank), the quoted text is on lines 2 and 6: the nearest (2... tie-> lower) wins.
    f = validate_finding(raw(line=5, end_line=5), SOURCES)
    assert isinstance(f, Finding) and f.line == 6 and f.verified
    f = validate_finding(raw(line=1, end_line=2), SOURCES)
    assert isinstance(f, Finding) and (f.line, f.end_line) == (2, 3)


def test_line_beyond_the_file_is_rescued_by_its_quote_or_dropped() -> None:
    f = validate_finding(raw(line=400, end_line=401, quote="def sub(a, b):"), SOURCES)
    assert isinstance(f, Finding) and (f.line, f.end_line) == (5, 6)
    r = validate_finding(raw(line=400, end_line=400, quote=""), SOURCES)
    assert not isinstance(r, Finding) and "outside pkg/calc.py (6 lines)" in r.reason
    r = validate_finding(raw(line=0, quote=""), SOURCES)
    assert not isinstance(r, Finding)


def test_quote_not_in_file_flags_the_finding() -> None:
    f = validate_finding(raw(line=1, end_line=1, quote="print('hello')"), SOURCES)
    assert isinstance(f, Finding) and f.line == 1 and not f.verified


def test_end_line_is_clamped_and_fields_normalised() -> None:
    f = validate_finding(
        raw(line=5, end_line=99, quote="", severity="HIGH", category="Error Handling", suggestion="  "),
        SOURCES,
    )
    assert isinstance(f, Finding)
    assert (f.line, f.end_line, f.severity, f.category, f.suggestion) == (
        5,
        6,
        "error",
        "error-handling",
        None,
    )
    f = validate_finding(raw(category="made-up", severity="??", line="2"), SOURCES)
    assert isinstance(f, Finding) and (f.category, f.severity, f.line) == ("other", "warning", 2)


def test_non_numeric_line_and_empty_message_are_rejected() -> None:
    assert not isinstance(validate_finding(raw(line="two", quote=""), SOURCES), Finding)
    assert not isinstance(validate_finding(raw(message="  "), SOURCES), Finding)
    assert not isinstance(validate_finding("oops", SOURCES), Finding)  # type: ignore[arg-type]


def test_parse_findings_accepts_object_list_and_fenced_answers() -> None:
    answer = json.dumps({"findings": [raw(), raw(file="ghost.py")]})
    kept, rejected = parse_findings(answer, SOURCES)
    assert [f.file for f in kept] == ["pkg/calc.py"] and len(rejected) == 1
    kept, _ = parse_findings("```json\n" + json.dumps([raw()]) + "\n```", SOURCES)
    assert len(kept) == 1
    with pytest.raises(ValueError):
        parse_findings('{"findings": [', SOURCES)
    with pytest.raises(ValueError):
        parse_findings('{"issues": []}', SOURCES)


def _f(line: int, message: str, **kw: object) -> Finding:
    base = {"file": "a.py", "line": line, "end_line": line, "severity": "warning", "category": "bug"}
    base.update(kw)
    return Finding(message=message, **base)  # type: ignore[arg-type]


def test_merge_drops_duplicates_across_passes_and_keeps_the_best() -> None:
    one = [_f(10, "Division by zero when count is 0"), _f(40, "unused variable x", category="style")]
    two = [
        _f(11, "division by zero when the count is 0", severity="error", suggestion="check count"),
        _f(
            40, "Unused variable x", category="maintainability"
        ),  # same text: same issue, whatever the category
        _f(80, "Division by zero when count is 0"),  # far away: a different place
        _f(10, "SQL built by string concatenation", category="security"),
    ]
    merged = merge_findings([one, two])
    assert [(f.line, f.severity, f.category) for f in merged] == [
        (10, "warning", "security"),
        (11, "error", "bug"),
        (40, "warning", "maintainability"),
        (80, "warning", "bug"),
    ]
    assert merged[1].suggestion == "check count"
    # Order of passes does not matter.
    assert merge_findings([two, one]) == merged


def test_merge_prefers_verified_location() -> None:
    a = _f(5, "leaks the file handle", verified=False, severity="error")
    b = _f(6, "leaks the file handle")
    assert merge_findings([[a], [b]]) == [b]


def test_at_or_above() -> None:
    fs = [_f(1, "a", severity="info"), _f(2, "b", severity="warning"), _f(3, "c", severity="error")]
    assert [f.line for f in at_or_above(fs, "warning")] == [2, 3]
    assert [f.line for f in at_or_above(fs, "info")] == [1, 2, 3]
    assert at_or_above(fs, "never") == []


def test_lines_are_counted_like_editors_do() -> None:
    text = "a = 1\r\nb = '\x0c'\r\nc = 3\u2028still c\r\nd = 4\r\n"
    src = SourceFile.from_text("x.py", text)
    assert src.lines == ("a = 1", "b = '\x0c'", "c = 3\u2028still c", "d = 4")
    f = validate_finding(
        {
            "file": "x.py",
            "line": 1,
            "end_line": 1,
            "quote": "d = 4",
            "severity": "info",
            "category": "style",
            "message": "m",
            "suggestion": "",
        },
        {"x.py": src},
    )
    assert isinstance(f, Finding) and f.line == 4
