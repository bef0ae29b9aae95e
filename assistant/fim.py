"""Fill-in-the-middle prompts: the layout of each model family, and the completion prompt builder.

Families are data (``prompts/fim.toml``); this module only fills their templates. Ollama's
qwen3-coder template has no suffix support (a request with ``suffix`` fails with 400 "does not support
insert"), so completion sends ``raw: true`` with the family's own FIM tokens.

The prompt is laid out most-stable-first — repo header, map, related files, snippets, then the
current file's prefix and suffix — and the windows around the cursor move in coarse steps, so that
the prompts of successive keystrokes share a long common prefix and Ollama reuses its KV cache.
"""

from __future__ import annotations

import fnmatch
import math
import re
import sys
from dataclasses import dataclass
from functools import lru_cache

from assistant.errors import ConfigError, InputError
from assistant.index import IndexState, ProjectIndex
from assistant.pack import CursorFocus, PackItem, pack, redact_cached, token_cache
from assistant.resources import data_dir
from assistant.secrets import redact
from assistant.tokens import TokenCounter

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# Share of the budget for the current file's own text around the cursor; the rest is cross-file context.
LOCAL_SHARE = 0.5
# Of the local share, how much goes before the cursor (code before the cursor says more). Everything after
# the cursor is re-evaluated by Ollama on every keystroke (PSM layout: the suffix follows the changed
# prefix), so the suffix window bounds KV-cache reuse: at 0.75 consecutive prompts shared 83 % of their
# bytes while typing in Django's query.py, at 0.875 92 % (bench/completion_bench.py, issue 4 target 90 %).
PREFIX_SHARE = 0.875
# The local part's size is rounded up to this many tokens before the context gets the rest, so the
# context does not change on every keystroke (a changed context invalidates the cached prefix).
LOCAL_QUANTUM = 256
# The prefix window starts (and the suffix window ends) on multiples of this many lines.
LINE_QUANTUM = 16
# Room for the FIM tokens, headers and the path of the current file.
TEMPLATE_OVERHEAD = 32
# Below this there is no room for a useful window around the cursor.
MIN_COMPLETION_BUDGET = 128


@dataclass(frozen=True)
class FimFamily:
    name: str
    fim: str
    stop: tuple[str, ...]
    model_patterns: tuple[str, ...] = ()
    ollama_families: tuple[str, ...] = ()
    repo: str | None = None
    file: str | None = None
    current: str | None = None
    special: tuple[str, ...] = ()

    @property
    def prefix(self) -> str:
        return self.fim.split("{prefix}")[0]

    @property
    def suffix(self) -> str:
        return self.fim.split("{prefix}")[1].split("{suffix}")[0] if "{suffix}" in self.fim else ""

    @property
    def middle(self) -> str:
        return self.fim.rsplit("}", 1)[1]

    @property
    def repo_name(self) -> str | None:
        return self.repo.split("{repo}")[0] if self.repo else None

    @property
    def file_sep(self) -> str | None:
        return self.file.split("{path}")[0] if self.file else None

    def specials(self) -> tuple[str, ...]:
        """Every control string of the family, longest first (so overlapping ones are handled)."""
        found = set(self.stop) | set(self.special)
        for template in (self.fim, self.repo or "", self.file or "", self.current or ""):
            for part in template.replace("{", "\0{").replace("}", "}\0").split("\0"):
                if part and not part.startswith("{") and part.strip():
                    found.add(part.strip())
        return tuple(sorted(found, key=lambda s: (-len(s), s)))


@lru_cache(maxsize=1)
def load_families() -> dict[str, FimFamily]:
    path = data_dir("prompts") / "fim.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot load FIM families: {exc}") from exc
    families: dict[str, FimFamily] = {}
    for name, spec in data.items():
        try:
            families[name] = FimFamily(
                name=name,
                fim=spec["fim"],
                stop=tuple(spec.get("stop", ())),
                model_patterns=tuple(p.lower() for p in spec.get("models", ())),
                ollama_families=tuple(f.lower() for f in spec.get("families", ())),
                repo=spec.get("repo"),
                file=spec.get("file"),
                current=spec.get("current"),
                special=tuple(spec.get("special", ())),
            )
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"{path}: family '{name}' is missing or mistypes {exc}") from exc
        if "{prefix}" not in spec["fim"]:
            raise ConfigError(f"{path}: family '{name}': 'fim' must contain {{prefix}}")
    return families


