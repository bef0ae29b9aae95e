"""Facts about one source file from its tree-sitter tree: definitions, references, imports.

tree-sitter's C code does the walking: one query per language (``queries/<lang>.scm``) captures, in
a single pass, every definition node with its name (``@definition.K`` / ``@name.definition.K``),
import strings (``@import``), identifiers used (``@name.reference``, only their text is kept) and
the lines an outline keeps (``@keep.*``). Python code then looks only at definition nodes, to cut
the signature, find the docstring and the enclosing definition. Everything stays in UTF-8 bytes
until the last moment, so offsets are byte offsets into ``text.encode()`` and non-ASCII text cannot
shift them.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from operator import attrgetter

from tree_sitter import Node, Tree

from assistant.syntax.languages import cursor, language_for, parser

# A signature longer than this is cut (a definition whose "header" is huge is not a header).
MAX_SIGNATURE_CHARS = 400
# A constant/variable whose whole text is longer than this shows only its left side: ``X = …``.
MAX_VALUE_SIGNATURE_CHARS = 100
ELLIPSIS = "…"

CLASS_LIKE_KINDS = frozenset({"class", "interface", "struct", "trait", "impl", "enum", "union"})
# A kind captured by a generic pattern loses to a specific one for the same node (Go: a type_spec
# whose type is a struct matches both the "struct" and the "type" pattern).
GENERIC_KINDS = ("type", "variable")
FUNCTION_VALUE_TYPES = frozenset(
    {"arrow_function", "function_expression", "function", "generator_function", "lambda"}
)
COMMENT_TYPES = frozenset({"comment", "line_comment", "block_comment"})
ATTRIBUTE_SIBLINGS = frozenset({"attribute_item", "decorator"})
# Nodes that wrap a definition without being a different thing: the definition's range (and its
# doc comment) start at the wrapper. Python decorators are kept out of the signature.
WRAPPERS: dict[str, frozenset[str]] = {
    "python": frozenset({"decorated_definition"}),
    "javascript": frozenset({"export_statement", "expression_statement"}),
    "typescript": frozenset({"export_statement", "ambient_declaration", "expression_statement"}),
    "tsx": frozenset({"export_statement", "ambient_declaration", "expression_statement"}),
    "go": frozenset(),
    "rust": frozenset(),
    "java": frozenset(),
    "c": frozenset(),
    "cpp": frozenset({"template_declaration"}),
    "csharp": frozenset(),
    "ruby": frozenset(),
    "php": frozenset(),
}
# Definitions the grammars wrap in an expression statement (TS `namespace N {}`, JS `exports.f = …`).
EXPRESSION_DEFINITIONS = frozenset({"internal_module", "module", "assignment_expression"})
# Declarations that may group several specs: one spec climbs to the group, several do not.
GROUPS = frozenset(
    {
        "lexical_declaration",
        "variable_declaration",
        "const_declaration",
        "var_declaration",
        "type_declaration",
    }
)
QUALIFIED_NAME_TYPES = frozenset(
    {"qualified_identifier", "nested_identifier", "scoped_identifier", "scope_resolution"}
)
GO_RECEIVER_TYPE = re.compile(r"\(\s*(?:[A-Za-z_]\w*\s+)?\*?\s*([A-Za-z_]\w*)")
DOC_MARKERS = re.compile(r"^(?:/\*+!?|//[/!]?|\*+(?!/)|#+(?![\[!]))")
# Comments addressed to tools, not readers (`//go:generate`, `//go:build`, `// +build`, `//nolint`).
TOOL_DIRECTIVE = re.compile(r"^//\s*(?:go:|\+build|nolint|lint:|eslint-|@ts-|prettier-ignore|clang-format)")
XML_DOC_REFERENCE = re.compile(r"<(?:see|seealso|paramref|typeparamref)\s+\w+=\"([^\"]*)\"\s*/>")
XML_DOC_TAG = re.compile(r"</?[A-Za-z][^>]*>")
PY_STRING_PREFIX = re.compile(r"^[rRuUbBfF]{0,2}(\"\"\"|'''|\"|')")
# Node.text through C-level map(): a third of the cost of a set comprehension over a million nodes.
_NODE_TEXT = attrgetter("text")
CPP_HEADER_HINTS = re.compile(rb"^\s*(?:class\s+\w|namespace\s|template\s*<|public:|private:)|\w::\w", re.M)


@dataclass(frozen=True)
class Definition:
    """One named definition. Lines are 0-based inclusive; bytes index ``text.encode()``."""

    name: str
    kind: str
    signature: str
    start_line: int
    end_line: int
    start_byte: int
    end_byte: int
    docstring: str | None
    parent: str | None


@dataclass(frozen=True)
class FileFacts:
    """What the index and the packer need to know about one file."""

    language: str | None
    definitions: tuple[Definition, ...]
    references: tuple[str, ...]
    imports: tuple[str, ...]
    has_errors: bool


PLAIN_TEXT = FileFacts(language=None, definitions=(), references=(), imports=(), has_errors=False)

# The outline needs the tree and the captures again right after parsing; keep the last few per
# thread so that a parse_source + outline pair parses and queries once.
TREE_MEMO_SIZE = 4
_memo = threading.local()


@dataclass(frozen=True)
class Parsed:
    """A parsed file: its UTF-8 bytes, tree and the language query's captures by name."""

    src: bytes
    tree: Tree
    captures: dict[str, list[Node]]


