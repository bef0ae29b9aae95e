"""Whole-project review: plan budgeted passes, ask the analysis model for findings, validate, merge.

The flow, one function each:

1. ``collect_target`` — which files (``PATH…``) or which changed lines (``--staged``/``--diff REV``) are
   under review, and the exact text the model will see of each (for staged changes: the staged blob,
   which is what will be committed, not the work tree).
2. ``plan_passes`` — the code under review is cut into *units*: whole files, or, when a file is larger
   than a pass allows, runs of whole top-level definitions (for a diff: the definitions enclosing each
   hunk). Units are numbered line by line so findings can cite lines, and grouped into passes that fit
   the model's prompt budget. When everything fits, there is one pass. Every pass also gets the same
   project context, ranked by the packer's centrality (``assistant.rank``) and rendered by the packer
   (``assistant.pack``): outlines of the files the target imports, then of the rest of the project (and
   of the target itself when it is split, so each part sees the shape of the others), in whatever
   budget the largest pass's code leaves. One context for all passes gives every prompt the same long
   prefix, which Ollama's KV cache then evaluates once instead of once per pass.
3. ``run_review`` — one request per pass with the findings JSON schema as Ollama's ``format``; each
   answer is parsed and validated against the files (``assistant.findings``), then all passes are
   merged and de-duplicated.

Never writes to the reviewed files: everything here reads; the only output is the report.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
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
    severity_rank,
    source_lines,
)
from assistant.secrets import redact
from assistant.templating import render_prompt
from assistant.tokens import TokenCounter

if TYPE_CHECKING:
    from assistant.backend import Backend
    from assistant.index import ProjectIndex
    from assistant.syntax import FileFacts

# When the code under review needs several passes, this share of each pass's budget is for code and
# the rest for context (outlines of what the code uses, a map of the project): without context a
# model reviewing one file of many reports "undefined" names that live elsewhere.
CODE_SHARE = 0.7
# Below this many tokens for context a pass gets none (an outline fragment would only confuse).
MIN_CONTEXT_TOKENS = 200
# A unit is never cut smaller than this many lines when a single definition must be split by lines.
MIN_CHUNK_LINES = 20
# A run of lines is estimated from its share of the file's characters, times this (token density varies
# along a file: a table of numbers is denser than prose); each pass's parts are then counted exactly.
ESTIMATE_SAFETY = 1.2
# Tokens of a listing's header and fences, added to every estimate.
HEADER_TOKENS = 40
# Whole-file token counts remembered between runs (a few MB of JSON at most).
COUNT_CACHE_ENTRIES = 20_000
# Tokens for the blank lines that join the prompt's parts, on top of the parts' own counts.
JOIN_SLACK_TOKENS = 16
# Lines shown around a change outside any definition.
DIFF_CONTEXT_LINES = 3
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
            target = unquote_git_path(line[4:].rstrip("\n"))
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


_GIT_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def unquote_git_path(text: str) -> str:
    """A path as git prints it in a diff header: C-quoted (``"b/caf\\303\\251.py"``) when it holds
    non-ASCII or special characters (core.quotePath), the octal escapes being UTF-8 bytes."""
    text = text.strip()
    if len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
        return text
    body, out, i = text[1:-1], bytearray(), 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            digits = body[i + 1 : i + 4]
            if len(digits) == 3 and all(c in "01234567" for c in digits):
                out.append(int(digits, 8) & 0xFF)
                i += 4
                continue
            if nxt in _GIT_ESCAPES:
                out.append(_GIT_ESCAPES[nxt])
                i += 2
                continue
        out.extend(ch.encode("utf-8"))
        i += 1
    return out.decode("utf-8", "surrogateescape")


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
    if out.returncode != 0:
        detail = out.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InputError(
            f"cannot read the staged files: {detail[0] if detail else f'git exit {out.returncode}'}"
        )
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
        from assistant.files import git_toplevel
        from assistant.gitdiff import diff_text

        if git_toplevel(index.root) is None:
            # Outside a work tree `git diff --cached` falls back to --no-index and fails obscurely.
            raise InputError(f"{index.root} is not a git repository, so it has no staged changes or diff")

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
    tokens: int  # exact for a whole file, else an estimate (the pass's prompt is counted exactly)

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


def _listing_header(path: str, start: int, end: int, total: int) -> str:
    return f"### {path} (lines {start}-{end} of {total})\n```\n"


class CountCache:
    """Token counts of whole listings, kept on disk between runs (keyed by counter and text hash), so a
    second review of the same files skips counting them: counting is most of planning's time."""

    def __init__(self, path: Path | None, counter: TokenCounter) -> None:
        self.path = path
        self.prefix = f"{type(counter).__name__}:{counter.name}:"
        self.data: dict[str, int] = {}
        self.dirty = False
        if path is not None:
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(loaded, dict):
                    self.data = {str(k): int(v) for k, v in loaded.items() if isinstance(v, int)}
            except (OSError, ValueError):
                self.data = {}

    def count(self, counter: TokenCounter, text: str) -> int:
        key = self.prefix + hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()
        n = self.data.get(key)
        if n is None:
            n = counter.count(text)
            self.data[key] = n
            self.dirty = True
        return n

    def save(self, keep: int = COUNT_CACHE_ENTRIES) -> None:
        """Write atomically; a cache that cannot be written is only slower next time."""
        if self.path is None or not self.dirty:
            return
        items = list(self.data.items())[-keep:]
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(dict(items)), encoding="utf-8")
            os.replace(tmp, self.path)


