"""Parsing with the real tree-sitter grammars: definitions, references, imports, bad input."""

from __future__ import annotations

import threading

import pytest

from assistant.syntax import Definition, FileFacts, language_for, outline, parse_and_outline, parse_source

PYTHON = '''"""Module doc."""
import os.path
import numpy as np
from .models import User
from .. import views
from __future__ import annotations

MAX_ITEMS = 10
logger = get_logger(__name__)


@dataclass(frozen=True)
class Point(Base):
    """A point.

    More text.
    """

    x: int = 0

    @property
    def norm(self) -> float:
        r"""Euclidean norm."""
        return math.sqrt(self.x)

    def move(
        self,
        dx: int,
    ) -> "Point":
        def helper():
            return dx
        return Point(self.x + helper())


async def fetch(url: str) -> bytes:
    return await client.get(url)
'''


def by_name(facts: FileFacts) -> dict[str, Definition]:
    return {d.name: d for d in facts.definitions}


def test_language_for_extensions() -> None:
    assert language_for("a/b.py") == "python"
    assert language_for("A.PY") == "python"
    assert language_for("x.tsx") == "tsx"
    assert language_for("x.ts") == "typescript"
    assert language_for("x.mjs") == "javascript"
    assert language_for("x.go") == "go"
    assert language_for("x.rs") == "rust"
    assert language_for("X.java") == "java"
    assert language_for("x.c") == "c"
    assert language_for("x.hpp") == "cpp"
    assert language_for("X.cs") == "csharp"
    assert language_for("lib/x.rb") == "ruby"
    assert language_for("src/X.php") == "php"
    assert language_for("README.md") is None
    assert language_for("Makefile") is None


def test_python_definitions() -> None:
    facts = parse_source("pkg/geo.py", PYTHON)
    assert facts.language == "python"
    assert not facts.has_errors
    assert [(d.name, d.kind, d.parent) for d in facts.definitions] == [
        ("MAX_ITEMS", "constant", None),
        ("logger", "variable", None),
        ("Point", "class", None),
        ("norm", "method", "Point"),
        ("move", "method", "Point"),
        ("helper", "function", "move"),
        ("fetch", "function", None),
    ]
    defs = by_name(facts)
    point = defs["Point"]
    assert point.signature == "class Point(Base):"
    assert point.docstring == "A point."
    # The range includes the decorator line (a snippet of the class must carry it).
    lines = PYTHON.split("\n")
    assert lines[point.start_line] == "@dataclass(frozen=True)"
    assert lines[point.end_line] == "        return Point(self.x + helper())"
    assert defs["norm"].signature == "def norm(self) -> float:"
    assert defs["norm"].docstring == "Euclidean norm."
    assert defs["move"].signature == 'def move(self, dx: int,) -> "Point":'
    assert defs["fetch"].signature == "async def fetch(url: str) -> bytes:"
    assert defs["MAX_ITEMS"].signature == "MAX_ITEMS = 10"
    data = PYTHON.encode()
    for d in facts.definitions:
        assert data[d.start_byte : d.end_byte].decode().split("\n")[0] == lines[d.start_line].lstrip()


def test_python_imports_and_references() -> None:
    facts = parse_source("pkg/geo.py", PYTHON)
    # `from M import n` reports M as written and M.n (n may be a submodule); relative keeps its dots.
    assert facts.imports == ("..", "..views", ".models", ".models.User", "__future__", "numpy", "os.path")
    assert list(facts.references) == sorted(set(facts.references))
    for name in ("get_logger", "dataclass", "Base", "sqrt", "client", "get", "User", "Point"):
        assert name in facts.references


def test_unknown_language_is_plain_text() -> None:
    facts = parse_source("notes/README.md", "# Title\n\ndef not_code(): pass\n")
    assert facts == FileFacts(language=None, definitions=(), references=(), imports=(), has_errors=False)
    assert outline("# Title\n", facts) == ""


def test_empty_file() -> None:
    facts = parse_source("empty.py", "")
    assert facts == FileFacts(language="python", definitions=(), references=(), imports=(), has_errors=False)
    assert outline("", facts) == ""


def test_syntax_errors_keep_what_parses() -> None:
    text = (
        "import os\n\ndef good(a):\n    return a\n\ndef broken(:\n    pass\n\n"
        "class Later:\n    def m(self):\n        pass\n"
    )
    facts = parse_source("bad.py", text)
    assert facts.has_errors
    names = [d.name for d in facts.definitions]
    assert "good" in names
    assert "Later" in names
    assert facts.imports == ("os",)
    assert "def good(a):" in outline(text, facts)


