"""The packer: fit the most useful context for a focus into a token budget.

Input: an index snapshot, a focus and a budget. Output: ordered items, each a whole file, an outline
(signatures, first docstring lines, bodies elided), a snippet (one definition's full text) or a hunk
(a changed region of a diff).

Selection and emission are two different orders:

* items are *selected* most-important first until the budget is spent (for a cursor: definitions of
  the symbols used around the cursor that live in other files, then files related by imports, then a
  map of the rest by centrality);
* items are *emitted* most-stable first (map → related files → snippets → hunks), so that
  successive completion prompts, which differ only near the cursor, share a long common prefix and
  Ollama can reuse its KV cache. For the same reason the map and related shares of a cursor budget are
  fixed fractions, not "whatever the snippets left".

Every item's cost is its counted text plus a framing allowance; ``pack_and_render`` checks the
rendered text with the same counter and never returns more than the budget.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from assistant.errors import InputError
from assistant.index import IndexState, ProjectIndex
from assistant.rank import global_rank, ranked_files, ranked_order
from assistant.secrets import redact
from assistant.syntax import Definition, language_for
from assistant.tokens import TokenCounter

Kind = Literal["full", "outline", "snippet", "hunk"]
Format = Literal["markdown", "xml", "json"]

# Framing per item in any format (path line, fences or tags, kind) beyond the path's own tokens.
FRAME_TOKENS = 24
# Fixed framing of a whole rendered pack (JSON brackets, a header line).
PACK_OVERHEAD_TOKENS = 16
# The smallest budget that can hold anything useful.
MIN_BUDGET = 64
# A definition longer than this goes in as its outline instead of its full text.
SNIPPET_MAX_TOKENS = 700
# Lines around the cursor whose identifiers ask for definitions (more above: code reads downwards).
CURSOR_LINES_BEFORE = 40
CURSOR_LINES_AFTER = 10
# The map stops when less room than this is left (no outline is that small with its framing) …
MAP_MIN_ROOM = FRAME_TOKENS + 8
# … or after this many ranked files in a row did not fit: what follows ranks lower still.
MAP_MAX_MISSES = 64
# A map entry whose full outline is bigger than this shows only its signature lines, so that the map
# covers more files: a 2,000-token outline of one module is worth less than the names of ten modules.
MAP_OUTLINE_MAX_TOKENS = 600
# Fewer bytes per token than code ever has (it has 3-4): a file bigger than this many bytes per token of
# room left cannot fit, so the full-text upgrade skips it without reading and counting it.
UPGRADE_BYTES_PER_TOKEN = 8
# A file without a grammar is outlined by its first lines.
PLAIN_OUTLINE_LINES = 12
# At most this many snippets per name (a name defined in several imported files).
SNIPPETS_PER_NAME = 2
# Cursor budget shares, fixed so that the stable part of the prompt does not move while typing.
CURSOR_MAP_SHARE = 0.25
CURSOR_RELATED_SHARE = 0.30
# Names too common to look up as definitions.
_SKIP_NAMES = frozenset(
    [
        "self",
        "cls",
        "this",
        "super",
        "None",
        "True",
        "False",
        "null",
        "true",
        "false",
        "nil",
        "return",
        "import",
        "from",
        "def",
        "class",
        "function",
        "func",
        "const",
        "let",
        "var",
        "for",
        "while",
        "if",
        "else",
        "elif",
        "try",
        "except",
        "finally",
        "with",
        "pass",
        "break",
        "continue",
        "yield",
        "lambda",
        "async",
        "await",
        "new",
        "delete",
        "public",
        "private",
        "protected",
        "static",
        "void",
        "int",
        "str",
        "float",
        "bool",
        "list",
        "dict",
        "set",
        "tuple",
        "len",
        "print",
        "range",
        "type",
        "object",
        "string",
        "number",
        "boolean",
        "any",
        "Any",
        "Optional",
        "List",
        "Dict",
        "Set",
        "Tuple",
        "Union",
    ]
)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class CursorFocus:
    """A cursor in a file: ``line`` and ``column`` 0-based; ``text`` is the unsaved buffer, if any."""

    path: str
    line: int
    column: int
    text: str | None = None


@dataclass(frozen=True)
class PathsFocus:
    """Files (in full) or folders (their files as a map) relative to the root."""

    paths: tuple[str, ...]


@dataclass(frozen=True)
class DiffFocus:
    """A unified diff (``git diff`` output)."""

    diff: str


Focus = CursorFocus | PathsFocus | DiffFocus


@dataclass(frozen=True)
class PackItem:
    path: str
    kind: str
    text: str
    tokens: int
    start_line: int | None = None  # 0-based, inclusive; for snippets and hunks
    end_line: int | None = None
    symbol: str | None = None


@dataclass(frozen=True)
class Pack:
    items: tuple[PackItem, ...]
    budget: int
    tokens: int
    files_seen: int
    files_skipped: int
    counter: str = ""

    def count(self, kind: str) -> int:
        return sum(1 for i in self.items if i.kind == kind)


# --------------------------------------------------------------------------- token cost


class TokenCache:
    """Counts by (counter, text hash, length): a file's outline or text is counted once per run."""

    def __init__(self, size: int = 50_000) -> None:
        self._data: OrderedDict[tuple[str, int, int], int] = OrderedDict()
        self._size = size

    def count(self, counter: TokenCounter, text: str) -> int:
        key = (counter.name, hash(text), len(text))
        n = self._data.get(key)
        if n is None:
            n = counter.count(text)
            self._data[key] = n
            if len(self._data) > self._size:
                self._data.popitem(last=False)
        return n