class Listing:
    """One file as passes show it: redacted (secrets never reach a prompt; redaction keeps line
    numbers), numbered, with ``+`` on changed lines.

    Counting tokens is the expensive part of planning, so each file is counted once, whole; a run of
    its lines is estimated from its share of the characters with a safety factor, and every pass's
    final prompt is counted exactly before it is sent."""

    def __init__(
        self,
        target: TargetFile,
        counter: TokenCounter,
        facts: FileFacts | None = None,
        counts: CountCache | None = None,
    ) -> None:
        self.path = target.path
        self.target = target
        self._facts = facts
        lines = source_lines(redact(target.text)) or [""]
        self.n = len(lines)
        width = len(str(self.n))
        changed = target.changed
        self.numbered = [
            f"{i:>{width}} {CHANGED_MARK if i in changed else PLAIN_MARK} {line}"
            for i, line in enumerate(lines, 1)
        ]
        self._offsets = [0]
        for line in self.numbered:
            self._offsets.append(self._offsets[-1] + len(line) + 1)
        whole = self.render(1, self.n)
        self.tokens = counts.count(counter, whole) if counts is not None else counter.count(whole)

    @property
    def facts(self) -> FileFacts:
        if self._facts is None:
            from assistant.syntax import parse_source

            self._facts = parse_source(self.path, self.target.text)
        return self._facts

    def render(self, start: int, end: int) -> str:
        body = "\n".join(self.numbered[start - 1 : end])
        return f"{_listing_header(self.path, start, end, self.n)}{body}\n```\n"

    def estimate(self, start: int, end: int) -> int:
        if start == 1 and end >= self.n:
            return self.tokens
        chars = self._offsets[end] - self._offsets[start - 1]
        share = chars / max(1, self._offsets[-1])
        return math.ceil(self.tokens * share * ESTIMATE_SAFETY) + HEADER_TOKENS

    def unit(self, start: int, end: int) -> Unit:
        return Unit(self.path, start, end, self.n, self.render(start, end), self.estimate(start, end))


def _top_level_spans(listing: Listing) -> list[tuple[int, int]]:
    """1-based (start, end) line spans that cover the file in order: each top-level definition, and the
    code between them. Split points that keep definitions whole."""
    n_lines = listing.n
    tops = sorted({(d.start_line + 1, d.end_line + 1) for d in listing.facts.definitions if d.parent is None})
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


