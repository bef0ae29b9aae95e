"""Import strings from real tree-sitter parses resolve to the project's own files in every language."""

from __future__ import annotations

from assistant.imports import resolve_imports
from assistant.syntax import parse_source

FILES = {
    # Python: absolute, relative (one and two levels), src layout, stdlib that must not resolve.
    "src/shop/__init__.py": "",
    "src/shop/models.py": "import json\nclass Invoice: ...\n",
    "src/shop/billing.py": "from shop.models import Invoice\nfrom . import models\nimport os\n",
    "src/shop/api/views.py": "from ..billing import bill\nfrom ..models import Invoice\n",
    "tools/json.py": "x = 1\n",
    # JavaScript / TypeScript: relative specifiers with and without extension, index files.
    "web/app.ts": "import { render } from './view';\nimport lib from './lib';\nimport React from 'react';\n",
    "web/view.tsx": "export function render() { return null; }\n",
    "web/lib/index.js": "module.exports = {};\n",
    # Go: module-qualified package path.
    "go.mod": "module example.com/shop\n",
    "cmd/main.go": 'package main\n\nimport (\n\t"fmt"\n\t"example.com/shop/internal/store"\n)\n\nfunc main() { fmt.Println(store.Get()) }\n',
    "internal/store/store.go": "package store\n\nfunc Get() int { return 1 }\n",
    # Rust: crate and super paths.
    "src/lib.rs": "mod net;\nuse crate::net::client::Client;\n",
    "src/net/client.rs": "use super::proto;\npub struct Client;\n",
    "src/net/proto.rs": "pub fn encode() {}\n",
    # Java: package-qualified class.
    "java/com/acme/App.java": "package com.acme;\nimport com.acme.util.Strings;\nclass App {}\n",
    "java/com/acme/util/Strings.java": "package com.acme.util;\npublic class Strings {}\n",
    # C / C++: quoted includes, relative and by name.
    "c/main.c": '#include "util/strings.h"\n#include <stdio.h>\nint main(void) { return 0; }\n',
    "c/util/strings.h": "int length(const char *s);\n",
    "cpp/app.cpp": '#include "widget.hpp"\nint main() { return 0; }\n',
    "cpp/include/widget.hpp": "class Widget {};\n",
}


def test_resolution_across_languages() -> None:
    facts = {rel: parse_source(rel, text) for rel, text in FILES.items()}
    resolved = resolve_imports(facts)
    assert resolved["src/shop/billing.py"] == ("src/shop/__init__.py", "src/shop/models.py")
    assert resolved["src/shop/api/views.py"] == ("src/shop/billing.py", "src/shop/models.py")
    assert resolved["src/shop/models.py"] == ()  # `import json` is the standard library, not tools/json.py
    assert resolved["web/app.ts"] == ("web/lib/index.js", "web/view.tsx")
    assert resolved["cmd/main.go"] == ("internal/store/store.go",)
    assert resolved["src/lib.rs"] == ("src/net/client.rs",)
    assert resolved["src/net/client.rs"] == ("src/net/proto.rs",)
    assert resolved["java/com/acme/App.java"] == ("java/com/acme/util/Strings.java",)
    assert resolved["c/main.c"] == ("c/util/strings.h",)
    assert resolved["cpp/app.cpp"] == ("cpp/include/widget.hpp",)


def test_csharp_php_and_ruby() -> None:
    files = {
        "src/Acme/Billing/Invoice.cs": "namespace Acme.Billing { public class Invoice {} }\n",
        "src/Acme/App.cs": "using Acme.Billing.Invoice;\nnamespace Acme { class App {} }\n",
        "src/Acme/Models/User.php": "<?php\nnamespace Acme\\Models;\nclass User {}\n",
        "src/Acme/Http/Controller.php": "<?php\nuse Acme\\Models\\User;\nclass Controller {}\n",
        "lib/shop/cart.rb": "require_relative './item'\nclass Cart; end\n",
        "lib/shop/item.rb": "class Item; end\n",
    }
    resolved = resolve_imports({rel: parse_source(rel, text) for rel, text in files.items()})
    assert resolved["src/Acme/App.cs"] == ("src/Acme/Billing/Invoice.cs",)
    assert resolved["src/Acme/Http/Controller.php"] == ("src/Acme/Models/User.php",)
    assert resolved["lib/shop/cart.rb"] == ("lib/shop/item.rb",)