token_cache = TokenCache()


class RedactCache:
    """Redacted texts by (hash, length) of the original: outlines are redacted once, not per keystroke."""

    def __init__(self, size: int = 20_000) -> None:
        self._data: OrderedDict[tuple[int, int], str] = OrderedDict()
        self._size = size

    def __call__(self, text: str) -> str:
        key = (hash(text), len(text))
        out = self._data.get(key)
        if out is None:
            out = redact(text)
            self._data[key] = out
            if len(self._data) > self._size:
                self._data.popitem(last=False)
        return out


redact_cached = RedactCache()
# Whole files are big: fewer of them are kept.
redact_full = RedactCache(size=512)


@dataclass
class _Selection:
    budget: int
    counter: TokenCounter
    used: int = PACK_OVERHEAD_TOKENS
    items: list[tuple[int, PackItem]] = field(default_factory=list)  # (emission group, item)
    taken: set[tuple[str, str, str | None]] = field(default_factory=set)

    def cost(self, path: str, text: str) -> tuple[int, int]:
        tokens = token_cache.count(self.counter, text)
        return tokens, tokens + token_cache.count(self.counter, path) + FRAME_TOKENS

    def add(
        self,
        group: int,
        path: str,
        kind: str,
        text: str,
        *,
        limit: int | None = None,
        start_line: int | None = None,
        end_line: int | None = None,
        symbol: str | None = None,
    ) -> bool:
        """Take the item if it fits the budget (and ``limit``, a cap on ``used`` for this share)."""
        key = (path, kind, symbol if symbol is not None else str(start_line))
        if key in self.taken or not text.strip():
            return False
        tokens, cost = self.cost(path, text)
        cap = self.budget if limit is None else min(self.budget, limit)
        if self.used + cost > cap:
            return False
        self.used += cost
        self.taken.add(key)
        self.items.append((group, PackItem(path, kind, text, tokens, start_line, end_line, symbol)))
        return True

    def has_file(self, path: str) -> bool:
        return any(p == path and k in ("full", "outline") for p, k, _ in self.taken)


# Emission groups, most stable first.
G_MAP, G_RELATED, G_FULL, G_SNIPPET, G_HUNK = range(5)