def _memo_store() -> OrderedDict[tuple[str, str], Parsed]:
    store = getattr(_memo, "parsed", None)
    if store is None:
        store = _memo.parsed = OrderedDict()
    return store


def encode(text: str) -> bytes:
    """UTF-8 bytes of ``text``; lone surrogates (from surrogateescape decoding) pass through."""
    return text.encode("utf-8", "surrogatepass")


def parsed(language: str, text: str) -> Parsed:
    """``text`` parsed and queried in ``language``, reusing this thread's recent results."""
    store = _memo_store()
    key = (language, text)
    found = store.get(key)
    if found is not None:
        store.move_to_end(key)
        return found
    src = encode(text)
    tree = parser(language).parse(src)
    found = Parsed(src, tree, cursor(language).captures(tree.root_node))
    store[key] = found
    while len(store) > TREE_MEMO_SIZE:
        store.popitem(last=False)
    return found


def detect_language(rel_path: str, text: str) -> str | None:
    """``language_for`` plus one content sniff: a ``.h`` file with C++ constructs is C++."""
    language = language_for(rel_path)
    if language == "c" and rel_path.lower().endswith(".h") and CPP_HEADER_HINTS.search(encode(text)):
        return "cpp"
    return language


def parse_source(rel_path: str, text: str) -> FileFacts:
    """Definitions, references and imports of one file; unknown languages give plain-text facts."""
    language = detect_language(rel_path, text)
    if language is None:
        return PLAIN_TEXT
    result = parsed(language, text)
    src, captures = result.src, result.captures
    names: set[bytes | None] = set(map(_NODE_TEXT, captures.get("name.reference", ())))
    references = tuple(sorted(name.decode("utf-8", "replace") for name in names if name))
    imports: list[str] = []
    for node in captures.get("import", ()):
        imports.extend(_import_strings(language, src, node))
    if captures.get("import.future"):
        imports.append("__future__")
    for node in captures.get("import.name", ()):
        imports.extend(_python_from_import(src, node))
    return FileFacts(
        language=language,
        definitions=tuple(_definitions(language, src, captures)),
        references=references,
        imports=tuple(sorted(set(imports))),
        has_errors=result.tree.root_node.has_error,
    )


def _text(src: bytes, start: int, end: int) -> str:
    return src[start:end].decode("utf-8", "replace")


def collapse(text: str) -> str:
    """One line: runs of whitespace become one space; no space just inside ( and [ brackets."""
    line = " ".join(text.split())
    return line.replace("( ", "(").replace(" )", ")").replace("[ ", "[").replace(" ]", "]")


def cut_line(line: str, limit: int) -> str:
    return line if len(line) <= limit else line[: limit - 2].rstrip() + " " + ELLIPSIS


@dataclass
class _Raw:
    node: Node
    name_node: Node
    kind: str


