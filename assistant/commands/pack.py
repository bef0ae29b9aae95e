"""``assist pack PATH…``: print the packed context of a project for a budget and a focus."""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

from assistant.errors import InputError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "pack",
        help="pack a project's most useful context into a token budget",
        description="Print the project's context packed into --budget tokens: focus files in full, "
        "their dependencies as outlines, then a map of the rest ranked by centrality.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="files (in full) or folders (as a map)")
    p.add_argument("--budget", type=int, help="token budget (default: pack.budget, 32768)")
    p.add_argument("--focus", metavar="FILE[:LINE]", help="pack for a cursor in FILE (at LINE, 1-based)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--diff", metavar="REV", help="focus on the changes since REV (git diff REV)")
    group.add_argument("--staged", action="store_true", help="focus on the staged changes")
    p.add_argument("--format", choices=("markdown", "xml", "json"), help="output format (default markdown)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.set_defaults(func=run)


def _parse_focus(spec: str) -> tuple[str, int]:
    path, sep, line = spec.rpartition(":")
    if sep and line.isdigit():
        return path, int(line)
    return spec, 1


def run(args: argparse.Namespace) -> int:
    from assistant.commands.common import settings_for
    from assistant.files import project_root_for
    from assistant.gitdiff import diff_text
    from assistant.index import ProjectIndex
    from assistant.pack import CursorFocus, DiffFocus, PathsFocus, pack_and_render
    from assistant.progress import progress_reporter
    from assistant.tokens import default_counter

    started = time.perf_counter()
    paths = [Path(p) for p in args.paths]
    for p in paths:
        if not p.exists():
            raise InputError(f"{p}: no such file or folder")
    root = project_root_for(paths[0])
    settings = settings_for(args, root, **{"pack.budget": args.budget, "pack.format": args.format})
    # Load the tokenizer while the index is read or parsed (this thread mostly waits on the parse pool).
    warm = threading.Thread(target=default_counter().count, args=("warm",), daemon=True)
    warm.start()
    with progress_reporter("indexing") as progress:
        index = ProjectIndex.open(root, settings, progress=progress)
    rels = []
    for p in paths:
        rel = index.resolve(p.absolute())
        if rel is None and p.resolve() != root:
            raise InputError(f"{p}: outside the project {root}")
        rels.append(rel or ".")
    if args.focus:
        fpath, line = _parse_focus(args.focus)
        rel = index.resolve(Path(fpath).absolute())
        if rel is None or rel not in index.state.files:
            raise InputError(f"{fpath}: not a file of the project (or ignored)")
        text = index.read(rel)
        if not 1 <= line <= text.count("\n") + 1:
            raise InputError(f"{fpath}: line {line} is out of range (1-{text.count(chr(10)) + 1})")
        focus: CursorFocus | DiffFocus | PathsFocus = CursorFocus(rel, line - 1, 0)
    elif args.diff or args.staged:
        focus = DiffFocus(diff_text(root, args.diff, staged=args.staged))
    else:
        focus = PathsFocus(tuple(rels))
    counter = default_counter()
    result, text = pack_and_render(index, focus, settings.pack.budget, counter, settings.pack.format)
    if args.output:
        from assistant.generate import write_atomic

        write_atomic(Path(args.output), text, overwrite=True)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    seconds = time.perf_counter() - started
    print(
        f"assist pack: {result.files_seen} files seen, {result.files_skipped} skipped; "
        f"{result.count('full')} full, {result.count('outline')} outline, "
        f"{result.count('snippet')} snippet, {result.count('hunk')} hunk; "
        f"{result.tokens}/{result.budget} tokens ({counter.name}); {seconds:.2f}s",
        file=sys.stderr,
    )
    return 0