def _finish(sel: _Selection, state: IndexState) -> Pack:
    def key(entry: tuple[int, tuple[int, PackItem]]) -> tuple[int, str, int, int]:
        position, (group, item) = entry
        if group == G_SNIPPET:
            # Snippets are selected by distance to the cursor, which changes with every keystroke;
            # emitted in file order, a snippet set that did not change keeps the prompt's prefix.
            return (group, item.path, item.start_line or 0, position)
        return (group, "", 0, position)

    ordered = [item for _, item in sorted(enumerate(sel.items), key=key)]
    items = tuple(item for _, item in ordered)
    return Pack(
        items=items,
        budget=sel.budget,
        tokens=sel.used,
        files_seen=len(state.files) + len(state.skipped),
        files_skipped=len(state.skipped),
        counter=sel.counter.name,
    )


# --------------------------------------------------------------------------- item texts


def _lines(text: str) -> list[str]:
    return text.split("\n")


def definition_text(text: str, d: Definition) -> str:
    return "\n".join(_lines(text)[d.start_line : d.end_line + 1])


def definition_outline(state: IndexState, rel: str, d: Definition) -> str:
    """A long definition as its signature, docstring line and its members' signatures."""
    entry = state.files[rel]
    lines = [d.signature]
    if d.docstring:
        lines.append(f"    {d.docstring}")
    for child in entry.facts.definitions:
        if child.parent == d.name and d.start_line <= child.start_line <= d.end_line and child is not d:
            lines.append(f"    {child.signature}")
            if child.docstring:
                lines.append(f"        {child.docstring}")
    lines.append("    …")
    return "\n".join(lines)


def plain_outline(text: str) -> str:
    """For files no grammar understands (docs, configs): their first lines stand for them."""
    lines = text.split("\n")
    if len(lines) <= PLAIN_OUTLINE_LINES:
        return text
    return "\n".join([*lines[:PLAIN_OUTLINE_LINES], "…"])


def signature_outline(state: IndexState, rel: str) -> str:
    """The tersest outline: one line per public definition, indented by nesting (no imports or docs).

    ``_private`` helpers are left out: a map is read for what a module offers, not how it works.
    """
    defs = state.files[rel].facts.definitions
    lines: list[str] = []
    open_ends: list[int] = []
    for d in defs:
        while open_ends and d.start_line > open_ends[-1]:
            open_ends.pop()
        private = d.name.startswith("_") and not (d.name.startswith("__") and d.name.endswith("__"))
        if not private:
            lines.append("    " * len(open_ends) + d.signature)
        open_ends.append(d.end_line)
    return "\n".join(lines)


def _add_outline(
    sel: _Selection,
    state: IndexState,
    group: int,
    rel: str,
    limit: int | None = None,
    *,
    compact: bool = False,
) -> bool:
    """Add ``rel`` as an outline; with ``compact`` a big outline shrinks to its signature lines."""
    entry = state.files.get(rel)
    if entry is None or sel.has_file(rel):
        return False
    text = entry.outline
    if not text and entry.facts.language is None:
        text = plain_outline(state.text(rel))
    text = redact_cached(text)
    if compact and token_cache.count(sel.counter, text) > MAP_OUTLINE_MAX_TOKENS and entry.facts.definitions:
        text = _fit_lines(redact_cached(signature_outline(state, rel)), MAP_OUTLINE_MAX_TOKENS, sel.counter)
    return sel.add(group, rel, "outline", text, limit=limit)


_fitted: OrderedDict[tuple[int, int, int, str], str] = OrderedDict()
FIT_CACHE_SIZE = 20_000


def _fit_lines(text: str, budget: int, counter: TokenCounter) -> str:
    """The first lines of ``text`` that fit ``budget`` tokens, with a line saying how many were left out.

    Memoised: the same big outlines are cut for every cursor map (measured: 40 ms of a 48 ms context
    on Django went here before).
    """
    key = (hash(text), len(text), budget, counter.name)
    hit = _fitted.get(key)
    if hit is None:
        hit = _fit_lines_uncached(text, budget, counter)
        _fitted[key] = hit
        if len(_fitted) > FIT_CACHE_SIZE:
            _fitted.popitem(last=False)
    return hit


