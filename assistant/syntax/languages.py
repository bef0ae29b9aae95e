"""Which tree-sitter grammar reads which file, loaded lazily from the official grammar wheels.

Why lazy: importing all eight grammar extensions and compiling their queries costs tens of
milliseconds, and the CLI's start-up budget is small; a Python-only project never pays for C++.
Why per thread: a ``tree_sitter.Parser`` and a ``QueryCursor`` carry mutable state and must not be
shared between threads, while ``Language`` and ``Query`` objects are immutable once built and are
shared process-wide.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from tree_sitter import Language, Parser, Query, QueryCursor

QUERY_DIR = Path(__file__).parent / "queries"

# Sections of a ``queries/<lang>.scm`` file. Each section compiles to its own ``Query`` so that
# the cheap-to-run ``matches`` (definitions, imports) and the bulk ``captures`` (references,
# outline keeps) do not pay for each other's patterns.
SECTION_MARKER = ";; ==== "
SECTIONS = ("definitions", "references", "outline")


@dataclass(frozen=True)
class Grammar:
    """Where a language's grammar lives: the wheel's module, its entry point and the query file."""

    name: str
    module: str
    function: str
    query_file: str


GRAMMARS: dict[str, Grammar] = {
    "python": Grammar("python", "tree_sitter_python", "language", "python.scm"),
    "javascript": Grammar("javascript", "tree_sitter_javascript", "language", "javascript.scm"),
    "typescript": Grammar("typescript", "tree_sitter_typescript", "language_typescript", "typescript.scm"),
    "tsx": Grammar("tsx", "tree_sitter_typescript", "language_tsx", "typescript.scm"),
    "go": Grammar("go", "tree_sitter_go", "language", "go.scm"),
    "rust": Grammar("rust", "tree_sitter_rust", "language", "rust.scm"),
    "java": Grammar("java", "tree_sitter_java", "language", "java.scm"),
    "c": Grammar("c", "tree_sitter_c", "language", "c.scm"),
    "cpp": Grammar("cpp", "tree_sitter_cpp", "language", "cpp.scm"),
}

EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".pyw": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".c++": "cpp",
    ".hh": "cpp",
    ".hpp": "cpp",
    ".hxx": "cpp",
    ".h++": "cpp",
    ".ipp": "cpp",
    ".inl": "cpp",
}


def language_for(rel_path: str) -> str | None:
    """The language name for a path, from its extension (case-insensitive), or None if unknown."""
    suffix = PurePosixPath(rel_path.replace("\\", "/")).suffix.lower()
    return EXTENSIONS.get(suffix)


@dataclass(frozen=True)
class LanguageTools:
    """The immutable, shareable per-language objects."""

    name: str
    language: Language
    queries: dict[str, Query]


_tools: dict[str, LanguageTools] = {}
_tools_lock = threading.Lock()
_local = threading.local()


def split_sections(source: str) -> dict[str, str]:
    """Split a query file into its named sections (lines ``;; ==== name ====``)."""
    sections: dict[str, list[str]] = {name: [] for name in SECTIONS}
    current = "definitions"
    for line in source.splitlines():
        if line.startswith(SECTION_MARKER):
            current = line[len(SECTION_MARKER) :].strip(" =")
            if current not in sections:
                raise ValueError(f"unknown query section {current!r}")
            continue
        sections[current].append(line)
    return {name: "\n".join(lines) for name, lines in sections.items()}


def tools(name: str) -> LanguageTools:
    """Language and compiled queries for ``name``; built once per process, on first use."""
    found = _tools.get(name)
    if found is not None:
        return found
    with _tools_lock:
        found = _tools.get(name)
        if found is None:
            grammar = GRAMMARS[name]
            module = importlib.import_module(grammar.module)
            language = Language(getattr(module, grammar.function)())
            source = (QUERY_DIR / grammar.query_file).read_text(encoding="utf-8")
            queries = {section: Query(language, text) for section, text in split_sections(source).items()}
            found = LanguageTools(name, language, queries)
            _tools[name] = found
    return found


def parser(name: str) -> Parser:
    """This thread's parser for ``name`` (parsers are not thread-safe)."""
    cache: dict[str, Parser] | None = getattr(_local, "parsers", None)
    if cache is None:
        cache = _local.parsers = {}
    found = cache.get(name)
    if found is None:
        found = cache[name] = Parser(tools(name).language)
    return found


def cursor(name: str, section: str) -> QueryCursor:
    """This thread's query cursor for one query section of ``name`` (cursors carry state)."""
    cache: dict[tuple[str, str], QueryCursor] | None = getattr(_local, "cursors", None)
    if cache is None:
        cache = _local.cursors = {}
    key = (name, section)
    found = cache.get(key)
    if found is None:
        found = cache[key] = QueryCursor(tools(name).queries[section])
    return found
