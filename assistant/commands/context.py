"""``assist context FILE --line L --column C``: the completion context for a cursor.

What an editor plugin would send to the completion model, as text or JSON. With ``--stdin`` the
unsaved text of FILE comes on standard input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant.errors import InputError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "context",
        help="show the completion prompt and context for a cursor",
        description="Build the fill-in-the-middle prompt the completion model would get for a cursor.",
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument("--line", type=int, required=True, help="1-based line of the cursor")
    p.add_argument("--column", type=int, required=True, help="0-based column of the cursor")
    p.add_argument("--budget", type=int, help="token budget (default: completion.context_tokens)")
    p.add_argument("--stdin", action="store_true", help="read FILE's unsaved text from standard input")
    p.add_argument("--json", action="store_true", help="print JSON: budget, tokens, prompt, items")
    p.add_argument("--model", help="completion model whose FIM layout to use (default: the configured one)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from assistant.commands.common import settings_for
    from assistant.files import decode, project_root_for
    from assistant.fim import build_completion_prompt, family_for
    from assistant.index import ProjectIndex
    from assistant.pack import CursorFocus
    from assistant.tokens import default_counter

    path = Path(args.file)
    if args.stdin:
        text = decode(sys.stdin.buffer.read()).text
        if not path.parent.exists():
            raise InputError(f"{path.parent}: no such folder")
    else:
        if not path.is_file():
            raise InputError(f"{path}: no such file")
        text = None
    root = project_root_for(path if path.exists() else path.parent)
    overrides = {"completion.context_tokens": args.budget}
    if args.model:
        overrides["roles.completion.model"] = args.model
    settings = settings_for(args, root, **overrides)
    index = ProjectIndex.open(root, settings)
    rel = index.resolve(path.absolute())
    if rel is None:
        raise InputError(f"{path}: outside the project {root}")
    if text is None:
        if rel not in index.state.files:
            raise InputError(f"{path}: ignored, secret, binary or too large, so not part of the context")
        text = index.read(rel)
    lines = text.split("\n")
    if not 1 <= args.line <= len(lines):
        raise InputError(f"line {args.line} is out of range: {path} has {len(lines)} lines")
    width = len(lines[args.line - 1])
    if not 0 <= args.column <= width:
        raise InputError(f"column {args.column} is out of range: line {args.line} has {width} characters")
    if args.stdin:
        index.update_text(rel, text)
    counter = default_counter()
    family = family_for(settings.role("completion").model)
    result = build_completion_prompt(
        index,
        CursorFocus(rel, args.line - 1, args.column, text),
        settings.completion.context_tokens,
        counter,
        family,
        repo_name=root.name,
    )
    if args.json:
        payload = {
            "budget": result.budget,
            "tokens": result.tokens,
            "prompt": result.prompt,
            "items": [
                {"path": i.path, "kind": i.kind, "tokens": i.tokens, "text": i.text} for i in result.items
            ],
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(result.prompt + "\n")
    return 0