def _fit_lines_uncached(text: str, budget: int, counter: TokenCounter) -> str:
    if token_cache.count(counter, text) <= budget:
        return text
    lines = text.split("\n")
    lo, hi = 0, len(lines)
    while lo < hi:  # the largest number of lines that fits, marker included
        mid = (lo + hi + 1) // 2
        if counter.count("\n".join([*lines[:mid], f"… {len(lines) - mid} more"])) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return "\n".join([*lines[:lo], f"… {len(lines) - lo} more"])


def _add_full(sel: _Selection, state: IndexState, group: int, rel: str, limit: int | None = None) -> bool:
    if rel not in state.files or sel.has_file(rel):
        return False
    return sel.add(group, rel, "full", redact_full(state.text(rel)), limit=limit)


def _add_snippet(sel: _Selection, state: IndexState, rel: str, d: Definition, text: str) -> bool:
    body = redact_cached(definition_text(text, d))
    tokens = token_cache.count(sel.counter, body)
    if tokens > SNIPPET_MAX_TOKENS:
        body = redact_cached(definition_outline(state, rel, d))
    return sel.add(
        G_SNIPPET, rel, "snippet", body, start_line=d.start_line, end_line=d.end_line, symbol=d.name
    )


def _add_map(sel: _Selection, state: IndexState, order: Iterable[str], limit: int | None = None) -> None:
    """Outlines in rank order while they fit; gives up after a run of misses (the rest ranks lower)."""
    cap = limit if limit is not None else sel.budget
    misses = 0
    for rel in order:
        if cap - sel.used < MAP_MIN_ROOM or misses >= MAP_MAX_MISSES:
            break
        if _add_outline(sel, state, G_MAP, rel, limit=limit, compact=True):
            misses = 0
        elif rel in state.files and not sel.has_file(rel):
            misses += 1


# --------------------------------------------------------------------------- focus kinds


def _check_budget(budget: int) -> None:
    if budget < MIN_BUDGET:
        raise InputError(f"budget {budget} is too small: at least {MIN_BUDGET} tokens are needed")


def identifiers_near(text: str, line: int, column: int) -> list[str]:
    """Identifiers around the cursor, nearest first (same line left of the cursor, then outwards)."""
    lines = _lines(text)
    line = max(0, min(line, len(lines) - 1))
    order: list[int] = [line]
    for k in range(1, max(CURSOR_LINES_BEFORE, CURSOR_LINES_AFTER) + 1):
        if k <= CURSOR_LINES_BEFORE and line - k >= 0:
            order.append(line - k)
        if k <= CURSOR_LINES_AFTER and line + k < len(lines):
            order.append(line + k)
    seen: set[str] = set()
    names: list[str] = []
    for i in order:
        src = lines[i]
        words = _IDENT.findall(src[:column] if i == line else src)
        if i == line:
            words.reverse()  # nearest to the cursor first
            if words and src[:column].endswith(words[0]):
                words = words[1:]  # the word being typed is not a finished name yet
        for w in words:
            if w not in seen and w not in _SKIP_NAMES and len(w) > 1:
                seen.add(w)
                names.append(w)
    return names


def _add_cursor_map(sel: _Selection, state: IndexState, rel: str, neighbourhood: set[str], cap: int) -> None:
    """The map part of a cursor pack, memoised: it does not change while one file is being edited.

    The memo lives in the snapshot's derived data under "cursor-map", keyed by the focus file; a new
    snapshot keeps the entries whose focus file is the only one that changed (see ``IndexState.evolve``).
    """
    memo: dict[tuple[str, int, str, tuple[str, ...]], tuple[list[tuple[int, PackItem]], int]]
    memo = state.derived("cursor-map", dict)  # type: ignore[assignment]
    key = (rel, cap, sel.counter.name, tuple(sorted(neighbourhood)))
    hit = memo.get(key)
    if hit is None:
        before_items, before_used = len(sel.items), sel.used
        order = (r for r in ranked_order(state) if r not in neighbourhood)
        _add_map(sel, state, order, limit=cap)
        memo[key] = (sel.items[before_items:], sel.used - before_used)
        return
    items, used = hit
    for group, item in items:
        sel.items.append((group, item))
        sel.taken.add(
            (item.path, item.kind, item.symbol if item.symbol is not None else str(item.start_line))
        )
    sel.used += used