def test_non_ascii_offsets_are_utf8_bytes() -> None:
    text = (
        '# ünïcödé 😀 comment\nGRÜSSE = "héllo"\n\n'
        'def größe(ä: str) -> str:\n    """Größe 😀."""\n    return ä\n'
    )
    facts = parse_source("u.py", text)
    data = text.encode()
    defs = by_name(facts)
    f = defs["größe"]
    assert f.docstring == "Größe 😀."
    assert data[f.start_byte : f.end_byte].decode().startswith("def größe(ä: str) -> str:")
    assert data[f.start_byte : f.end_byte].decode().endswith("return ä")
    assert f.start_line == 3
    assert defs["GRÜSSE"].kind == "constant"
    assert "def größe(ä: str) -> str:" in outline(text, facts)


def test_replacement_characters_from_undecodable_bytes() -> None:
    raw = b"def f(x):\n    return '\xff\xfe caf\xe9'\n\ndef g():\n    pass\n"
    text = raw.decode("utf-8", errors="replace")
    facts = parse_source("latin.py", text)
    assert [d.name for d in facts.definitions] == ["f", "g"]
    g = by_name(facts)["g"]
    assert text.encode()[g.start_byte : g.end_byte].decode() == "def g():\n    pass"


def test_lines_count_only_newlines() -> None:
    # str.splitlines() would also split at \x0c, \x1c and U+2028; tree-sitter rows do not.
    text = "X = 'a\u2028b'\n\x0c\ndef f():\n    pass\n"
    facts = parse_source("ff.py", text)
    f = by_name(facts)["f"]
    assert text.split("\n")[f.start_line] == "def f():"


def test_crlf_line_endings() -> None:
    text = "class A:\r\n    def m(self):\r\n        pass\r\n"
    facts, text_outline = parse_and_outline("crlf.py", text)
    assert [(d.name, d.kind, d.start_line, d.end_line) for d in facts.definitions] == [
        ("A", "class", 0, 2),
        ("m", "method", 1, 2),
    ]
    assert "\r" not in text_outline
    assert text_outline == "class A:\n    def m(self):\n        ...\n"


def test_outline_without_memo_on_another_thread() -> None:
    facts = parse_source("pkg/geo.py", PYTHON)
    expected = outline(PYTHON, facts)
    results: list[str] = []
    worker = threading.Thread(target=lambda: results.append(outline(PYTHON, facts)))
    worker.start()
    worker.join()
    assert results == [expected]


def test_parallel_parsing_is_consistent() -> None:
    expected = parse_source("pkg/geo.py", PYTHON)
    found: list[FileFacts] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(20):
            facts = parse_source("pkg/geo.py", PYTHON)
            with lock:
                found.append(facts)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 80
    assert all(facts == expected for facts in found)


@pytest.mark.parametrize(
    ("path", "language"),
    [("a.h", "c"), ("b.h", "cpp")],
)
def test_header_language_sniff(path: str, language: str) -> None:
    text = "int f(int x);\n" if path == "a.h" else "namespace ns {\nclass A { public: int f(); };\n}\n"
    assert parse_source(path, text).language == language


TSX = """import React, { useState } from "react";
import { Button } from "./Button";

type Props = { title: string; initial?: number };

/** Counter with a title. */
export function Counter({ title, initial = 0 }: Props): JSX.Element {
  const [count, setCount] = useState(initial);
  return (
    <div className="counter">
      <Button onClick={() => setCount(count + 1)}>{count}</Button>
    </div>
  );
}

export const App = () => <Counter title="Hi" />;
"""


def test_tsx_uses_the_tsx_grammar() -> None:
    facts = parse_source("web/App.tsx", TSX)
    assert facts.language == "tsx"
    assert not facts.has_errors
    assert [(d.name, d.kind) for d in facts.definitions] == [
        ("Props", "type"),
        ("Counter", "function"),
        ("App", "function"),
    ]
    assert facts.imports == ("./Button", "react")
    assert "useState" in facts.references and "setCount" in facts.references
    # The same text as plain TypeScript does not parse: JSX needs the tsx grammar.
    assert parse_source("web/App.ts", TSX).has_errors


def test_typescript_declarations() -> None:
    text = (
        'declare module "fancy-lib" {\n'
        "  export function fancy(x: number): string;\n"
        "  export class Fancy {\n"
        "    constructor(opts?: Options);\n"
        "    run(): Promise<void>;\n"
        "  }\n"
        "}\n"
    )
    facts = parse_source("types/lib.d.ts", text)
    assert [(d.name, d.kind, d.parent) for d in facts.definitions] == [
        ("fancy-lib", "namespace", None),
        ("fancy", "function", "fancy-lib"),
        ("Fancy", "class", "fancy-lib"),
        ("constructor", "method", "Fancy"),
        ("run", "method", "Fancy"),
    ]
    assert outline(text, facts) == (
        'declare module "fancy-lib" {\n'
        "  export function fancy(x: number): string;\n"
        "\n"
        "  export class Fancy {\n"
        "    constructor(opts?: Options);\n"
        "    run(): Promise<void>;\n"
        "  }\n"
        "}\n"
    )