def _definitions(language: str, src: bytes, captures: dict[str, list[Node]]) -> list[Definition]:
    """Pair each ``@name.definition.K`` with the ``@definition.K`` node above it, then build."""
    raws: dict[tuple[int, int, int], _Raw] = {}
    for capture, name_nodes in captures.items():
        if not capture.startswith("name.definition."):
            continue
        kind = capture[len("name.definition.") :]
        spans = {(node.start_byte, node.end_byte): node for node in captures.get("definition." + kind, ())}
        for name_node in name_nodes:
            above = name_node.parent
            while above is not None and (above.start_byte, above.end_byte) not in spans:
                above = above.parent
            if above is None:
                continue
            node = spans[(above.start_byte, above.end_byte)]
            key = (node.start_byte, node.end_byte, name_node.start_byte)
            previous = raws.get(key)
            if previous is None or (previous.kind in GENERIC_KINDS and kind not in GENERIC_KINDS):
                raws[key] = _Raw(node, name_node, kind)
    built = [
        (*_build(language, src, raw), raw.name_node.start_byte)
        for raw in raws.values()
        if not _is_local_declaration(raw.node)
    ]
    built.sort(key=lambda entry: (entry[0].start_byte, -entry[0].end_byte, entry[2]))
    definitions: list[Definition] = []
    stack: list[Definition] = []
    for item, explicit_parent, _name_start in built:
        # Definitions sharing one statement (`A, B = …`) are siblings, not nested.
        while stack and not (
            stack[-1].start_byte <= item.start_byte
            and item.end_byte <= stack[-1].end_byte
            and (stack[-1].start_byte, stack[-1].end_byte) != (item.start_byte, item.end_byte)
        ):
            stack.pop()
        enclosing = stack[-1] if stack else None
        kind, parent = item.kind, explicit_parent
        if enclosing is not None:
            if parent is None:
                parent = enclosing.name
            if kind == "function" and (
                enclosing.kind in CLASS_LIKE_KINDS or (language == "ruby" and enclosing.kind == "module")
            ):
                kind = "method"
        if kind != item.kind or parent != item.parent:
            item = Definition(
                item.name,
                kind,
                item.signature,
                item.start_line,
                item.end_line,
                item.start_byte,
                item.end_byte,
                item.docstring,
                parent,
            )
        definitions.append(item)
        stack.append(item)
    return definitions


def _named_child(node: Node, index: int) -> Node | None:
    """``node.named_child(index)``, or None past the end (py-tree-sitter raises IndexError there)."""
    return node.named_child(index) if index < node.named_child_count else None


def _is_local_declaration(node: Node) -> bool:
    """A C/C++ ``declaration`` inside a function body: a local, not a prototype worth listing."""
    if node.type != "declaration":
        return False
    parent = node.parent
    while parent is not None:
        if parent.type == "compound_statement":
            return True
        parent = parent.parent
    return False


def _outer(language: str, node: Node) -> tuple[Node, Node | None]:
    """The node a definition's range starts at, and the multi-spec group it sits in, if any."""
    wrappers = WRAPPERS[language]
    outer = node
    group: Node | None = None
    parent = outer.parent
    if parent is not None and parent.type in GROUPS and node.type not in GROUPS:
        specs = [child for child in parent.named_children if child.type not in COMMENT_TYPES]
        if len(specs) == 1:
            outer = parent
        else:
            group = parent
    while True:
        parent = outer.parent
        if parent is None or parent.type not in wrappers:
            break
        if parent.type == "expression_statement" and outer.type not in EXPRESSION_DEFINITIONS:
            break
        outer = parent
    return outer, group


def _value(node: Node) -> Node | None:
    """The value node of an assignment-like definition (Python ``right``, C-family ``value``)."""
    first = _named_child(node, 0)
    candidates = [node] if first is None else [node, first]
    declarator = node.child_by_field_name("declarator")
    if declarator is not None:
        candidates.append(declarator)
    for candidate in candidates:
        value = candidate.child_by_field_name("value") or candidate.child_by_field_name("right")
        if value is not None:
            return value
    return None


COMMENT_MARKERS = (b"#", b"//", b"/*")