def _pack_cursor(sel: _Selection, state: IndexState, focus: CursorFocus) -> None:
    rel = focus.path
    text = focus.text if focus.text is not None else state.text(rel)
    imported = set(state.imports_of().get(rel, ()))
    importers = state.importers_of().get(rel, ())
    # 1. Map: most stable (depends only on the project), fixed share.
    ranks = global_rank(state)
    neighbourhood = imported | set(importers) | {rel}
    map_cap = PACK_OVERHEAD_TOKENS + int(sel.budget * CURSOR_MAP_SHARE)
    # 2. Related: the files this one imports, then those importing it; fixed share after the map.
    related_cap = map_cap + int(sel.budget * CURSOR_RELATED_SHARE)
    # 3. Snippets: whatever remains, for definitions of names used around the cursor.
    definers = state.definers()
    snippet_specs: list[tuple[str, Definition]] = []
    for name in identifiers_near(text, focus.line, focus.column):
        found = [(r, d) for r, d in definers.get(name, ()) if r != rel]
        if not found:
            continue
        preferred = [(r, d) for r, d in found if r in imported]
        if preferred:
            found = preferred
        elif len({r for r, _ in found}) > SNIPPETS_PER_NAME:
            continue  # a generic name defined all over the project: no signal
        snippet_specs.extend(found[:SNIPPETS_PER_NAME])
    # Select most important first: snippets, then related, then map — but within fixed caps so that
    # the stable groups take the same items from one keystroke to the next.
    _add_cursor_map(sel, state, rel, neighbourhood, map_cap)
    for r in sorted(imported, key=lambda r: (-ranks.get(r, 0.0), r)):
        _add_outline(sel, state, G_RELATED, r, limit=related_cap)
    for r in importers:
        _add_outline(sel, state, G_RELATED, r, limit=related_cap)
    texts: dict[str, str] = {}
    for r, d in snippet_specs:
        if r not in texts:
            texts[r] = state.text(r)
        _add_snippet(sel, state, r, d, texts[r])


def _expand_paths(state: IndexState, paths: Sequence[str]) -> tuple[list[str], list[str]]:
    """Split focus paths into files to give in full and the scope of folders given."""
    full: list[str] = []
    scope: list[str] = []
    rels = state.rels()
    for p in paths:
        p = p.strip("/")
        if p in ("", "."):
            scope.extend(rels)
        elif p in state.files:
            full.append(p)
        else:
            under = [r for r in rels if r.startswith(p + "/")]
            if not under and not any(s.rel == p or s.rel.startswith(p + "/") for s in state.skipped):
                raise InputError(f"{p}: not a file or folder of the project (or ignored)")
            scope.extend(under)
    return sorted(set(full)), sorted(set(scope) - set(full))


def _pack_paths(
    sel: _Selection, state: IndexState, paths: Sequence[str], *, group_full: int = G_FULL
) -> None:
    full, scope = _expand_paths(state, paths)
    focus = full or scope
    order = ranked_files(state, focus)
    position = {rel: i for i, rel in enumerate(order)}
    full_set = set(full)
    for rel in (r for r in order if r in full_set):
        if not _add_full(sel, state, group_full, rel):
            _add_outline(sel, state, group_full, rel)
    imports = state.imports_of()
    deps = sorted({d for rel in full for d in imports.get(rel, ())} - full_set, key=position.__getitem__)
    for rel in deps:
        _add_outline(sel, state, G_RELATED, rel)
    if scope and not full:
        in_scope = set(scope)
        _add_map(sel, state, (r for r in order if r in in_scope))
        # A folder that fits in outline: upgrade its most central files to full text while room lasts.
        _upgrade_to_full(sel, state, [r for r in order if r in in_scope])
    else:
        _add_map(sel, state, order)


