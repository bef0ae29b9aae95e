"""Tree-sitter parsing: per-file definitions, references and imports, and signature outlines.

    parse_source(rel_path, text) -> FileFacts     language from the extension (``.h`` sniffed for C++);
                                                  unknown languages give empty plain-text facts
    outline(text, facts) -> str                   signatures, first docstring lines, imports, short
                                                  constants and fields; bodies elided
    parse_and_outline(rel_path, text)             both, parsing once
    language_for(rel_path) / detect_language(rel_path, text)

Grammars come from the official per-language wheels and are loaded on first use; nothing is
downloaded at run time. Parsers and query cursors are per thread, so any thread may call in; but
py-tree-sitter holds the GIL while parsing (tree-sitter/py-tree-sitter#111), so only processes
parse in parallel. ``outline`` reuses the tree that ``parse_source`` built for the same text on the
same thread; called elsewhere it parses again.
"""

from assistant.syntax.languages import language_for
from assistant.syntax.outline import outline, parse_and_outline
from assistant.syntax.tags import Definition, FileFacts, detect_language, parse_source

__all__ = [
    "Definition",
    "FileFacts",
    "detect_language",
    "language_for",
    "outline",
    "parse_and_outline",
    "parse_source",
]