def _header_text(src: bytes, outer: Node, start: int, end: int) -> str:
    """Source of ``[start, end)`` without the comments inside it (a ``# note`` after a parameter
    would otherwise swallow the rest of a whitespace-collapsed signature)."""
    raw = src[start:end]
    if b"#" not in raw and b"//" not in raw and b"/*" not in raw:  # COMMENT_MARKERS, unrolled
        return raw.decode("utf-8", "replace")
    comments: list[Node] = []
    pending = [outer]
    while pending:
        node = pending.pop()
        if node.end_byte <= start or node.start_byte >= end:
            continue
        if node.type in COMMENT_TYPES:
            comments.append(node)
        else:
            pending.extend(node.children)
    pieces: list[bytes] = []
    position = start
    for comment in sorted(comments, key=lambda n: n.start_byte):
        pieces.append(src[position : max(position, comment.start_byte)])
        position = max(position, comment.end_byte)
    pieces.append(src[position:end])
    return b" ".join(pieces).decode("utf-8", "replace")


def _body_start(node: Node) -> int | None:
    """Byte offset where a definition's body begins (its signature ends), if it has one."""
    body = node.child_by_field_name("body")
    if body is not None:
        if node.type in ("function_definition", "class_definition") and body.type == "block":
            # Python: end at the colon, so a trailing `# comment` stays out of the signature.
            colon_end = body.start_byte
            for child in node.children:
                if child.type == ":" and child.end_byte <= body.start_byte:
                    colon_end = child.end_byte
            return colon_end
        return body.start_byte
    value = _value(node)
    if value is not None and value.type in FUNCTION_VALUE_TYPES:
        inner = value.child_by_field_name("body")
        return inner.start_byte if inner is not None else None
    inner_type = node.child_by_field_name("type")
    if inner_type is not None and node.type in ("type_spec", "type_definition"):
        found = _body_start(inner_type)
        if found is not None:
            return found
        for child in inner_type.children:
            if child.type in ("{", "field_declaration_list"):
                return child.start_byte
    for child in node.children:
        if child.type == "{":
            return child.start_byte
    return None


def _build(language: str, src: bytes, raw: _Raw) -> tuple[Definition, str | None]:
    node, name_node, kind = raw.node, raw.name_node, raw.kind
    explicit_parent: str | None = None
    while name_node.type in QUALIFIED_NAME_TYPES and name_node.child_by_field_name("name") is not None:
        scope = name_node.child_by_field_name("scope") or name_node.child_by_field_name("path")
        if scope is not None and language == "cpp":
            explicit_parent = _text(src, scope.start_byte, scope.end_byte).split("::")[-1].strip() or None
        name_node = name_node.child_by_field_name("name")  # type: ignore[assignment]
    name = _text(src, name_node.start_byte, name_node.end_byte)
    if name_node.type == "string":  # TypeScript `declare module "lib"`
        name = _strip_quotes(name)
    if (
        language == "javascript"
        and name_node.parent is not None
        and name_node.parent.type == "member_expression"
    ):
        owner = name_node.parent.child_by_field_name("object")
        if owner is not None and owner.type == "member_expression":
            prototype = owner.child_by_field_name("property")
            target = owner.child_by_field_name("object")
            if prototype is not None and target is not None and prototype.text == b"prototype":
                explicit_parent = _text(src, target.start_byte, target.end_byte)
    if explicit_parent and kind == "function":
        kind = "method"
    if language == "go" and kind == "method":
        receiver = node.child_by_field_name("receiver")
        if receiver is not None:
            match = GO_RECEIVER_TYPE.match(_text(src, receiver.start_byte, receiver.end_byte))
            explicit_parent = match.group(1) if match else None

    value = _value(node) if kind in ("variable", "constant") else None
    if kind == "variable":
        if value is not None and value.type in FUNCTION_VALUE_TYPES and language != "python":
            kind = "function"
        elif name.isupper():  # UPPER_CASE by convention, any script
            kind = "constant"

    outer, group = _outer(language, node)
    sig_start = node.start_byte if outer.type == "decorated_definition" else outer.start_byte
    prefix = ""
    if group is not None:
        keyword = group.children[0]
        prefix = _text(src, keyword.start_byte, keyword.end_byte) + " "
        if group.parent is not None and group.parent.type == "export_statement":
            prefix = "export " + prefix
        sig_start = node.start_byte
    body_start = _body_start(node)
    if kind in ("variable", "constant"):
        whole = collapse(_header_text(src, outer, sig_start, node.end_byte))
        if len(whole) > MAX_VALUE_SIGNATURE_CHARS and value is not None:
            whole = collapse(_header_text(src, outer, sig_start, value.start_byte)) + " " + ELLIPSIS
        signature = whole
    elif body_start is not None and body_start > sig_start:
        signature = collapse(_header_text(src, outer, sig_start, body_start))
        if node.type == "type_definition":
            closing = _closing_brace_end(node)
            if closing is not None:
                signature += " { " + ELLIPSIS + " } " + collapse(_text(src, closing, node.end_byte))
    else:
        signature = collapse(_text(src, sig_start, node.end_byte))
    signature = cut_line(prefix + signature.rstrip(";").rstrip(), MAX_SIGNATURE_CHARS)

    # Rust `#[derive(…)]` and TS/JS member decorators are siblings before the item; a snippet of the
    # definition must carry them (as Python's decorated_definition and Java's modifiers already do).
    first = outer
    # Python's decorators sit inside decorated_definition, never beside it: skip the sibling walk
    # (tree-sitter finds a previous sibling by scanning the parent's children).
    previous = outer.prev_named_sibling if language != "python" else None
    while previous is not None and previous.type in ATTRIBUTE_SIBLINGS:
        first = previous
        previous = previous.prev_named_sibling
    docstring = _python_docstring(src, node) if language == "python" else _doc_comment(src, first, language)
    end_byte, end_line = trimmed_end(src, outer)
    return (
        Definition(
            name=name,
            kind=kind,
            signature=signature,
            start_line=first.start_point.row,
            end_line=end_line,
            start_byte=first.start_byte,
            end_byte=end_byte,
            docstring=docstring,
            parent=None,
        ),
        explicit_parent,
    )


