"""Per-language goldens: one small realistic file each, its exact outline and its exact tags.

The expected files were written by the code and then read line by line by a person; a change in
output must be looked at the same way. To rewrite them after an intended change:
``ASSIST_UPDATE_GOLDENS=1 .venv/bin/pytest tests/test_syntax_golden.py`` and review ``git diff``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.syntax import Definition, FileFacts, outline, parse_source
from assistant.tokens import default_counter

GOLDEN = Path(__file__).parent / "golden" / "outline"
SOURCES = sorted(p for p in GOLDEN.iterdir() if p.suffix not in (".outline", ".tags"))
UPDATE = os.environ.get("ASSIST_UPDATE_GOLDENS") == "1"


def tags_text(facts: FileFacts) -> str:
    """A stable, reviewable text form of everything parse_source reports except references."""
    lines = [f"language: {facts.language}", f"has_errors: {facts.has_errors}", "imports:"]
    lines += [f"  {item}" for item in facts.imports]
    lines.append("definitions:")
    for d in facts.definitions:
        lines.append(f"  {d.kind} {d.name} parent={d.parent} lines={d.start_line}-{d.end_line}")
        lines.append(f"    signature: {d.signature}")
        if d.docstring:
            lines.append(f"    doc: {d.docstring}")
    return "\n".join(lines) + "\n"


def check(path: Path, actual: str) -> None:
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == actual


def test_every_language_has_a_golden() -> None:
    languages = {parse_source(p.name, p.read_text(encoding="utf-8")).language for p in SOURCES}
    assert languages >= {
        "python",
        "javascript",
        "typescript",
        "go",
        "rust",
        "java",
        "c",
        "cpp",
        "csharp",
        "ruby",
        "php",
    }


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_outline_golden(source: Path) -> None:
    text = source.read_text(encoding="utf-8")
    facts = parse_source(source.name, text)
    assert not facts.has_errors
    check(source.with_name(source.name + ".outline"), outline(text, facts))


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_tags_golden(source: Path) -> None:
    text = source.read_text(encoding="utf-8")
    check(source.with_name(source.name + ".tags"), tags_text(parse_source(source.name, text)))


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_definition_ranges_cover_their_source(source: Path) -> None:
    text = source.read_text(encoding="utf-8")
    data = text.encode()
    lines = text.split("\n")
    for d in parse_source(source.name, text).definitions:
        body = data[d.start_byte : d.end_byte].decode()
        assert lines[d.start_line].endswith(body.split("\n")[0]) or d.end_line == d.start_line
        assert lines[d.end_line].startswith(body.split("\n")[-1]) or d.end_line == d.start_line
        assert body.count("\n") == d.end_line - d.start_line
        assert not body.endswith(("\n", " "))


def find(facts: FileFacts, name: str, parent: str | None = None) -> Definition:
    matches = [d for d in facts.definitions if d.name == name and (parent is None or d.parent == parent)]
    assert len(matches) == 1, [d for d in facts.definitions if d.name == name]
    return matches[0]


def load(name: str) -> FileFacts:
    return parse_source(name, (GOLDEN / name).read_text(encoding="utf-8"))


def test_python_semantics() -> None:
    facts = load("ratelimit.py")
    take = find(facts, "take")
    assert (take.kind, take.parent, take.docstring) == (
        "method",
        "Bucket",
        "Take one token, waiting at most ``timeout`` seconds.",
    )
    assert take.signature == "def take(self, timeout: float | None = None) -> float:"
    assert find(facts, "limited", "wrap").kind == "function"
    assert find(facts, "DEFAULT_RATE").kind == "constant"
    assert find(facts, "_waits").kind == "variable"
    assert ".errors" in facts.imports and "urllib.request" in facts.imports
    assert {"RateLimited", "monotonic", "observe", "urlopen"} <= set(facts.references)


def test_go_semantics() -> None:
    facts = load("cache.go")
    get = find(facts, "Get")
    assert (get.kind, get.parent) == ("method", "LRU")
    assert get.signature == "func (c *LRU[V]) Get(key string) (V, error)"
    assert get.docstring == "Get returns the value for key, or ErrMiss."
    assert find(facts, "Entry").kind == "struct"
    assert find(facts, "Loader").kind == "interface"
    assert find(facts, "Clock").kind == "type"
    assert find(facts, "DefaultSize").signature == "const DefaultSize = 128"
    assert facts.imports == ("container/list", "errors", "sync", "time")


def test_rust_semantics() -> None:
    facts = load("config.rs")
    impls = [d for d in facts.definitions if d.kind == "impl"]
    assert [d.signature for d in impls] == [
        "impl Config",
        "impl Validate for Config",
        "impl fmt::Display for Config",
    ]
    load_fn = find(facts, "load")
    assert (load_fn.kind, load_fn.parent, load_fn.docstring) == (
        "method",
        "Config",
        "Read and parse a TOML file.",
    )
    assert find(facts, "validate", "Validate").signature == "fn validate(&self) -> Result<()>"
    assert find(facts, "Source").kind == "enum"
    assert find(facts, "MAX_CONFIG_BYTES").kind == "constant"
    assert "std::path::PathBuf" in facts.imports and "crate::error::Result" in facts.imports


def test_typescript_semantics() -> None:
    facts = load("store.ts")
    put = find(facts, "put")
    assert (put.kind, put.parent) == ("method", "Store")
    assert put.signature == "put(id: string, body: T): Doc<T>"
    assert find(facts, "Doc").kind == "interface"
    assert find(facts, "Consistency").kind == "enum"
    assert find(facts, "Listener").kind == "type"
    assert find(facts, "isDoc").kind == "function"
    assert find(facts, "MAX_DOCS").kind == "constant"
    assert find(facts, "Store").docstring == "In-memory document store with change events."
    assert facts.imports == ("../util/hash", "./logger", "node:events")


def test_javascript_semantics() -> None:
    facts = load("router.js")
    assert find(facts, "add").parent == "Router"
    assert find(facts, "json").signature == "export const json = (res, status, body) =>"
    assert find(facts, "routesOf").kind == "function"
    assert facts.imports == ("./path-to-regexp.js", "node:url")


def test_java_semantics() -> None:
    facts = load("InventoryService.java")
    reserve = find(facts, "reserve")
    assert (reserve.kind, reserve.parent) == ("method", "InventoryService")
    assert reserve.signature == "public synchronized Outcome reserve(String sku, int units)"
    assert find(facts, "restock").docstring == "Add units of a SKU."
    assert find(facts, "stockChanged").parent == "Listener"
    assert find(facts, "Outcome").kind == "enum"
    assert "java.util.Objects.requireNonNull" in facts.imports


def test_c_semantics() -> None:
    facts = load("ringbuf.c")
    new = find(facts, "rb_new")
    assert (new.kind, new.signature) == ("function", "ringbuf_t *rb_new(size_t capacity)")
    assert new.docstring == "Allocate a buffer holding at least `capacity` bytes."
    assert find(facts, "ringbuf_t").signature == "typedef struct ringbuf { … } ringbuf_t"
    assert find(facts, "RB_MASK").kind == "macro"
    assert [d.kind for d in facts.definitions if d.name == "next_pow2"] == ["function", "function"]
    assert facts.imports == ("ringbuf.h", "stdlib.h", "string.h")


def test_cpp_semantics() -> None:
    facts = load("matrix.cpp")
    matrix = find(facts, "Matrix", "linalg")
    assert (matrix.kind, matrix.docstring) == ("class", "Dense row-major matrix of doubles.")
    at_decl, at_def = [d for d in facts.definitions if d.name == "at"]
    assert (at_decl.kind, at_decl.parent) == ("method", "Matrix")
    assert (at_def.kind, at_def.parent) == ("method", "Matrix")
    assert at_def.signature == "double& Matrix::at(std::size_t r, std::size_t c)"
    assert (
        find(facts, "dot").signature
        == "template <typename T> T dot(const std::vector<T>& a, const std::vector<T>& b)"
    )


def test_outline_is_much_smaller_than_a_real_file() -> None:
    import argparse

    text = Path(argparse.__file__).read_text(encoding="utf-8")
    facts = parse_source("argparse.py", text)
    counter = default_counter()
    file_tokens = counter.count(text)
    outline_tokens = counter.count(outline(text, facts))
    assert outline_tokens * 4 < file_tokens, (outline_tokens, file_tokens)
    assert "class ArgumentParser(_AttributeHolder, _ActionsContainer):" in outline(text, facts)


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_truncated_files_never_crash(source: Path) -> None:
    """Cut every golden file at many points (mid-token, mid-string, mid-multibyte-free) and parse:
    half-typed code in an editor looks like this."""
    text = source.read_text(encoding="utf-8")
    for cut in range(0, len(text), 41):
        partial = text[:cut]
        facts = parse_source(source.name, partial)
        data = partial.encode()
        for d in facts.definitions:
            assert 0 <= d.start_byte <= d.end_byte <= len(data)
            assert 0 <= d.start_line <= d.end_line <= partial.count("\n")
            assert "\n" not in d.signature
        assert isinstance(outline(partial, facts), str)


def test_csharp_semantics() -> None:
    facts = load("Invoices.cs")
    invoice = find(facts, "Invoice", "Shop.Billing")
    assert (invoice.kind, invoice.docstring) == ("class", "An invoice with its lines.")
    assert invoice.signature == "[Serializable] public class Invoice : EntityBase, IDisposable"
    add = find(facts, "Add")
    assert (add.kind, add.parent, add.docstring) == ("method", "Invoice", "Adds a line; fails past MaxLines.")
    assert find(facts, "Total").signature == "public decimal Total()"
    assert find(facts, "Find").parent == "IInvoiceStore"
    assert find(facts, "Status").kind == "enum"
    assert facts.imports == ("System", "System.Collections.Generic", "System.Linq")


def test_ruby_semantics() -> None:
    facts = load("cart.rb")
    cart = find(facts, "Cart")
    assert (cart.kind, cart.parent) == ("class", "Shop")
    add = find(facts, "add")
    assert (add.kind, add.parent, add.signature) == ("method", "Cart", "def add(sku, qty = 1)")
    assert add.docstring == "Add +qty+ of +sku+; raises CartFull past LIMIT distinct items."
    assert find(facts, "from_json").signature == "def self.from_json(text)"
    assert find(facts, "LIMIT").kind == "constant"
    assert find(facts, "CartFull").docstring == "Raised when a cart would exceed its limit."
    assert facts.imports == ("../pricing/tax", "json")


def test_php_semantics() -> None:
    facts = load("InvoiceService.php")
    create = find(facts, "create")
    assert (create.kind, create.parent, create.docstring) == (
        "method",
        "InvoiceService",
        "Create an invoice for a customer.",
    )
    assert create.signature == "public function create(Customer $customer, array $lines): Invoice"
    assert (
        find(facts, "InvoiceService").signature == "#[Service] final class InvoiceService implements Settles"
    )
    assert find(facts, "settle", "Settles").kind == "method"
    assert find(facts, "money").kind == "function"
    assert find(facts, "DEFAULT_CURRENCY").kind == "constant"
    assert facts.imports == ("App\\Models\\Customer", "App\\Models\\Invoice", "Psr\\Log\\LoggerInterface")
