"""Whole-project review: plan budgeted passes, ask the analysis model for findings, validate, merge.

The flow, one function each:

1. ``collect_target`` — which files (``PATH…``) or which changed lines (``--staged``/``--diff REV``) are
   under review, and the exact text the model will see of each (for staged changes: the staged blob,
   which is what will be committed, not the work tree).
2. ``plan_passes`` — the code under review is cut into *units*: whole files, or, when a file is larger
   than a pass allows, runs of whole top-level definitions (for a diff: the definitions enclosing each
   hunk). Units are numbered line by line so findings can cite lines, and grouped into passes that fit
   the model's prompt budget. When everything fits, there is one pass. Each pass also gets project
   context from the packer (``assistant.pack``): outlines of the files it imports, of the parts of a
   split file it does not show, and a map of the rest, in whatever budget the code leaves.
3. ``run_review`` — one request per pass with the findings JSON schema as Ollama's ``format``; each
   answer is parsed and validated against the files (``assistant.findings``), then all passes are
   merged and de-duplicated.

Never writes to the reviewed files: everything here reads; the only output is the report.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import GenerationError, InputError
from assistant.findings import (
    Finding,
    Rejected,
    ReviewReport,
    SourceFile,
    findings_schema,
    merge_findings,
    parse_findings,
)
from assistant.secrets import redact
from assistant.templating import render_prompt
from assistant.tokens import TokenCounter

if TYPE_CHECKING:
    from assistant.backend import Backend
    from assistant.index import ProjectIndex
    from assistant.pack import Pack

# When the code under review needs several passes, this share of each pass's budget is for code and
# the rest for context (outlines of what the code uses, a map of the project): without context a
# model reviewing one file of many reports "undefined" names that live elsewhere.
CODE_SHARE = 0.7
# Below this many tokens for context a pass gets none (an outline fragment would only confuse).
MIN_CONTEXT_TOKENS = 200
# A unit is never cut smaller than this many lines when a single definition must be split by lines.
MIN_CHUNK_LINES = 20
# Requests per pass when the answer is not the JSON asked for (a grammar-less server, a cut answer).
ANSWER_ATTEMPTS = 2
# Sampling for review: deterministic answers make reruns comparable.
REVIEW_OPTIONS = {"temperature": 0}
# Marks in the numbered listing: a plain line, and a line the diff under review added or changed.
PLAIN_MARK = "|"
CHANGED_MARK = "+"

ProgressFn = Callable[[int, int, str], None]


# --------------------------------------------------------------------------- target


@dataclass(frozen=True)
class TargetFile:
    path: str  # relative to the project root
    text: str  # what the model sees and what findings are validated against
    changed: frozenset[int] = frozenset()  # 1-based lines added/changed by the diff; empty: whole file


@dataclass(frozen=True)
class ReviewTarget:
    description: str
    files: tuple[TargetFile, ...]
    diff_mode: bool
    notes: tuple[str, ...] = ()


def parse_changed_lines(diff: str) -> dict[str, set[int]]:
    """Per new-side path, the 1-based new-file line numbers added or changed by a unified diff.
    Deleted files are absent; a file whose diff only deletes lines maps to the line after the gap."""
    import re

    header = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
    changed: dict[str, set[int]] = {}
    path: str | None = None
    line_no = 0
    for line in diff.split("\n"):
        if line.startswith("diff --git "):
            path = None
        elif line.startswith("+++ "):
            target = line[4:].strip()
            path = None if target == "/dev/null" else target[2:] if target.startswith("b/") else target
            if path is not None:
                changed.setdefault(path, set())
        elif line.startswith("@@") and path is not None:
            m = header.match(line)
            line_no = int(m.group(1)) if m else 1
        elif path is None or line.startswith(("--- ", "\\")):
            continue
        elif line.startswith("+"):
            changed[path].add(line_no)
            line_no += 1
        elif line.startswith("-"):
            changed[path].add(max(1, line_no))  # a deletion: flag the line now in its place
        elif line.startswith(" "):
            line_no += 1
    return changed


def _staged_texts(root: Path, paths: Sequence[str]) -> dict[str, str]:
    """The staged (index) version of each path, read with one ``git cat-file --batch``."""
    if not paths:
        return {}
    request = "".join(f":{p}\n" for p in paths).encode("utf-8")
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "cat-file", "--batch"], input=request, capture_output=True, check=False
        )
    except OSError as exc:
        raise InputError(f"cannot run git: {exc.strerror}", hint="install git") from exc
    data = out.stdout
    texts: dict[str, str] = {}
    pos = 0
    from assistant.files import decode

    for p in paths:
        end = data.index(b"\n", pos)
        header = data[pos:end].decode("utf-8", "replace").split()
        pos = end + 1
        if len(header) == 3 and header[1] == "blob":
            size = int(header[2])
            texts[p] = decode(data[pos : pos + size]).text
            pos += size + 1
    return texts


def collect_target(
    index: ProjectIndex,
    paths: Sequence[str] = (),
    *,
    staged: bool = False,
    rev: str | None = None,
    cwd: Path | None = None,
) -> ReviewTarget:
    """Resolve what to review; relative ``paths`` are taken from ``cwd`` (default: the process's).
    Files the index does not hold (ignored, binary, secret, too large) are left out with a note, never
    sent."""
    state = index.state
    notes: list[str] = []
    if staged or rev:
        from assistant.gitdiff import diff_text

        diff = diff_text(index.root, rev, staged=staged)
        changed = parse_changed_lines(diff)
        what = "staged changes" if staged else f"changes against {rev}"
        if not changed:
            return ReviewTarget(what, (), True, ())
        reviewable = sorted(p for p in changed if p in state.files)
        for p in sorted(set(changed) - set(reviewable)):
            notes.append(f"{p}: not reviewed (ignored, binary, secret or too large)")
        texts = _staged_texts(index.root, reviewable) if staged else {p: state.text(p) for p in reviewable}
        files = tuple(
            TargetFile(p, texts[p], frozenset(changed[p]))
            for p in reviewable
            if p in texts and texts[p].strip()
        )
        return ReviewTarget(what, files, True, tuple(notes))

    if not paths:
        raise InputError("nothing to review: give PATH…, --staged or --diff REV")
    selected: set[str] = set()
    all_files = state.rels()
    base = cwd if cwd is not None else Path.cwd()
    for raw in paths:
        absolute = base / raw
        rel = index.resolve(absolute)
        if rel is None and absolute.resolve() == index.root:
            rel = ""
        if rel is None:
            raise InputError(f"{raw}: outside the project at {index.root}")
        if rel in state.files:
            selected.add(rel)
            continue
        under = all_files if rel == "" else [f for f in all_files if f.startswith(rel + "/")]
        if not under:
            if not absolute.exists():
                raise InputError(f"{raw}: no such file or folder")
            raise InputError(f"{raw}: nothing reviewable there (ignored, binary, secret or too large)")
        selected.update(under)
    files = tuple(TargetFile(p, state.text(p)) for p in sorted(selected))
    files = tuple(f for f in files if f.text.strip())
    described = ", ".join(paths) if len(paths) <= 3 else f"{', '.join(paths[:3])} and {len(paths) - 3} more"
    return ReviewTarget(described, files, False, tuple(notes))


# --------------------------------------------------------------------------- units and passes


@dataclass(frozen=True)
class Unit:
    """A run of lines of one file, rendered with line numbers, reviewed together."""

    path: str
    start: int  # 1-based
    end: int  # 1-based, inclusive
    total_lines: int
    text: str
    tokens: int

    @property
    def whole_file(self) -> bool:
        return self.start == 1 and self.end >= self.total_lines


@dataclass(frozen=True)
class ReviewPass:
    units: tuple[Unit, ...]
    prompt: str
    tokens: int
    context_tokens: int

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(sorted({u.path for u in self.units}))

    def describe(self) -> str:
        parts = [u.path if u.whole_file else f"{u.path}:{u.start}-{u.end}" for u in self.units]
        return ", ".join(parts) if len(parts) <= 3 else f"{', '.join(parts[:3])} +{len(parts) - 3}"


def number_lines(path: str, lines: Sequence[str], start: int, end: int, changed: frozenset[int]) -> str:
    """The listing a pass shows: a header, then ``  12 | code`` per line (``+`` for changed lines)."""
    width = len(str(len(lines)))
    span = f"lines {start}-{end} of {len(lines)}"
    out = [f"### {path} ({span})", "```"]
    for n in range(start, end + 1):
        mark = CHANGED_MARK if n in changed else PLAIN_MARK
        out.append(f"{n:>{width}} {mark} {lines[n - 1]}")
    out.append("```")
    return "\n".join(out) + "\n"


def _top_level_spans(path: str, text: str, n_lines: int) -> list[tuple[int, int]]:
    """1-based (start, end) line spans that cover the file in order: each top-level definition, and the
    code between them. Split points that keep definitions whole."""
    from assistant.syntax import parse_source

    facts = parse_source(path, text)
    tops = sorted(
        {(d.start_line + 1, d.end_line + 1) for d in facts.definitions if d.parent is None},
    )
    spans: list[tuple[int, int]] = []
    cursor = 1
    for start, end in tops:
        if start < cursor:  # nested or overlapping (decorators): already covered
            continue
        if start > cursor:
            spans.append((cursor, start - 1))
        spans.append((start, min(end, n_lines)))
        cursor = end + 1
    if cursor <= n_lines:
        spans.append((cursor, n_lines))
    return spans


def _enclosing_spans(path: str, text: str, n_lines: int, changed: frozenset[int]) -> list[tuple[int, int]]:
    """For a diff: the innermost definitions around changed lines (or a few lines around a change at
    top level), merged where they overlap."""
    from assistant.syntax import parse_source

    facts = parse_source(path, text)
    defs = [(d.start_line + 1, d.end_line + 1) for d in facts.definitions]
    spans: list[tuple[int, int]] = []
    for line in sorted(changed):
        around = [(s, e) for s, e in defs if s <= line <= e]
        if around:
            spans.append(min(around, key=lambda se: (se[1] - se[0], se)))
        else:
            spans.append((max(1, line - 3), min(n_lines, line + 3)))
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def units_for_file(
    target: TargetFile, counter: TokenCounter, max_tokens: int, *, diff_mode: bool
) -> list[Unit]:
    """One unit for the file when it fits ``max_tokens``, else the fewest runs of whole spans that do
    (a span larger than that alone is cut by lines)."""
    shown = redact(target.text)  # secrets never reach a prompt; redaction keeps line numbers
    lines = shown.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    n = max(len(lines), 1)
    if not lines:
        lines = [""]

    def make(start: int, end: int) -> Unit:
        text = number_lines(target.path, lines, start, end, target.changed)
        return Unit(target.path, start, end, len(lines), text, counter.count(text))

    whole = make(1, n)
    if whole.tokens <= max_tokens:
        return [whole]
    spans = (
        _enclosing_spans(target.path, target.text, n, target.changed)
        if diff_mode and target.changed
        else _top_level_spans(target.path, target.text, n)
    )
    # Cut spans that are too big on their own into line runs (binary search on the run length).
    pieces: list[tuple[int, int]] = []
    for s, e in spans:
        if make(s, e).tokens <= max_tokens:
            pieces.append((s, e))
            continue
        start = s
        while start <= e:
            lo, hi = min(MIN_CHUNK_LINES, e - start + 1), e - start + 1
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if make(start, start + mid - 1).tokens <= max_tokens:
                    lo = mid
                else:
                    hi = mid - 1
            pieces.append((start, start + lo - 1))
            start += lo
    # Greedily join neighbouring pieces while they fit (in a diff, only touching ones).
    units: list[Unit] = []
    cur: tuple[int, int] | None = None
    for s, e in pieces:
        if cur is not None and (not diff_mode or s <= cur[1] + 1) and make(cur[0], e).tokens <= max_tokens:
            cur = (cur[0], e)
            continue
        if cur is not None:
            units.append(make(*cur))
        cur = (s, e)
    if cur is not None:
        units.append(make(*cur))
    return units


def _context_for(
    index: ProjectIndex, units: Sequence[Unit], budget: int, counter: TokenCounter
) -> tuple[str, int]:
    """Project context for a pass within ``budget`` tokens: the packer's items for the pass's files,
    minus the code the pass already shows in full."""
    from assistant.pack import FRAME_TOKENS, MIN_BUDGET, Pack, PathsFocus, pack, render

    if budget < MIN_CONTEXT_TOKENS:
        return "", 0
    shown_whole = {u.path for u in units if u.whole_file}
    paths = tuple(sorted({u.path for u in units}))
    # The packer takes the focus files first; give it their cost on top so the rest gets ``budget``.
    extra = sum(u.tokens + FRAME_TOKENS for u in units if u.whole_file)
    target = budget + extra
    for _ in range(4):
        p: Pack = pack(index, PathsFocus(paths), max(MIN_BUDGET, target), counter)
        # The pass shows its files' code itself: keep only outlines of files it shows in part.
        items = tuple(
            i for i in p.items if i.path not in shown_whole and not (i.path in paths and i.kind == "full")
        )
        # Drop from the front (the map of the rest, least specific) until it fits.
        while items:
            text = render(Pack(items, budget, 0, p.files_seen, p.files_skipped, p.counter), "markdown")
            tokens = counter.count(text)
            if tokens <= budget:
                return text, tokens
            items = items[1:]
        target = int(target * 0.8)
    return "", 0


def scope_text(diff_mode: bool, split: bool) -> str:
    parts = []
    if diff_mode:
        parts.append(
            f"This is a review of a change. Lines marked `{CHANGED_MARK}` after the number were added or "
            "changed; report problems in them or caused by them, not old problems elsewhere."
        )
    if split:
        parts.append(
            "The project is reviewed in several parts; this part shows only some of the code. Do not "
            "report names as undefined or unused because their definition or use is not shown."
        )
    return "\n\n".join(parts)


def _fill(project: str, scope: str, context: str, code: str) -> str:
    return render_prompt(
        "review",
        {"project": project, "scope": scope, "context": context or "(none)", "code": code},
    )


def plan_passes(
    target: ReviewTarget, index: ProjectIndex, budget: int, counter: TokenCounter, *, project: str
) -> list[ReviewPass]:
    """Cut the target into passes that each fit ``budget`` tokens (see the module docstring)."""
    if not target.files:
        return []
    frame_split = counter.count(_fill(project, scope_text(target.diff_mode, True), "", ""))
    available = budget - frame_split
    if available < 2 * MIN_CONTEXT_TOKENS:
        raise InputError(
            f"the analysis model's prompt budget ({budget} tokens) is too small to review anything",
            hint="use a model with a larger num_ctx or a smaller num_predict",
        )
    whole = [units_for_file(f, counter, available, diff_mode=target.diff_mode) for f in target.files]
    flat = [u for units in whole for u in units]
    if sum(u.tokens for u in flat) <= available:
        groups = [flat]
    else:
        cap = int(available * CODE_SHARE)
        flat = [u for f in target.files for u in units_for_file(f, counter, cap, diff_mode=target.diff_mode)]
        groups = []
        current: list[Unit] = []
        used = 0
        for u in flat:
            if current and used + u.tokens > cap:
                groups.append(current)
                current, used = [], 0
            current.append(u)
            used += u.tokens
        if current:
            groups.append(current)
    split = len(groups) > 1 or any(not u.whole_file for u in flat)
    scope = scope_text(target.diff_mode, split)
    passes: list[ReviewPass] = []
    for units in groups:
        code = "\n".join(u.text for u in units)
        frame = _fill(project, scope, "", code)
        room = budget - counter.count(frame)
        context, context_tokens = _context_for(index, units, room, counter)
        prompt = _fill(project, scope, context, code)
        tokens = counter.count(prompt)
        while tokens > budget and context:
            # Tokens merge differently across the joins; shave the context and retry.
            room -= tokens - budget + 16
            context, context_tokens = _context_for(index, units, room, counter)
            prompt = _fill(project, scope, context, code)
            tokens = counter.count(prompt)
        passes.append(ReviewPass(tuple(units), prompt, tokens, context_tokens))
    return passes


# --------------------------------------------------------------------------- running


@dataclass
class ReviewRun:
    """What the review produced so far (the command reports it even when a later pass fails)."""

    findings: list[list[Finding]] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    passes_done: int = 0


async def review_pass(
    backend: Backend, p: ReviewPass, target: ReviewTarget, root: Path
) -> tuple[list[Finding], list[Rejected]]:
    """One request (two when the first answer is unusable) for a pass; validated findings."""
    by_path = {f.path: f for f in target.files}
    sources = {path: SourceFile.from_text(path, by_path[path].text) for path in p.paths}
    last_error = ""
    for _attempt in range(ANSWER_ATTEMPTS):
        completion = await backend.generate(
            p.prompt, format=findings_schema(), options=REVIEW_OPTIONS, expected_prompt_tokens=p.tokens
        )
        try:
            return parse_findings(completion.text, sources, str(root))
        except ValueError as exc:
            cut = completion.done_reason == "length" or not completion.done
            last_error = (
                "the answer was cut off before the JSON ended" if cut else f"not the JSON asked for ({exc})"
            )
    raise GenerationError(
        f"{backend.model} did not answer the review of {p.describe()} with usable findings: {last_error}",
        hint="check that the model supports structured output (Ollama ≥ 0.5) and that num_predict is large",
    )


async def run_review(
    target: ReviewTarget,
    passes: Sequence[ReviewPass],
    backend: Backend,
    root: Path,
    *,
    progress: ProgressFn | None = None,
    run: ReviewRun | None = None,
) -> ReviewReport:
    """Run every pass in order (one GPU server answers one long prompt at a time) and merge."""
    run = run if run is not None else ReviewRun()
    for i, p in enumerate(passes):
        if progress is not None:
            progress(i, len(passes), p.describe())
        kept, rejected = await review_pass(backend, p, target, root)
        run.findings.append(kept)
        run.rejected.extend(rejected)
        run.passes_done += 1
    if progress is not None:
        progress(len(passes), len(passes), "done")
    return ReviewReport(
        findings=tuple(merge_findings(run.findings)),
        files=tuple(f.path for f in target.files),
        target=target.description,
        model=backend.model,
        passes=len(passes),
        rejected=tuple(run.rejected),
        notes=target.notes,
    )
