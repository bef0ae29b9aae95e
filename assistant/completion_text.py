"""Turn a model's raw fill-in-the-middle answer into text an editor can insert at the cursor.

Completion models are cheap and fast, which means they are sloppy at the edges of what they were asked:
they keep writing past the end of the block, repeat the line that already follows the cursor, close a
bracket that the text after the cursor already closes, and leave trailing spaces. Each rule below removes
one of those failure modes; none of them adds text the model did not write. Everything here is pure
string work so the language server, a benchmark or a future CLI can share it.

Brackets and quotes are tracked with a deliberately small, language-agnostic scanner: quotes end at the
end of a line (so a docstring's apostrophe cannot poison the whole file), ``#`` and ``//`` start a line
comment. It is a heuristic — it errs towards keeping the model's text.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

OPENERS = {"(": ")", "[": "]", "{": "}"}
CLOSERS = {")": "(", "]": "[", "}": "{"}
QUOTES = ("'", '"', "`")
# How much text around the cursor the bracket scan looks at; enough for any realistic nesting, and it
# bounds the cost per request (this runs on every keystroke's completion).
BRACKET_WINDOW_CHARS = 4000
# A line ending with one of these opens a block: the completion may span several lines.
BLOCK_OPENERS = (":", "{", "(", "[", "=>")
# Characters that may be dropped from the end of a completion because the rest of the cursor line
# already starts with them (``foo(|)`` answered with ``x)``); letters are never dropped this way.
OVERLAP_CHARS = frozenset(")]}>\"'`;,:. ")
TAB_WIDTH = 4


@dataclass(frozen=True)
class CursorContext:
    """The cursor line split at the cursor, and whether a multi-line answer makes sense here."""

    line_prefix: str
    line_suffix: str
    multiline: bool


def cursor_context(before: str, after: str) -> CursorContext:
    """Describe the cursor position from the document text before and after it."""
    line_prefix = before[before.rfind("\n") + 1 :]
    newline = after.find("\n")
    line_suffix = after if newline < 0 else after[:newline]
    return CursorContext(line_prefix, line_suffix, wants_multiline(line_prefix, line_suffix))


def wants_multiline(line_prefix: str, line_suffix: str) -> bool:
    """Multi-line only where a new block or statement starts; inside a line, finish that line only.

    Text after the cursor on the same line means the user is editing inside a line: a multi-line answer
    would push that text down and is nearly always wrong.
    """
    if line_suffix.strip():
        return False
    stripped = line_prefix.strip()
    return not stripped or stripped.endswith(BLOCK_OPENERS)


def indent_width(line: str) -> int:
    """Width of the leading whitespace, tabs counted as ``TAB_WIDTH``."""
    expanded = line.expandtabs(TAB_WIDTH)
    return len(expanded) - len(expanded.lstrip(" "))


class _Scanner:
    """Yields bracket characters outside strings and line comments, keeping quote state across calls."""

    def __init__(self, quote: str | None = None) -> None:
        self.quote = quote

    def brackets(self, text: str) -> Iterator[tuple[int, str]]:
        i, n = 0, len(text)
        while i < n:
            ch = text[i]
            if ch == "\n":
                self.quote = None
            elif self.quote is not None:
                if ch == "\\":
                    i += 1
                elif ch == self.quote:
                    self.quote = None
            elif ch in QUOTES:
                self.quote = ch
            elif ch == "#" or (ch == "/" and text.startswith("//", i)):
                end = text.find("\n", i)
                if end < 0:
                    return
                i = end
                continue
            elif ch in OPENERS or ch in CLOSERS:
                yield i, ch
            i += 1


def _open_brackets(before: str, after: str) -> tuple[list[str], str | None]:
    """Openers before the cursor that the text after the cursor does not close, and the quote state.

    The result is what a completion may legitimately close.
    """
    scanner = _Scanner()
    stack: list[str] = []
    for _, ch in scanner.brackets(before[-BRACKET_WINDOW_CHARS:]):
        if ch in OPENERS:
            stack.append(ch)
        elif stack and stack[-1] == CLOSERS[ch]:
            stack.pop()
    quote_at_cursor = scanner.quote
    suffix_scanner = _Scanner(quote_at_cursor)
    own: list[str] = []
    for _, ch in suffix_scanner.brackets(after[:BRACKET_WINDOW_CHARS]):
        if ch in OPENERS:
            own.append(ch)
        elif own:
            if own[-1] == CLOSERS[ch]:
                own.pop()
        elif stack and stack[-1] == CLOSERS[ch]:
            stack.pop()  # the text after the cursor closes this opener already
        else:
            break  # structure we do not understand: stop rather than guess
    return stack, quote_at_cursor


def balance_brackets(completion: str, before: str, after: str) -> str:
    """Cut the completion before the first closing bracket that nothing left open can match.

    ``foo(bar(|))`` answered with ``x))`` becomes ``x``: both parentheses are closed after the cursor.
    """
    available, quote = _open_brackets(before, after)
    own: list[str] = []
    for index, ch in _Scanner(quote).brackets(completion):
        if ch in OPENERS:
            own.append(ch)
        elif own:
            if own[-1] != CLOSERS[ch]:
                return completion[:index]
            own.pop()
        elif available and available[-1] == CLOSERS[ch]:
            available.pop()
        else:
            return completion[:index]
    return completion


def trim_line_overlap(completion: str, line_suffix: str) -> str:
    """Drop the end of the completion that the rest of the cursor line already contains."""
    rest = line_suffix.rstrip()
    if not rest or not completion:
        return completion
    if completion.endswith(rest):
        return completion[: -len(rest)]
    for k in range(min(len(rest), len(completion)), 0, -1):
        head = rest[:k]
        if completion.endswith(head) and all(ch in OVERLAP_CHARS for ch in head):
            return completion[:-k]
    return completion


def _first_nonblank_line(text: str) -> str | None:
    for line in text.split("\n"):
        if line.strip():
            return line.strip()
    return None


def trim_repetition(completion: str, line_prefix: str, after: str) -> str:
    """Stop where the completion starts writing the line that already follows the cursor."""
    newline = after.find("\n")
    following = _first_nonblank_line(after[newline + 1 :]) if newline >= 0 else None
    if following is None:
        return completion
    lines = completion.split("\n")
    for i, line in enumerate(lines):
        whole = (line_prefix + line) if i == 0 else line
        if whole.strip() == following and (i > 0 or not line_prefix.strip()):
            return "\n".join(lines[:i])
    return completion


def trim_dedent(completion: str, line_prefix: str, base_line: str) -> str:
    """Stop a multi-line completion at the first line that leaves the block the cursor is in."""
    opener = bool(line_prefix.strip())
    base = indent_width(base_line) if opener else indent_width(line_prefix)
    lines = completion.split("\n")
    for i, line in enumerate(lines[1:], start=1):
        if not line.strip():
            continue
        width = indent_width(line)
        if width < base:
            return "\n".join(lines[:i])
        if opener and width == base:
            # Back at the opener's level: the block is over. Keep its closing bracket (``}`` / ``)``).
            return "\n".join(lines[: i + 1] if line.lstrip()[:1] in CLOSERS else lines[:i])
    return completion


def strip_trailing_space(completion: str) -> str:
    """No trailing whitespace on any line, no trailing blank lines."""
    return "\n".join(line.rstrip() for line in completion.split("\n")).rstrip()


def cut_at_stops(text: str, stops: Sequence[str]) -> str:
    """Everything before the earliest stop string (servers usually stop on them, but raw mode leaks)."""
    cut = len(text)
    for stop in stops:
        if stop:
            at = text.find(stop)
            if 0 <= at < cut:
                cut = at
    return text[:cut]


def clean_completion(raw: str, before: str, after: str, *, multiline: bool, stops: Sequence[str] = ()) -> str:
    """Apply every rule in order; an empty string means "nothing worth showing"."""
    ctx = cursor_context(before, after)
    text = cut_at_stops(raw.replace("\r\n", "\n"), stops)
    if not multiline:
        text = text.split("\n", 1)[0]
    else:
        text = trim_repetition(text, ctx.line_prefix, after)
        text = trim_dedent(text, ctx.line_prefix, ctx.line_prefix + ctx.line_suffix)
    text = trim_line_overlap(text, ctx.line_suffix)
    text = balance_brackets(text, before, after)
    text = strip_trailing_space(text)
    if not text.strip():
        return ""
    return text


def continue_suggestion(
    previous_before: str, previous_after: str, suggestion: str, before: str, after: str
) -> str | None:
    """The rest of an earlier suggestion when the user has typed its first characters, else ``None``.

    This answers the most common request of all — the next keystroke after a suggestion was shown —
    without a model call, so ghost text does not flicker while the user types what it shows.
    """
    if after != previous_after or not before.startswith(previous_before):
        return None
    typed = before[len(previous_before) :]
    if not suggestion.startswith(typed) or len(typed) >= len(suggestion):
        return None
    return suggestion[len(typed) :]