def _upgrade_to_full(sel: _Selection, state: IndexState, order: list[str]) -> None:
    positions = {it.path: i for i, (_, it) in enumerate(sel.items) if it.kind == "outline"}
    for rel in order:
        pos = positions.get(rel)
        if pos is None:
            continue
        _group, outline_item = sel.items[pos]
        if state.files[rel].size / UPGRADE_BYTES_PER_TOKEN - outline_item.tokens > sel.budget - sel.used:
            continue  # far too big for the room left: not worth reading and counting
        text = redact_full(state.text(rel))
        tokens, cost = sel.cost(rel, text)
        _, outline_cost = sel.cost(rel, outline_item.text)
        if sel.used - outline_cost + cost <= sel.budget:
            sel.used += cost - outline_cost
            sel.items[pos] = (G_FULL, PackItem(rel, "full", text, tokens))
            sel.taken.add((rel, "full", "None"))


@dataclass(frozen=True)
class Hunk:
    path: str
    new_start: int  # 0-based first line in the new file
    new_end: int  # 0-based last line (inclusive)
    text: str


_HUNK_HEADER = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


def parse_diff(diff: str) -> list[Hunk]:
    """Hunks of a unified diff, with their line ranges in the new file (deleted files are dropped)."""
    hunks: list[Hunk] = []
    path: str | None = None
    current: list[str] = []
    start = end = 0

    def flush() -> None:
        if path is not None and current:
            hunks.append(Hunk(path, start, max(start, end), "\n".join(current)))

    for line in diff.split("\n"):
        if line.startswith("diff --git "):
            flush()
            current, path = [], None
        elif line.startswith("+++ "):
            flush()
            current = []
            target = line[4:].strip()
            path = None if target == "/dev/null" else target[2:] if target.startswith("b/") else target
        elif line.startswith("@@") and path is not None:
            flush()
            m = _HUNK_HEADER.match(line)
            first = int(m.group(1)) if m else 1
            count = int(m.group(2)) if m and m.group(2) is not None else 1
            start, end = max(0, first - 1), max(0, first - 1 + count - 1)
            current = [line]
        elif current and (line[:1] in (" ", "+", "-", "\\")):
            current.append(line)
    flush()
    return hunks


def enclosing_definitions(state: IndexState, rel: str, first: int, last: int) -> list[Definition]:
    """The innermost definitions overlapping lines first..last (0-based)."""
    entry = state.files.get(rel)
    if entry is None:
        return []
    overlapping = [d for d in entry.facts.definitions if d.start_line <= last and d.end_line >= first]
    innermost = [
        d
        for d in overlapping
        if not any(
            o is not d and d.start_line <= o.start_line and o.end_line <= d.end_line for o in overlapping
        )
    ]
    return sorted(innermost, key=lambda d: (d.start_line, d.name))


def _pack_diff(sel: _Selection, state: IndexState, diff: str) -> None:
    hunks = parse_diff(diff)
    if not hunks:
        raise InputError("the diff is empty: nothing changed")
    texts: dict[str, str] = {}
    for h in hunks:
        sel.add(G_HUNK, h.path, "hunk", redact(h.text), start_line=h.new_start, end_line=h.new_end)
    for h in hunks:
        if h.path not in state.files:
            continue
        if h.path not in texts:
            texts[h.path] = state.text(h.path)
        for d in enclosing_definitions(state, h.path, h.new_start, h.new_end):
            _add_snippet(sel, state, h.path, d, texts[h.path])
    changed = sorted({h.path for h in hunks if h.path in state.files})
    if changed:
        _pack_paths(sel, state, changed)
    else:
        _add_map(sel, state, ranked_files(state))