def _enclosing_spans(listing: Listing) -> list[tuple[int, int]]:
    """For a diff: the innermost definitions around changed lines (or a few lines around a change at
    top level), merged where they overlap."""
    n_lines = listing.n
    defs = [(d.start_line + 1, d.end_line + 1) for d in listing.facts.definitions]
    spans: list[tuple[int, int]] = []
    for line in sorted(listing.target.changed):
        around = [(s, e) for s, e in defs if s <= line <= e]
        if around:
            spans.append(min(around, key=lambda se: (se[1] - se[0], se)))
        else:
            spans.append((max(1, line - DIFF_CONTEXT_LINES), min(n_lines, line + DIFF_CONTEXT_LINES)))
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        s, e = max(1, s), min(n_lines, e)
        if merged and s <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        elif s <= e:
            merged.append((s, e))
    return merged


def split_ranges(listing: Listing, max_tokens: int, *, diff_mode: bool) -> list[tuple[int, int]]:
    """The line ranges to review of one file: the whole file when it fits ``max_tokens``, else the
    fewest runs of whole spans that do (a span larger than that alone is cut by lines)."""
    fits = listing.estimate
    if fits(1, listing.n) <= max_tokens:
        return [(1, listing.n)]
    spans = _enclosing_spans(listing) if diff_mode and listing.target.changed else _top_level_spans(listing)
    pieces: list[tuple[int, int]] = []
    for s, e in spans:
        if fits(s, e) <= max_tokens:
            pieces.append((s, e))
            continue
        start = s
        while start <= e:
            lo, hi = min(MIN_CHUNK_LINES, e - start + 1), e - start + 1
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if fits(start, start + mid - 1) <= max_tokens:
                    lo = mid
                else:
                    hi = mid - 1
            pieces.append((start, start + lo - 1))
            start += lo
    # Greedily join neighbouring pieces while they fit (in a diff, only touching ones).
    ranges: list[tuple[int, int]] = []
    for s, e in pieces:
        if ranges and (not diff_mode or s <= ranges[-1][1] + 1) and fits(ranges[-1][0], e) <= max_tokens:
            ranges[-1] = (ranges[-1][0], e)
        else:
            ranges.append((s, e))
    return ranges


def units_for_file(listing: Listing, max_tokens: int, *, diff_mode: bool) -> list[Unit]:
    return [listing.unit(s, e) for s, e in split_ranges(listing, max_tokens, diff_mode=diff_mode)]


def shared_context(
    index: ProjectIndex,
    target: Sequence[str],
    exclude: set[str],
    budget: int,
    counter: TokenCounter,
    counts: CountCache | None = None,
) -> tuple[str, int]:
    """Project context within ``budget`` tokens, the same for every pass of a review: outlines of the
    files the target imports, then of the rest ranked by the packer's centrality for the target (the
    target's own files too when it is split over passes: each part then sees the shape of the others).

    One context for all passes means one ranking per review instead of one packing per pass, and
    prompts that share a long prefix: Ollama reuses its KV cache for it, so the server evaluates the
    context once, not once per pass (the prefill of a 70B model is most of a pass's time)."""
    from assistant.pack import FRAME_TOKENS, PACK_OVERHEAD_TOKENS, Pack, PackItem, render
    from assistant.rank import ranked_files

    if budget < MIN_CONTEXT_TOKENS:
        return "", 0
    state = index.state
    imports = state.imports_of()
    in_target = set(target)
    deps = {d for p in target for d in imports.get(p, ())} - in_target
    order = ranked_files(state, target)
    candidates = [r for r in order if r in deps] + [r for r in order if r not in deps]
    items: list[PackItem] = []
    used = PACK_OVERHEAD_TOKENS
    for rel in candidates:
        entry = state.files.get(rel)
        if rel in exclude or entry is None or not entry.outline.strip():
            continue
        text = redact(entry.outline)
        tokens = counts.count(counter, text) if counts is not None else counter.count(text)
        cost = tokens + counter.count(rel) + FRAME_TOKENS
        if used + cost > budget:
            continue  # a smaller outline further down may still fit
        items.append(PackItem(rel, "outline", text, tokens))
        used += cost
    items.sort(key=lambda i: i.path)  # stable order: the prefix must not move between runs either
    while items:
        text = render(Pack(tuple(items), budget, used, len(state.files), len(state.skipped)), "markdown")
        tokens = counter.count(text)
        if tokens <= budget:
            return text, tokens
        items.pop()
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


