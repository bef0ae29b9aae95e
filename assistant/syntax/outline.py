"""A file as signatures only: what a model needs to call into it, at a fraction of its tokens.

Kept: top-level imports (they say where names come from), module constants as one short line,
every top-level definition's signature with the first docstring line, and for classes, impls,
traits, interfaces and namespaces their members (methods, short fields) nested and indented as in
the source. Bodies are elided with one marker: an indented ``...`` line in Python, ``{ … }`` in
the brace languages (``…`` after an expression-bodied arrow), ``… end`` in Ruby. Short data types
(structs, enums, type aliases, interfaces) are kept whole, since their fields *are* their
signature; long ones list their members one per line.

The outline reuses the tree ``parse_source`` just built on this thread (see ``tags.parsed``);
called on another thread or later, it parses again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tree_sitter import Node

from assistant.syntax.languages import GRAMMARS
from assistant.syntax.tags import (
    ATTRIBUTE_SIBLINGS,
    CLASS_LIKE_KINDS,
    ELLIPSIS,
    Definition,
    FileFacts,
    block_docstring,
    collapse,
    cut_line,
    parse_source,
    parsed,
    trimmed_end,
)

CONTAINER_KINDS = CLASS_LIKE_KINDS | {"module", "namespace"}
# Kinds whose body is data (fields, variants): shown whole when at most this many lines.
DATA_KINDS = frozenset({"struct", "enum", "union", "type", "interface"})
MAX_VERBATIM_LINES = 30
MAX_IMPORT_LINES = 40
MAX_FIELD_CHARS = 160
PYTHON_BODY_MARKER = "..."
BRACE_BODY_MARKER = "{ " + ELLIPSIS + " }"
DOC_PREFIX = {"python": None, "rust": "/// ", "ruby": "# "}
DEFAULT_DOC_PREFIX = "// "
DEFAULT_INDENT_STEP = "    "


@dataclass
class _Item:
    start_byte: int
    end_byte: int
    start_line: int
    end_line: int
    keep: str | None = None  # "import" | "field" for kept source lines
    definition: Definition | None = None
    children: list[_Item] = field(default_factory=list)


def parse_and_outline(rel_path: str, text: str) -> tuple[FileFacts, str]:
    """``parse_source`` and ``outline`` together, parsing once."""
    facts = parse_source(rel_path, text)
    return facts, outline(text, facts)


def outline(text: str, facts: FileFacts) -> str:
    """The file's outline (see module doc); empty for unknown languages and files with nothing to show."""
    if facts.language not in GRAMMARS:  # plain text, or facts from a newer cache format
        return ""
    result = parsed(facts.language, text)
    src, tree = result.src, result.tree
    lines = text.split("\n")
    if "\r" in text:
        lines = [line.rstrip("\r") for line in lines]
    lines[0] = lines[0].removeprefix("\ufeff")  # a byte-order mark is not content
    items = _items(facts, src, result.captures)
    renderer = _Renderer(facts.language, lines, src, tree.root_node)
    out: list[str] = []
    if facts.language == "python":
        module_doc = block_docstring(src, tree.root_node)
        if module_doc:
            out.extend([f'"""{module_doc}"""', ""])
    renderer.render_level(items, "", "", out, top=True)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n" if out else ""


def _items(facts: FileFacts, src: bytes, captures: dict[str, list[Node]]) -> list[_Item]:
    """Definitions and kept nodes as a forest by containment, in source order."""
    flat: list[_Item] = []
    spans: set[tuple[int, int]] = set()
    for d in facts.definitions:
        if (d.start_byte, d.end_byte) not in spans:  # `A, B = …` is one line, shown once
            spans.add((d.start_byte, d.end_byte))
            flat.append(_Item(d.start_byte, d.end_byte, d.start_line, d.end_line, definition=d))
    for capture, nodes in captures.items():
        if not capture.startswith("keep."):
            continue
        kind = capture[len("keep.") :]
        for node in nodes:
            end_byte, end_line = trimmed_end(src, node)
            if (node.start_byte, end_byte) in spans:
                continue
            flat.append(_Item(node.start_byte, end_byte, node.start_point.row, end_line, keep=kind))
    flat.sort(key=lambda item: (item.start_byte, -item.end_byte, item.keep or ""))
    roots: list[_Item] = []
    stack: list[_Item] = []
    for item in flat:
        while stack and not (stack[-1].start_byte <= item.start_byte and item.end_byte <= stack[-1].end_byte):
            stack.pop()
        if stack:
            if stack[-1].keep is not None:
                continue  # a definition inside a kept line (rare) is shown by that line
            stack[-1].children.append(item)
        else:
            roots.append(item)
        stack.append(item)
    return roots