def trimmed_end(src: bytes, node: Node) -> tuple[int, int]:
    """End byte and line of ``node`` without trailing whitespace (C preprocessor nodes end after
    their newline, which would put a ``#define`` on two lines)."""
    end = node.end_byte
    while end > node.start_byte and src[end - 1 : end] in (b"\n", b"\r", b" ", b"\t"):
        end -= 1
    return end, node.end_point.row - src.count(b"\n", end, node.end_byte)


def _closing_brace_end(node: Node) -> int | None:
    inner = node.child_by_field_name("type")
    if inner is None:
        return None
    body = inner.child_by_field_name("body")
    return body.end_byte if body is not None else None


def _first_line(lines: list[str]) -> str | None:
    for line in lines:
        stripped = line.strip()
        if stripped:
            return stripped
    return None


def _python_docstring(src: bytes, node: Node) -> str | None:
    body = node.child_by_field_name("body")
    return block_docstring(src, body) if body is not None else None


def block_docstring(src: bytes, body: Node) -> str | None:
    """First line of the docstring opening a Python block (or module), if there is one."""
    index = 0
    first = _named_child(body, 0)
    while first is not None and first.type == "comment":  # comments are not statements
        index += 1
        first = _named_child(body, index)
    if first is None or first.type != "expression_statement" or first.named_child_count != 1:
        return None
    string = _named_child(first, 0)
    if string is None or string.type != "string":
        return None
    raw = _text(src, string.start_byte, string.end_byte)
    match = PY_STRING_PREFIX.match(raw)
    if match is None:
        return None
    quote = match.group(1)
    inner = raw[match.end() :]
    if inner.endswith(quote):
        inner = inner[: -len(quote)]
    return _first_line(inner.split("\n"))


def _doc_comment(src: bytes, outer: Node, language: str) -> str | None:
    """First line of the comment block directly above a definition (attributes may sit between)."""
    block: list[Node] = []
    expected_row = outer.start_point.row
    previous = outer.prev_named_sibling
    # A first statement may sit in a body node that starts with it, the comment above being the
    # body's sibling (tree-sitter-ruby: `module M` / comment / body_statement(class …)).
    parent = outer.parent
    while previous is None and parent is not None and parent.start_byte == outer.start_byte:
        previous = parent.prev_named_sibling
        parent = parent.parent
    while previous is not None:
        if previous.type == "attribute_item":
            expected_row = previous.start_point.row
        elif previous.type in COMMENT_TYPES and previous.end_point.row >= expected_row - 1:
            text = _text(src, previous.start_byte, previous.end_byte)
            if text.startswith("//!") or text.startswith("/*!"):
                break
            block.append(previous)
            expected_row = previous.start_point.row
        else:
            break
        previous = previous.prev_named_sibling
    lines: list[str] = []
    for comment in reversed(block):
        for line in _text(src, comment.start_byte, comment.end_byte).split("\n"):
            line = line.strip()
            if line.endswith("*/"):
                line = line[:-2]
            if TOOL_DIRECTIVE.match(line):
                continue
            line = DOC_MARKERS.sub("", line)
            lines.append(_xml_doc_text(line) if language == "csharp" else line)
    return _first_line(lines)