@pytest.mark.parametrize(
    ("path", "text", "good"),
    [
        ("broken.go", "package x\n\nfunc Good() int { return 1 }\n\nfunc Bad( {\n", "Good"),
        ("broken.rs", "fn good() -> u8 { 1 }\n\nfn bad(x: {\n", "good"),
        ("broken.ts", "export function good(): number { return 1 }\nclass {{\n", "good"),
        ("broken.java", "class A { void good() {} void bad( { }\n", "good"),
        ("broken.c", "int good(void) { return 1; }\nint bad( {\n", "good"),
        ("broken.cpp", "int good() { return 1; }\nclass X { void f(\n", "good"),
        ("broken.js", "function good() { return 1 }\nfunction bad( {\n", "good"),
    ],
)
def test_syntax_errors_in_every_language(path: str, text: str, good: str) -> None:
    facts = parse_source(path, text)
    assert facts.has_errors
    assert good in [d.name for d in facts.definitions]
    outline(text, facts)  # must not raise


def test_outline_is_deterministic_and_tolerates_stale_facts() -> None:
    facts = parse_source("pkg/geo.py", PYTHON)
    assert outline(PYTHON, facts) == outline(PYTHON, parse_source("pkg/geo.py", PYTHON))
    # Facts from an older version of the file (e.g. a stale cache) must not crash the outline.
    shorter = PYTHON[: len(PYTHON) // 3]
    assert isinstance(outline(shorter, facts), str)


def test_python_outline_shape() -> None:
    text_outline = outline(PYTHON, parse_source("pkg/geo.py", PYTHON))
    assert text_outline == (
        '"""Module doc."""\n'
        "\n"
        "import os.path\n"
        "import numpy as np\n"
        "from .models import User\n"
        "from .. import views\n"
        "from __future__ import annotations\n"
        "\n"
        "MAX_ITEMS = 10\n"
        "logger = get_logger(__name__)\n"
        "\n"
        "@dataclass(frozen=True)\n"
        "class Point(Base):\n"
        '    """A point."""\n'
        "\n"
        "    x: int = 0\n"
        "\n"
        "    @property\n"
        "    def norm(self) -> float:\n"
        '        """Euclidean norm."""\n'
        "        ...\n"
        "\n"
        '    def move(self, dx: int,) -> "Point":\n'
        "        ...\n"
        "\n"
        "async def fetch(url: str) -> bytes:\n"
        "    ...\n"
    )


def test_comments_stay_out_of_signatures() -> None:
    text = (
        "class A(B):  # why\n"
        "    def f(self,  # the self\n"
        "          a: int,  # note: a\n"
        "          ) -> int:  # type: ignore\n"
        "        return 1\n"
    )
    assert [d.signature for d in parse_source("c.py", text).definitions] == [
        "class A(B):",
        "def f(self, a: int,) -> int:",
    ]
    go = "package p\n\nfunc (s *S) Do(x int, // the x\n\ty string) error { return nil }\n"
    assert [d.signature for d in parse_source("c.go", go).definitions] == [
        "func (s *S) Do(x int, y string) error"
    ]


def test_commonjs_and_prototype_definitions() -> None:
    text = (
        "exports.foo = function (a) { return a; };\n"
        "module.exports.bar = (b) => b;\n"
        "/** Baz it. */\n"
        "Foo.prototype.baz = function () {};\n"
    )
    facts = parse_source("lib/legacy.js", text)
    assert [(d.name, d.kind, d.parent, d.signature, d.docstring) for d in facts.definitions] == [
        ("foo", "function", None, "exports.foo = function (a)", None),
        ("bar", "function", None, "module.exports.bar = (b) =>", None),
        ("baz", "method", "Foo", "Foo.prototype.baz = function ()", "Baz it."),
    ]


def test_python_type_alias_statement() -> None:
    text = "type Vector = list[float]\n"
    facts = parse_source("t.py", text)
    assert [(d.name, d.kind, d.signature) for d in facts.definitions] == [
        ("Vector", "type", "type Vector = list[float]")
    ]
    assert outline(text, facts) == "type Vector = list[float]\n"


def test_byte_order_mark_is_not_in_the_outline() -> None:
    text = "\ufeffimport os\n\ndef f():\n    pass\n"
    facts = parse_source("bom.py", text)
    assert facts.imports == ("os",)
    assert outline(text, facts) == "import os\n\ndef f():\n    ...\n"


def test_tool_directives_are_not_docstrings() -> None:
    text = "package p\n\n// Sum adds.\n//go:noinline\nfunc Sum(a, b int) int { return a + b }\n\n//go:noinline\nfunc Bare() {}\n"
    facts = parse_source("d.go", text)
    assert [(d.name, d.docstring) for d in facts.definitions] == [("Sum", "Sum adds."), ("Bare", None)]


def test_attributes_and_member_decorators_belong_to_the_definition() -> None:
    rust = (
        "/// A.\n"
        "#[derive(Debug)]\n"
        '#[serde(rename_all = "camelCase")]\n'
        "pub struct A { x: u8 }\n"
        "pub trait T {\n"
        "    #[allow(unused)]\n"
        "    fn f(&self);\n"
        "}\n"
    )
    facts = parse_source("a.rs", rust)
    a = find_one(facts, "A")
    assert (a.start_line, a.end_line, a.docstring, a.signature) == (1, 3, "A.", "pub struct A")
    assert rust.encode()[a.start_byte : a.end_byte].decode().startswith("#[derive(Debug)]")
    assert outline(rust, facts) == (
        "/// A.\n"
        "#[derive(Debug)]\n"
        '#[serde(rename_all = "camelCase")]\n'
        "pub struct A { x: u8 }\n"
        "\n"
        "pub trait T {\n"
        "    #[allow(unused)]\n"
        "    fn f(&self);\n"
        "}\n"
    )
    ts = 'export class A {\n  /** Click. */\n  @HostListener("click")\n  onClick() {}\n}\n'
    facts = parse_source("a.ts", ts)
    click = find_one(facts, "onClick")
    assert (click.start_line, click.signature, click.docstring) == (2, "onClick()", "Click.")
    assert '  @HostListener("click")\n  onClick() { … }\n' in outline(ts, facts)


def find_one(facts: FileFacts, name: str) -> Definition:
    (found,) = [d for d in facts.definitions if d.name == name]
    return found


def test_long_structs_keep_their_fields_short_ones_stay_whole() -> None:
    fields = "".join(f'\t// F{i} doc.\n\tF{i} int `json:"f{i}"`\n' for i in range(20))
    text = (
        "package p\n\n// Big has many fields.\ntype Big struct {\n"
        + fields
        + "}\n\ntype Small struct {\n\tA int // a\n}\n"
    )
    facts = parse_source("big.go", text)
    big_outline = outline(text, facts)
    expected_fields = "".join(f'\tF{i} int `json:"f{i}"`\n' for i in range(20))
    assert "// Big has many fields.\ntype Big struct {\n" + expected_fields + "}\n" in big_outline
    assert "// F3 doc." not in big_outline  # field comments go once the struct is too long to show whole
    assert big_outline.endswith("type Small struct {\n\tA int // a\n}\n")


def test_function_valued_class_fields_are_methods() -> None:
    text = (
        "class A extends React.Component {\n"
        "  state = { n: 0 };\n"
        "  handleClick = (e) => {\n"
        "    this.setState({ n: this.state.n + 1 });\n"
        "  };\n"
        "}\n"
    )
    facts = parse_source("a.jsx", text)
    assert [(d.name, d.kind, d.parent, d.signature) for d in facts.definitions] == [
        ("A", "class", None, "class A extends React.Component"),
        ("handleClick", "method", "A", "handleClick = (e) =>"),
    ]
    assert outline(text, facts) == (
        "class A extends React.Component {\n  state = { n: 0 };\n  handleClick = (e) => { … };\n}\n"
    )


def test_one_statement_defining_several_names() -> None:
    text = "G_MAP, G_RELATED, G_FULL = range(3)\n(X, y) = 1, 2\n\nclass A:\n    pass\n"
    facts = parse_source("groups.py", text)
    assert [(d.name, d.kind, d.parent) for d in facts.definitions] == [
        ("G_MAP", "constant", None),
        ("G_RELATED", "constant", None),
        ("G_FULL", "constant", None),
        ("X", "constant", None),
        ("y", "variable", None),
        ("A", "class", None),
    ]
    assert outline(text, facts) == "G_MAP, G_RELATED, G_FULL = range(3)\n(X, y) = 1, 2\n\nclass A:\n    ...\n"
    go = "package p\n\nvar a, b = 1, 2\n"
    assert [(d.name, d.parent) for d in parse_source("v.go", go).definitions] == [("a", None), ("b", None)]