def pack(index: ProjectIndex | IndexState, focus: Focus, budget: int, counter: TokenCounter) -> Pack:
    """Select and order items for ``focus`` within ``budget`` tokens (as counted by ``counter``)."""
    _check_budget(budget)
    state = index.state if isinstance(index, ProjectIndex) else index
    sel = _Selection(budget=budget, counter=counter)
    if isinstance(focus, CursorFocus):
        if focus.path not in state.files and focus.text is None:
            raise InputError(f"{focus.path}: not a file of the project (or ignored)")
        _pack_cursor(sel, state, focus)
    elif isinstance(focus, PathsFocus):
        _pack_paths(sel, state, focus.paths)
    elif isinstance(focus, DiffFocus):
        _pack_diff(sel, state, focus.diff)
    else:  # pragma: no cover - type guard
        raise TypeError(f"unknown focus {focus!r}")
    return _finish(sel, state)


# --------------------------------------------------------------------------- rendering

# Fence names for files no grammar parses (parsed languages use their grammar's name).
_TEXT_FENCES = {
    ".md": "markdown",
    ".json": "json",
    ".toml": "toml",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".sh": "bash",
    ".html": "html",
    ".css": "css",
}


def _fence_lang(path: str) -> str:
    language = language_for(path)
    if language is not None:
        return language
    dot = path.rfind(".")
    return _TEXT_FENCES.get(path[dot:].lower(), "") if dot >= 0 else ""


def _item_label(item: PackItem) -> str:
    if item.kind in ("snippet", "hunk") and item.start_line is not None:
        span = f"lines {item.start_line + 1}-{(item.end_line or item.start_line) + 1}"
        return f"{item.kind} {item.symbol}, {span}" if item.symbol else f"{item.kind}, {span}"
    return item.kind


def render(p: Pack, fmt: Format = "markdown") -> str:
    """Deterministic text of a pack: the same pack gives the same bytes."""
    if fmt == "json":
        return (
            json.dumps(
                {
                    "budget": p.budget,
                    "tokens": p.tokens,
                    "items": [
                        {
                            "path": i.path,
                            "kind": i.kind,
                            "tokens": i.tokens,
                            "start_line": i.start_line,
                            "end_line": i.end_line,
                            "symbol": i.symbol,
                            "text": i.text,
                        }
                        for i in p.items
                    ],
                },
                ensure_ascii=False,
                indent=1,
            )
            + "\n"
        )
    out: list[str] = []
    if fmt == "xml":
        out.append("<context>")
        for i in p.items:
            attrs = f'path="{_xml_attr(i.path)}" kind="{i.kind}"'
            if i.symbol:
                attrs += f' symbol="{_xml_attr(i.symbol)}"'
            if i.start_line is not None:
                attrs += f' lines="{i.start_line + 1}-{(i.end_line or i.start_line) + 1}"'
            out.append(f"<file {attrs}>\n{_xml_text(i.text)}\n</file>")
        out.append("</context>")
        return "\n".join(out) + "\n"
    for i in p.items:
        fence = "````" if "```" in i.text else "```"
        lang = "diff" if i.kind == "hunk" else _fence_lang(i.path)
        out.append(f"## {i.path} ({_item_label(i)})\n{fence}{lang}\n{i.text}\n{fence}\n")
    return "\n".join(out)


def _xml_attr(s: str) -> str:
    return s.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _xml_text(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def pack_and_render(
    index: ProjectIndex | IndexState,
    focus: Focus,
    budget: int,
    counter: TokenCounter,
    fmt: Format = "markdown",
) -> tuple[Pack, str]:
    """Pack and render, guaranteeing ``counter.count(text) <= budget`` for the rendered text.

    Framing allowances make overflow rare; when escaping (JSON, XML) or tokens merging differently
    across item boundaries still push the total over, the pack is redone with a smaller budget.
    """
    _check_budget(budget)
    target = budget
    for _ in range(6):
        p = pack(index, focus, max(MIN_BUDGET, target), counter)
        text = render(p, fmt)
        total = counter.count(text)
        if total <= budget:
            return Pack(p.items, budget, total, p.files_seen, p.files_skipped, p.counter), text
        target -= (total - budget) + max(8, budget // 50)
        if target < MIN_BUDGET:
            break
    empty = Pack((), budget, 0, p.files_seen, p.files_skipped, p.counter)
    text = render(empty, fmt)
    return Pack((), budget, counter.count(text), p.files_seen, p.files_skipped, p.counter), text