def _node_text(src: bytes, node: Node) -> str:
    return src[node.start_byte : node.end_byte].decode("utf-8", "replace")


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _reindent(line: str, src_indent: str, out_indent: str) -> str:
    if line.startswith(src_indent):
        return (out_indent + line[len(src_indent) :]).rstrip()
    return (out_indent + line.lstrip()).rstrip()


class _Renderer:
    def __init__(self, language: str, lines: list[str], src: bytes, root: Node) -> None:
        self.language = language
        self.python = language == "python"
        self.lines = lines
        self.src = src
        self.root = root
        self.doc_prefix = DOC_PREFIX.get(language, DEFAULT_DOC_PREFIX)
        self.last_line = -1  # the last source line emitted whole (two kept nodes can share a line)

    def line(self, row: int) -> str:
        return self.lines[row] if 0 <= row < len(self.lines) else ""

    def render_level(
        self, items: list[_Item], parent_src: str, parent_out: str, out: list[str], *, top: bool = False
    ) -> bool:
        """Render sibling items; returns whether anything was written."""
        previous: tuple[str, bool] | None = None
        wrote = False
        for item in items:
            src_indent = _indent(self.line(item.start_line))
            if top:
                out_indent = ""
            elif src_indent.startswith(parent_src):
                out_indent = parent_out + src_indent[len(parent_src) :]
            else:
                out_indent = parent_out + DEFAULT_INDENT_STEP
            block: list[str] = []
            category = self.render_item(item, src_indent, out_indent, block)
            if not block:
                continue
            single = len(block) == 1
            # Runs of one-line items stay together, imports stay together; anything else gets air.
            grouped = previous is not None and (
                previous[0] == category == "import"
                or (previous[1] and single and (previous[0] == "import") == (category == "import"))
            )
            if previous is not None and not grouped:
                out.append("")
            out.extend(block)
            previous = (category, single)
            wrote = True
        return wrote

    def render_item(self, item: _Item, src_indent: str, out_indent: str, out: list[str]) -> str:
        if item.keep is not None:
            self.render_keep(item, src_indent, out_indent, out)
            return item.keep
        definition = item.definition
        assert definition is not None
        if definition.kind in ("constant", "variable") or (self.python and definition.kind == "type"):
            text = self.src[definition.start_byte : definition.end_byte].rstrip()
            end = ";" if not self.python and text.endswith(b";") else ""
            out.append(out_indent + definition.signature + end)
            return "value"
        if self.python:
            self.render_python(item, definition, src_indent, out_indent, out)
        elif self.language == "ruby":
            self.render_ruby(item, definition, src_indent, out_indent, out)
        else:
            self.render_braced(item, definition, src_indent, out_indent, out)
        return definition.kind

    def render_keep(self, item: _Item, src_indent: str, out_indent: str, out: list[str]) -> None:
        first = max(item.start_line, self.last_line + 1)
        if first > item.end_line:
            return
        rows = [self.line(row) for row in range(first, item.end_line + 1)]
        self.last_line = item.end_line
        if item.keep == "import" and len(rows) <= MAX_IMPORT_LINES:
            out.extend(_reindent(row, src_indent, out_indent) for row in rows)
        elif len(rows) == 1:
            out.append(
                cut_line(_reindent(rows[0], src_indent, out_indent), len(out_indent) + MAX_FIELD_CHARS)
            )
        else:
            out.append(out_indent + cut_line(collapse(" ".join(rows)), MAX_FIELD_CHARS))

    def node_of(self, definition: Definition) -> Node | None:
        node = self.root.descendant_for_byte_range(definition.start_byte, definition.end_byte)
        return node

    def attribute_lines(self, definition: Definition) -> tuple[list[str], int]:
        """Rust ``#[…]`` attributes and TS/JS member decorators that open a definition's range, and
        the byte where the item itself starts."""
        node: Node | None = self.root.descendant_for_byte_range(definition.start_byte, definition.start_byte)
        while (
            node is not None
            and node.type not in ATTRIBUTE_SIBLINGS
            and node.parent is not None
            and node.parent.start_byte == definition.start_byte
        ):
            node = node.parent
        found: list[str] = []
        item_start = definition.start_byte
        while node is not None and node.type in ATTRIBUTE_SIBLINGS and node.end_byte <= definition.end_byte:
            found.append(collapse(_node_text(self.src, node)))
            item_start = node.end_byte
            node = node.next_named_sibling
        return found, item_start

    def render_python(
        self, item: _Item, definition: Definition, src_indent: str, out_indent: str, out: list[str]
    ) -> None:
        node = self.node_of(definition)
        inner = node
        if node is not None and node.type == "decorated_definition":
            for child in node.children:
                if child.type == "decorator":
                    out.append(out_indent + collapse(_node_text(self.src, child)))
            inner = node.child_by_field_name("definition")
        out.append(out_indent + definition.signature)
        body_out = out_indent + DEFAULT_INDENT_STEP
        body = inner.child_by_field_name("body") if inner is not None else None
        if body is not None and body.start_point.row > inner.start_point.row:  # type: ignore[union-attr]
            body_src = _indent(self.line(body.start_point.row))
            if body_src.startswith(src_indent) and len(body_src) > len(src_indent):
                body_out = out_indent + body_src[len(src_indent) :]
        if definition.docstring:
            out.append(body_out + '"""' + definition.docstring.replace('"""', "'''") + '"""')
        wrote_children = False
        if definition.kind in CONTAINER_KINDS and item.children:
            children: list[str] = []
            wrote_children = self.render_level(item.children, src_indent, out_indent, children)
            if wrote_children:
                if definition.docstring:
                    out.append("")
                out.extend(children)
        if not wrote_children and (definition.kind not in CONTAINER_KINDS or not definition.docstring):
            out.append(body_out + PYTHON_BODY_MARKER)

    def render_ruby(
        self, item: _Item, definition: Definition, src_indent: str, out_indent: str, out: list[str]
    ) -> None:
        """Ruby closes with ``end``: containers list their members, methods elide to ``… end``."""
        if definition.docstring and self.doc_prefix:
            out.append(out_indent + self.doc_prefix + definition.docstring)
        if definition.kind in ("class", "module") and item.children:
            children: list[str] = []
            if self.render_level(item.children, src_indent, out_indent, children):
                out.append(out_indent + definition.signature)
                out.extend(children)
                out.append(out_indent + "end")
                return
        if definition.signature.endswith((";end", "; end")):  # `class Empty < Base; end`
            out.append(out_indent + definition.signature)
        elif definition.signature.endswith("="):  # endless method: `def name(args) = expression`
            out.append(out_indent + definition.signature + " " + ELLIPSIS)
        else:
            out.append(out_indent + definition.signature + " " + ELLIPSIS + " end")

    def render_braced(
        self, item: _Item, definition: Definition, src_indent: str, out_indent: str, out: list[str]
    ) -> None:
        if definition.docstring and self.doc_prefix:
            out.append(out_indent + self.doc_prefix + definition.docstring)
        text = self.src[definition.start_byte : definition.end_byte].rstrip()
        # A C++ class's `;` belongs to the enclosing declaration, not to the class node.
        after = self.src[definition.end_byte : definition.end_byte + 1]
        semicolon = ";" if text.endswith(b";") or after == b";" else ""
        span = definition.end_line - definition.start_line + 1
        if definition.kind in DATA_KINDS and span <= MAX_VERBATIM_LINES:
            for row in range(definition.start_line, definition.end_line + 1):
                out.append(_reindent(self.line(row), src_indent, out_indent))
            self.last_line = max(self.last_line, definition.end_line)
            return
        attributes, item_start = self.attribute_lines(definition)
        out.extend(out_indent + attribute for attribute in attributes)
        item_text = self.src[item_start : definition.end_byte].rstrip()
        whole = collapse(item_text.decode("utf-8", "replace")).rstrip(";").rstrip()
        if whole == definition.signature or not text.endswith((b"}", b"};")):
            has_body = whole != definition.signature
            out.append(out_indent + definition.signature + (" " + ELLIPSIS if has_body else "") + semicolon)
            return
        if definition.kind in CONTAINER_KINDS and item.children:
            children: list[str] = []
            if self.render_level(item.children, src_indent, out_indent, children):
                out.append(out_indent + definition.signature + " {")
                out.extend(children)
                out.append(out_indent + "}" + semicolon)
                return
        out.append(out_indent + definition.signature + " " + BRACE_BODY_MARKER + semicolon)