def family_for(model_name: str, ollama_family: str | None = None) -> FimFamily | None:
    """The FIM family of a model: by Ollama's ``details.family`` when it names one, else by model name.

    The server's family wins because a model's name can be anything (`assist-completion` is whatever
    its Modelfile's FROM says); the name patterns serve when no server is asked (`assist context`).
    """
    families = load_families()
    if ollama_family:
        for fam in families.values():
            if ollama_family.lower() in fam.ollama_families:
                return fam
    name = model_name.lower().split("/")[-1]
    for fam in families.values():
        if any(fnmatch.fnmatchcase(name, p) for p in fam.model_patterns):
            return fam
    return None


def neutralise(text: str, specials: tuple[str, ...]) -> str:
    """Break special-token strings that occur in source text, so they stay text, not control tokens."""
    for s in specials:
        if s in text:
            text = text.replace(s, s[0] + "\u200b" + s[1:])
    return text


@dataclass(frozen=True)
class CompletionPrompt:
    prompt: str
    prefix: str
    suffix: str
    items: tuple[PackItem, ...]
    tokens: int
    budget: int
    family: str | None


def _blocks(lines: list[str], first_line: int) -> list[list[str]]:
    """Split lines into blocks that end on absolute multiples of LINE_QUANTUM (the first may be short)."""
    out: list[list[str]] = []
    i = 0
    while i < len(lines):
        j = i + LINE_QUANTUM - (first_line + i) % LINE_QUANTUM
        out.append(lines[i:j])
        i = j
    return out