def _group(units: Sequence[Unit], cap: int) -> list[list[Unit]]:
    """Consecutive units (sorted by path, so a folder's files travel together) in runs under ``cap``."""
    groups: list[list[Unit]] = []
    current: list[Unit] = []
    used = 0
    for u in units:
        if current and used + u.tokens > cap:
            groups.append(current)
            current, used = [], 0
        current.append(u)
        used += u.tokens
    if current:
        groups.append(current)
    return groups


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
    state = index.state
    from assistant.config import cache_dir

    counts = CountCache(cache_dir(index.settings) / "review" / "token-counts.json", counter)
    listings = {}
    for f in target.files:
        entry = state.files.get(f.path)
        # The index's facts describe the work tree: reusable unless the text reviewed is another
        # version (staged blobs).
        facts = None
        if entry is not None and (not target.diff_mode or f.text == state.text(f.path)):
            facts = entry.facts
        listings[f.path] = Listing(f, counter, facts, counts)
    diff = target.diff_mode
    single = [u for f in target.files for u in units_for_file(listings[f.path], available, diff_mode=diff)]
    if sum(u.tokens for u in single) <= available:
        groups = [single]
    else:
        cap = int(available * CODE_SHARE)
        units = [u for f in target.files for u in units_for_file(listings[f.path], cap, diff_mode=diff)]
        groups = _group(units, cap)
    split = len(groups) > 1 or any(not u.whole_file for g in groups for u in g)
    scope = scope_text(target.diff_mode, split)
    frame = counter.count(_fill(project, scope, "", ""))
    exact: dict[tuple[str, int, int], int] = {}

    def code_tokens(u: Unit) -> int:
        # Whole files were counted exactly with their listing; a part is counted once, here.
        if u.whole_file:
            return u.tokens
        key = (u.path, u.start, u.end)
        if key not in exact:
            exact[key] = counts.count(counter, u.text)
        return exact[key]

    # Parts are counted separately and summed: a join can only merge tokens, never add one
    # (JOIN_SLACK_TOKENS covers the separators), so the sum bounds the whole prompt.
    sized: list[tuple[list[Unit], int]] = []
    work = list(reversed(groups))
    while work:
        units = work.pop()
        fixed = frame + sum(code_tokens(u) for u in units) + JOIN_SLACK_TOKENS
        if fixed > budget:
            # The estimate was low (dense text): halve the group, or the range, and plan again.
            work.extend(reversed(_halve(units, listings)))
            continue
        sized.append((units, fixed))
    room = budget - max(fixed for _, fixed in sized)
    paths = [f.path for f in target.files]
    exclude = set(paths) if not split else set()
    context, context_tokens = shared_context(index, paths, exclude, room, counter, counts)
    counts.save()
    passes: list[ReviewPass] = []
    for units, fixed in sized:
        prompt = _fill(project, scope, context, "\n".join(u.text for u in units))
        passes.append(ReviewPass(tuple(units), prompt, fixed + context_tokens, context_tokens))
    return passes


