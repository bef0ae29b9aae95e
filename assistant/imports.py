"""Resolve import strings to the project's own files, for every language we parse.

The parsers report imports as written (``django.db.models``, ``.models``, ``./util``,
``crate::a::b``, ``github.com/x/y/pkg``, ``java.util.List``, ``foo/bar.h``). One generic rule serves
them all: turn the string into path components, make relative ones absolute against the importing
file's folder, then look the components up as a *suffix* of a file's module path (its path without
extension; ``__init__``, ``index`` and ``mod`` files also stand for their folder). When nothing matches,
the last component is dropped once or twice, since ``from a.b import C`` and ``use a::b::C`` name a
symbol after the module. Imports of the standard library or third-party packages find nothing and
are ignored, which is what we want.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping

from assistant.syntax import FileFacts

# File stems that stand for their folder.
PACKAGE_STEMS = frozenset({"__init__", "index", "mod", "lib", "main"})
# How many trailing components we may drop to get from a symbol to its module.
MAX_SYMBOL_DROPS = 2
# A Go package (folder) with more files than this is imported as a whole; too broad to link file by file.
MAX_GO_PACKAGE_FILES = 12
# An import whose suffix matches more files than this is ambiguous noise (e.g. `utils`).
MAX_CANDIDATES = 4

_STRIP_EXT = (
    ".d.ts",
    ".cs",
    ".rb",
    ".php",
    ".py",
    ".pyi",
    ".js",
    ".jsx",
    ".mjs",
    ".cjs",
    ".ts",
    ".tsx",
    ".go",
    ".rs",
    ".java",
    ".c",
    ".h",
    ".cc",
    ".cpp",
    ".cxx",
    ".hpp",
    ".hh",
    ".hxx",
)


def module_key(rel: str) -> tuple[str, ...]:
    """``a/b/__init__.py`` -> ("a", "b"); ``src/x.ts`` -> ("src", "x")."""
    path = rel
    for ext in _STRIP_EXT:
        if path.endswith(ext):
            path = path[: -len(ext)]
            break
    parts = tuple(p for p in path.split("/") if p)
    if len(parts) > 1 and parts[-1] in PACKAGE_STEMS:
        return parts[:-1]
    return parts


def _components(spec: str, importer: str, language: str | None) -> tuple[str, ...] | None:
    spec = spec.strip().strip("\"'<>")
    if not spec:
        return None
    folder = posixpath.dirname(importer)
    if language == "python":
        if spec.startswith("."):
            level = len(spec) - len(spec.lstrip("."))
            base = folder
            for _ in range(level - 1):
                base = posixpath.dirname(base)
            rest = [p for p in spec[level:].split(".") if p]
            return tuple(p for p in base.split("/") if p) + tuple(rest)
        return tuple(p for p in spec.split(".") if p)
    if language == "rust":
        parts = [p for p in spec.split("::") if p and p != "{" and not p.startswith("{")]
        if parts and parts[0] in ("crate", "self", "super"):
            head = parts.pop(0)
            # The module a file is: `a/b.rs` is module a::b, `a/mod.rs` (and lib.rs, main.rs) module a.
            anchor = folder.split("/") if folder else []
            stem = posixpath.splitext(posixpath.basename(importer))[0]
            if stem not in PACKAGE_STEMS:
                anchor = [*anchor, stem]
            if head == "super" and anchor:
                anchor = anchor[:-1]
            if head == "crate":
                anchor = ["src"] if importer.startswith("src/") else []
            return tuple(p for p in anchor if p) + tuple(parts)
        return tuple(parts)
    if spec.startswith(("./", "../")) or spec in (".", ".."):
        joined = posixpath.normpath(posixpath.join(folder, spec))
        return tuple(p for p in joined.split("/") if p and p != ".")
    if language in ("java", "csharp"):
        return tuple(p for p in spec.split(".") if p and p != "*")
    if language == "php":
        return tuple(p for p in spec.replace("\\", "/").split("/") if p)
    if language in ("c", "cpp"):
        # #include "x.h" is relative to the including file first; the suffix lookup covers the rest.
        local = posixpath.normpath(posixpath.join(folder, spec))
        return tuple(p for p in local.split("/") if p)
    return tuple(p for p in spec.replace("::", "/").split("/") if p)


class SuffixTable:
    """Module-path suffixes of every file, for import lookup; depends only on the set of paths."""

    def __init__(self, rels: list[str]) -> None:
        self.table: dict[tuple[str, ...], list[str]] = {}
        for rel in rels:
            key = module_key(rel)
            for start in range(len(key)):
                self.table.setdefault(key[start:], []).append(rel)
            if rel.endswith(".go") and "/" in rel:
                # A Go import names a package: a folder, whose files all belong to it.
                folder = tuple(rel.split("/")[:-1])
                for start in range(len(folder)):
                    self.table.setdefault(("go:", *folder[start:]), []).append(rel)
            if rel.endswith((".h", ".hpp", ".hh", ".hxx")):
                # C/C++ include by file name with extension.
                parts = tuple(rel.split("/"))
                for start in range(len(parts)):
                    self.table.setdefault(("#", *parts[start:]), []).append(rel)

        self.exact: dict[tuple[str, ...], list[str]] = {}
        for rel in rels:
            self.exact.setdefault(module_key(rel), []).append(rel)
        # (language, spec, folder) -> files found; most imports repeat across a project's files
        # (`from django.db import models` in 600 of them), and their lookup does not depend on the
        # importing file beyond its folder (Rust: beyond the file itself, see ``_memo_key``).
        self.found: dict[tuple[str | None, str, str], tuple[str, ...]] = {}

    def lookup_go(self, parts: tuple[str, ...]) -> list[str]:
        """The files of the package at the longest folder suffix of a Go import path (2+ parts)."""
        for start in range(len(parts) - 1):
            found = self.table.get(("go:", *parts[start:]))
            if found:
                return found
        return []

    def lookup(self, parts: tuple[str, ...], *, header: bool) -> list[str]:
        if header:
            return self.table.get(("#", *parts), [])
        # One bare component (`import json`) names a project file only at the top level; deeper
        # matches would link every `import json` to some `serializers/json.py`.
        if len(parts) < 2:
            return self.exact.get(parts, [])
        return self.table.get(parts, [])


def resolve_file(rel: str, facts: FileFacts, table: SuffixTable) -> tuple[str, ...]:
    """The project files that ``rel`` imports, sorted (never itself)."""
    targets: set[str] = set()
    language = facts.language
    folder = rel if language == "rust" else posixpath.dirname(rel)
    for spec in facts.imports:
        key = (language, spec, folder)
        found = table.found.get(key)
        if found is None:
            found = table.found[key] = _lookup(spec, rel, language, table)
        targets.update(found)
    targets.discard(rel)
    return tuple(sorted(targets))


def _lookup(spec: str, rel: str, language: str | None, table: SuffixTable) -> tuple[str, ...]:
    """The files one import names, as seen from ``rel`` (only its folder matters, or for Rust the
    file itself); none when the spec is ambiguous."""
    parts = _components(spec, rel, language)
    if not parts:
        return ()
    found: list[str] = []
    if language == "go":
        found = table.lookup_go(parts)
        return tuple(found) if 0 < len(found) <= MAX_GO_PACKAGE_FILES else ()
    if language in ("c", "cpp") and "." in parts[-1]:
        for cut in range(len(parts)):
            found = table.lookup(parts[cut:], header=True)
            if found:
                break
    else:
        for drop in range(min(MAX_SYMBOL_DROPS, len(parts) - 1) + 1):
            found = table.lookup(parts[: len(parts) - drop], header=False)
            if found:
                break
    return tuple(found) if 0 < len(found) <= MAX_CANDIDATES else ()


def resolve_imports(
    files: Mapping[str, FileFacts], table: SuffixTable | None = None
) -> dict[str, tuple[str, ...]]:
    """rel -> sorted project files it imports (never itself)."""
    table = table or SuffixTable(sorted(files))
    return {rel: resolve_file(rel, files[rel], table) for rel in sorted(files)}