def _window_prefix(lines: list[str], head: str, budget: int, counter: TokenCounter) -> str:
    """The end of the text before the cursor, starting on a LINE_QUANTUM boundary, within budget.

    The text is measured in blocks of LINE_QUANTUM lines aligned to absolute line numbers, each counted
    once and then served from the token cache: a keystroke costs one count of the current line and of the
    block it sits in, whatever the file's size.
    """
    room = budget - counter.count(head)
    texts: list[str] = []
    for block in reversed(_blocks(lines, 0)):
        text = "\n".join(block) + "\n"
        cost = token_cache.count(counter, text)
        if cost > room:
            break
        room -= cost
        texts.append(text)
    if room >= 0:
        return "".join(reversed(texts)) + head
    while head and counter.count(head) > budget:  # one enormous line: keep its end
        head = head[len(head) // 2 :]
    return head


def _window_suffix(tail: str, lines: list[str], first_line: int, budget: int, counter: TokenCounter) -> str:
    """The text after the cursor, ending on a LINE_QUANTUM boundary, within budget (blocks as above)."""
    room = budget - counter.count(tail)
    texts: list[str] = []
    for block in _blocks(lines, first_line):
        text = "\n" + "\n".join(block)
        cost = token_cache.count(counter, text)
        if cost > room:
            break
        room -= cost
        texts.append(text)
    if room >= 0:
        return tail + "".join(texts)
    while tail and counter.count(tail) > budget:
        tail = tail[: len(tail) // 2]
    return tail


def split_at_cursor(text: str, line: int, column: int) -> tuple[list[str], str, str, list[str]]:
    """(lines before, start of the cursor line, rest of the cursor line, lines after)."""
    lines = text.split("\n")
    line = max(0, min(line, len(lines) - 1))
    current = lines[line]
    column = max(0, min(column, len(current)))
    return lines[:line], current[:column], current[column:], lines[line + 1 :]


def _comment(path: str) -> str:
    hash_langs = (".py", ".sh", ".rb", ".pl", ".r", ".toml", ".yaml", ".yml", ".cfg", ".ini")
    return "#" if path.lower().endswith(hash_langs) else "//"


def _context_as_comments(path: str, items: tuple[PackItem, ...]) -> str:
    mark = _comment(path)
    out = []
    for item in items:
        out.append(f"{mark} Path: {item.path}")
        out.extend(f"{mark} {line}" if line else mark for line in item.text.split("\n"))
    out.append(f"{mark} Path: {path}")
    return "\n".join(out) + "\n" if items else ""


def build_completion_prompt(
    index: ProjectIndex | IndexState,
    focus: CursorFocus,
    budget: int,
    counter: TokenCounter,
    family: FimFamily | None,
    *,
    repo_name: str,
) -> CompletionPrompt:
    """The whole completion prompt for a cursor, within ``budget`` tokens as counted by ``counter``.

    With ``family`` None the prompt is the context (as comments) plus the prefix; the caller sends the
    suffix through Ollama's ``suffix`` field or not at all.
    """
    if budget < MIN_COMPLETION_BUDGET:
        raise InputError(
            f"budget {budget} is too small: a completion prompt needs {MIN_COMPLETION_BUDGET} tokens"
        )
    state = index.state if isinstance(index, ProjectIndex) else index
    text = focus.text if focus.text is not None else state.text(focus.path)
    specials = family.specials() if family else ()
    before, head, tail, after = split_at_cursor(text, focus.line, focus.column)
    local_budget = int(budget * LOCAL_SHARE)
    # Windows are cut first and redacted after (cheaper than redacting a whole buffer per keystroke);
    # the key-material patterns catch a key block that a window boundary cut in half.
    prefix_raw = _window_prefix(before, head, int(local_budget * PREFIX_SHARE), counter)
    body = prefix_raw[: len(prefix_raw) - len(head)] if prefix_raw.endswith(head) else ""
    prefix_parts = [
        neutralise(redact_cached(body), specials),
        neutralise(redact(prefix_raw[len(body) :]), specials),
    ]
    # Capped at its own share even when the prefix window left room (it is rounded to line blocks): the
    # suffix is what Ollama re-evaluates per keystroke; unused local room goes to cross-file context.
    suffix_budget = min(
        local_budget - count_parts(prefix_parts, counter), local_budget - int(local_budget * PREFIX_SHARE)
    )
    suffix_raw = _window_suffix(tail, after, focus.line + 1, suffix_budget, counter)
    cut = len(tail) if suffix_raw.startswith(tail) else len(suffix_raw)
    suffix_parts = [
        neutralise(redact(suffix_raw[:cut]), specials),
        neutralise(redact_cached(suffix_raw[cut:]), specials),
    ]
    prefix, suffix = "".join(prefix_parts), "".join(suffix_parts)
    local_used = count_parts(prefix_parts, counter) + count_parts(suffix_parts, counter) + TEMPLATE_OVERHEAD
    local_reserved = min(local_budget, math.ceil(local_used / LOCAL_QUANTUM) * LOCAL_QUANTUM)
    context_budget = budget - max(local_reserved, local_used)
    items: tuple[PackItem, ...] = ()
    if context_budget >= 64 and (focus.path in state.files or focus.text is not None):
        items = pack(state, focus, context_budget, counter).items
    parts = _assemble(family, repo_name, focus.path, items, prefix_parts, suffix_parts, specials)
    tokens = count_parts(parts, counter)
    while tokens > budget:
        # Boundary effects of framing and redaction: drop the least stable item, then prefix lines.
        if items:
            items = items[:-1]
        elif "\n" in prefix:
            prefix = prefix.split("\n", LINE_QUANTUM)[-1]
        elif suffix:
            suffix = suffix[: len(suffix) // 2]
        else:
            prefix = prefix[len(prefix) // 2 :]
        parts = _assemble(family, repo_name, focus.path, items, [prefix], [suffix], specials)
        tokens = count_parts(parts, counter)
    prompt = "".join(parts)
    return CompletionPrompt(prompt, prefix, suffix, items, tokens, budget, family.name if family else None)


_PLACEHOLDER = re.compile(r"\{(prefix|suffix|path|text|repo)\}")


def _fill(template: str, **values: str) -> str:
    """Fill ``{name}`` placeholders in one pass, so braces inside source text are never expanded."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def _fill_parts(template: str, **values: list[str]) -> list[str]:
    """Like ``_fill`` but keeps the template's literals and each value as separate parts."""
    parts: list[str] = []
    pos = 0
    for m in _PLACEHOLDER.finditer(template):
        parts.append(template[pos : m.start()])
        parts.extend(values.get(m.group(1), [m.group(0)]))
        pos = m.end()
    parts.append(template[pos:])
    return [p for p in parts if p]


def _assemble(
    family: FimFamily | None,
    repo_name: str,
    path: str,
    items: tuple[PackItem, ...],
    prefix: list[str],
    suffix: list[str],
    specials: tuple[str, ...],
) -> list[str]:
    """The prompt as a list of parts whose concatenation is the prompt.

    Counting the parts one by one lets every part that did not change since the last keystroke come
    from the token cache; each count carries the counter's fixed overhead, which more than covers the
    tokens that can form across a boundary between parts.
    """
    items = tuple(
        PackItem(i.path, i.kind, neutralise(i.text, specials), i.tokens, i.start_line, i.end_line, i.symbol)
        for i in items
    )
    if family is None:
        return [p for p in [_context_as_comments(path, items), *prefix] if p]
    parts: list[str] = []
    if family.file:
        if family.repo:
            parts.append(_fill(family.repo, repo=repo_name))
        parts.extend(_fill(family.file, path=i.path, text=i.text) for i in items)
        if family.current:
            parts.append(_fill(family.current, path=path))
        body_prefix = prefix
    else:
        body_prefix = [_context_as_comments(path, items), *prefix]
    parts.extend(_fill_parts(family.fim, prefix=body_prefix, suffix=suffix))
    return [p for p in parts if p]


def count_parts(parts: list[str], counter: TokenCounter) -> int:
    return sum(token_cache.count(counter, p) for p in parts)