def _halve(units: list[Unit], listings: dict[str, Listing]) -> list[list[Unit]]:
    if len(units) > 1:
        mid = len(units) // 2
        return [units[:mid], units[mid:]]
    u = units[0]
    if u.end - u.start + 1 < 2:
        raise InputError(f"{u.path}:{u.start} is a single line too long for the model's window")
    mid = (u.start + u.end) // 2
    listing = listings[u.path]
    return [[listing.unit(u.start, mid)], [listing.unit(mid + 1, u.end)]]


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
    from assistant.backend import StreamInterrupted

    for attempt in range(ANSWER_ATTEMPTS):
        try:
            completion = await backend.generate(
                p.prompt, format=findings_schema(), options=REVIEW_OPTIONS, expected_prompt_tokens=p.tokens
            )
        except StreamInterrupted:
            # Half a JSON answer is worthless: ask again once, then let the error through.
            if attempt + 1 < ANSWER_ATTEMPTS:
                continue
            raise
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
    return partial_report(target, run, backend.model, len(passes))


def partial_report(target: ReviewTarget, run: ReviewRun, model: str, total_passes: int) -> ReviewReport:
    """The report of the passes done so far; a note says when some did not run."""
    notes = target.notes
    if run.passes_done < total_passes:
        notes = (*notes, f"review incomplete: {run.passes_done} of {total_passes} passes done")
    return ReviewReport(
        findings=tuple(merge_findings(run.findings)),
        files=tuple(f.path for f in target.files),
        target=target.description,
        model=model,
        passes=run.passes_done,
        rejected=tuple(run.rejected),
        notes=notes,
    )


async def consolidate(
    report: ReviewReport, target: ReviewTarget, backend: Backend, root: Path, *, project: str
) -> ReviewReport:
    """Ask the model once more, with ``prompts/review-merge.md``, to drop duplicates and findings that
    other passes show to be false (a pass sees only part of the code). Opt-in (``--consolidate``): one
    more long request. The answer may only keep or reword findings: anything not at the location of an
    input finding is discarded, and what is kept is validated like any other answer."""
    if report.passes < 2 or len(report.findings) < 2:
        return report
    by_path = {f.path: f for f in target.files}
    sources = {p: SourceFile.from_text(p, f.text) for p, f in by_path.items()}
    items = []
    for f in report.findings:
        lines = sources[f.file].lines
        quote = lines[f.line - 1] if 0 < f.line <= len(lines) else ""
        row = {k: v for k, v in f.to_dict().items() if k != "verified"}
        row.update(quote=redact(quote).strip(), suggestion=f.suggestion or "")
        items.append(row)
    prompt = render_prompt(
        "review-merge", {"project": project, "findings": json.dumps({"findings": items}, indent=1)}
    )
    counter = await backend.counter()
    tokens = counter.count(prompt)
    if tokens > await backend.prompt_budget():
        notes = (*report.notes, "too many findings to consolidate in one request; merged without the model")
        return replace(report, notes=notes)
    completion = await backend.generate(
        prompt, format=findings_schema(), options=REVIEW_OPTIONS, expected_prompt_tokens=tokens
    )
    try:
        kept, _rejected = parse_findings(completion.text, sources, str(root))
    except ValueError:
        notes = (*report.notes, "the consolidation answer was not usable; findings merged without it")
        return replace(report, notes=notes)
    originals = {(f.file, f.line): f for f in report.findings}
    survivors = [f for f in kept if (f.file, f.line) in originals]
    # Severity may not be raised by the consolidation: it saw no code, only the findings.
    survivors = [
        replace(f, severity=min(f.severity, originals[(f.file, f.line)].severity, key=severity_rank))
        for f in survivors
    ]
    dropped = len(report.findings) - len(merge_findings([survivors]))
    notes = (
        (*report.notes, f"consolidation by the model dropped {dropped} finding(s)")
        if dropped
        else report.notes
    )
    return replace(report, findings=tuple(merge_findings([survivors])), notes=notes)
