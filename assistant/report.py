"""Renderers for a ``ReviewReport``: text for people, JSON for scripts, SARIF 2.1.0 for code-scanning
dashboards, and GitHub workflow commands for inline annotations on a pull request.

Every renderer is a pure function of the report (plus the project root where a format wants absolute
locations), so output is deterministic: findings arrive sorted and nothing here iterates a set.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from assistant import __version__
from assistant.findings import CATEGORIES, Finding, ReviewReport

Format = Literal["text", "json", "sarif", "github"]
FORMATS: tuple[Format, ...] = ("text", "json", "sarif", "github")

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
# The uriBaseId every result location is relative to; consumers (GitHub code scanning) resolve it
# against the checkout, and originalUriBaseIds records where it was on this machine.
SARIF_ROOT_ID = "SRCROOT"
# SARIF levels are error | warning | note | none; "info" is a note.
SARIF_LEVELS = {"error": "error", "warning": "warning", "info": "note"}
# GitHub workflow commands: ::error / ::warning / ::notice.
GITHUB_COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}
JSON_REPORT_VERSION = 1

_CATEGORY_TEXT = {
    "bug": "Incorrect behaviour",
    "security": "Security weakness",
    "error-handling": "Missing or wrong error handling",
    "concurrency": "Race, deadlock or unsafe sharing",
    "performance": "Needless cost in time or memory",
    "resource-leak": "A file, socket, lock or process not released",
    "api-misuse": "A library or API used against its contract",
    "maintainability": "Code that is hard to change safely",
    "documentation": "Missing, wrong or misleading documentation",
    "testing": "Missing or ineffective tests",
    "style": "Readability and convention",
    "other": "Other finding",
}


def render(report: ReviewReport, fmt: str, root: Path | None = None) -> str:
    """The report in format ``fmt`` (one of ``FORMATS``), ending with a newline."""
    if fmt == "text":
        return render_text(report)
    if fmt == "json":
        return render_json(report)
    if fmt == "sarif":
        return render_sarif(report, root)
    if fmt == "github":
        return render_github(report)
    raise ValueError(f"unknown report format {fmt!r}")


# --------------------------------------------------------------------------- text


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary_line(report: ReviewReport) -> str:
    counts = report.counts()
    files = _plural(len(report.files), "file")
    passes = f"{report.passes} pass" if report.passes == 1 else f"{report.passes} passes"
    if not report.findings:
        head = f"no findings in {files}"
    else:
        errors, warnings = _plural(counts["error"], "error"), _plural(counts["warning"], "warning")
        parts = f"{errors}, {warnings}, {counts['info']} info"
        head = f"{_plural(len(report.findings), 'finding')} ({parts}) in {files}"
    tail = f"{passes}, model {report.model}"
    if report.rejected:
        tail += f", {len(report.rejected)} dropped for invented locations"
    return f"{head} ({tail})"


def render_text(report: ReviewReport) -> str:
    """``path:line: severity [category] message`` lines, the suggestion indented below, then a summary."""
    out: list[str] = []
    for f in report.findings:
        where = f"{f.file}:{f.line}" + (f"-{f.end_line}" if f.end_line != f.line else "")
        flag = " (location unverified)" if not f.verified else ""
        out.append(f"{where}: {f.severity} [{f.category}] {f.message}{flag}")
        if f.suggestion:
            lines = f.suggestion.splitlines()
            out.append(f"    suggestion: {lines[0]}")
            out.extend(f"    {line}" for line in lines[1:])
    out.extend(f"note: {note}" for note in report.notes)
    if report.findings or report.notes:
        out.append("")
    out.append(summary_line(report))
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- json


def report_dict(report: ReviewReport) -> dict[str, Any]:
    return {
        "version": JSON_REPORT_VERSION,
        "tool": {"name": "assist", "version": __version__},
        "target": report.target,
        "model": report.model,
        "passes": report.passes,
        "files": list(report.files),
        "summary": report.counts(),
        "findings": [f.to_dict() for f in report.findings],
        "dropped": [{"reason": r.reason, "raw": dict(r.raw)} for r in report.rejected],
        "notes": list(report.notes),
    }


def render_json(report: ReviewReport) -> str:
    return json.dumps(report_dict(report), indent=2, ensure_ascii=False, default=str) + "\n"


# --------------------------------------------------------------------------- sarif


def _fingerprint(f: Finding) -> str:
    """Stable across runs and line shifts (no line number), so code scanning tracks one alert over time."""
    key = "\x1f".join((f.file, f.category, " ".join(f.message.lower().split())))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _sarif_message(f: Finding) -> str:
    return f"{f.message}\n\nSuggestion: {f.suggestion}" if f.suggestion else f.message


def sarif_dict(report: ReviewReport, root: Path | None = None) -> dict[str, Any]:
    rule_ids = [c for c in CATEGORIES if any(f.category == c for f in report.findings)]
    rules = [
        {
            "id": c,
            "name": "".join(part.capitalize() for part in c.split("-")),
            "shortDescription": {"text": _CATEGORY_TEXT.get(c, c)},
            "defaultConfiguration": {"level": "warning"},
        }
        for c in rule_ids
    ]
    results = []
    for f in report.findings:
        result: dict[str, Any] = {
            "ruleId": f.category,
            "ruleIndex": rule_ids.index(f.category),
            "level": SARIF_LEVELS[f.severity],
            "message": {"text": _sarif_message(f)},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": quote(f.file), "uriBaseId": SARIF_ROOT_ID},
                        "region": {"startLine": f.line, "endLine": f.end_line},
                    }
                }
            ],
            "partialFingerprints": {"assistFinding/v1": _fingerprint(f)},
            "properties": {"verified": f.verified},
        }
        if f.suggestion:
            result["properties"]["suggestion"] = f.suggestion
        results.append(result)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "assist",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": rules,
            }
        },
        "invocations": [{"executionSuccessful": True}],
        "results": results,
        "properties": {"model": report.model, "target": report.target, "passes": report.passes},
    }
    if root is not None:
        run["originalUriBaseIds"] = {SARIF_ROOT_ID: {"uri": root.resolve().as_uri().rstrip("/") + "/"}}
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


def render_sarif(report: ReviewReport, root: Path | None = None) -> str:
    return json.dumps(sarif_dict(report, root), indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- github


def _escape_data(text: str) -> str:
    # The escaping of @actions/core's command.ts: data escapes %, CR, LF; property values also : and ,.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: ReviewReport) -> str:
    """GitHub Actions workflow commands; printed in a job they become annotations on the changed lines."""
    out = []
    for f in report.findings:
        props = f"file={_escape_property(f.file)},line={f.line},endLine={f.end_line}"
        props += f",title={_escape_property(f'assist: {f.category}')}"
        out.append(f"::{GITHUB_COMMANDS[f.severity]} {props}::{_escape_data(_sarif_message(f))}")
    out.append(summary_line(report))
    return "\n".join(out) + "\n"