def _python_from_import(src: bytes, name: Node) -> list[str]:
    """``from M import name`` -> ["M.name"]; ``from . import name`` -> [".name"]."""
    statement = name.parent
    if statement is not None and statement.type == "aliased_import":
        statement = statement.parent
    module = statement.child_by_field_name("module_name") if statement is not None else None
    if module is None:
        return []
    prefix = _text(src, module.start_byte, module.end_byte).replace(" ", "")
    joiner = "" if prefix.endswith(".") else "."
    return [prefix + joiner + _text(src, name.start_byte, name.end_byte).replace(" ", "")]


def _xml_doc_text(line: str) -> str:
    """C# XML doc text: ``<see cref="X"/>`` becomes X, other tags go."""
    line = XML_DOC_REFERENCE.sub(r"\1", line)
    return " ".join(XML_DOC_TAG.sub(" ", line).split())


def _strip_quotes(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] in "\"'`<" and text[-1] in "\"'`>":
        return text[1:-1]
    return text


def _import_strings(language: str, src: bytes, node: Node) -> list[str]:
    text = _text(src, node.start_byte, node.end_byte)
    if language == "python":
        return [collapse(text).replace(" ", "")]
    if language == "rust":
        return _rust_use_paths(src, node, "")
    if language == "php":
        return _php_imports(src, node) if node.type == "namespace_use_declaration" else [_strip_quotes(text)]
    if language == "java":
        body = text.strip().removeprefix("import").strip().removesuffix(";").strip()
        body = body.removeprefix("static").strip()
        return ["".join(body.split())]
    return [_strip_quotes(text)]


def _php_imports(src: bytes, node: Node) -> list[str]:
    """``use A\\B, C as D;`` -> ["A\\B", "C"]; ``use A\\{B, C\\D};`` -> ["A\\B", "A\\C\\D"]."""
    prefix = ""
    group: Node | None = None
    clauses: list[Node] = []
    for child in node.named_children:
        if child.type == "namespace_name":
            prefix = _text(src, child.start_byte, child.end_byte).strip("\\")
        elif child.type == "namespace_use_group":
            group = child
        elif child.type == "namespace_use_clause":
            clauses.append(child)
    if group is not None:
        clauses.extend(c for c in group.named_children if c.type == "namespace_use_clause")
    found: list[str] = []
    for clause in clauses:
        target = clause.named_child(0) if clause.named_child_count else None
        if target is None:
            continue
        path = _text(src, target.start_byte, target.end_byte).strip("\\")
        found.append(f"{prefix}\\{path}" if prefix else path)
    return found


def _join_rust(prefix: str, path: str) -> str:
    path = "".join(path.split())
    if path == "self":
        return prefix or path
    return f"{prefix}::{path}" if prefix else path


def _rust_use_paths(src: bytes, node: Node, prefix: str) -> list[str]:
    kind = node.type
    if kind == "use_as_clause":
        path = node.child_by_field_name("path")
        return _rust_use_paths(src, path, prefix) if path is not None else []
    if kind == "use_wildcard":
        inner = _named_child(node, 0)
        if inner is None:
            return [prefix] if prefix else []
        return [_join_rust(prefix, _text(src, inner.start_byte, inner.end_byte))]
    if kind == "scoped_use_list":
        path = node.child_by_field_name("path")
        items = node.child_by_field_name("list")
        inner_prefix = _join_rust(prefix, _text(src, path.start_byte, path.end_byte)) if path else prefix
        return _rust_use_paths(src, items, inner_prefix) if items is not None else [inner_prefix]
    if kind == "use_list":
        found: list[str] = []
        for child in node.named_children:
            if child.type not in COMMENT_TYPES:
                found.extend(_rust_use_paths(src, child, prefix))
        return found
    return [_join_rust(prefix, _text(src, node.start_byte, node.end_byte))]
