"""Tree-sitter parsing: per-file definitions, references and imports, and signature outlines.

Grammars come from the official per-language wheels and are loaded on first use; nothing is
downloaded at run time.
"""

from assistant.syntax.languages import language_for
from assistant.syntax.outline import outline, parse_and_outline
from assistant.syntax.tags import Definition, FileFacts, parse_source

__all__ = ["Definition", "FileFacts", "language_for", "outline", "parse_and_outline", "parse_source"]
