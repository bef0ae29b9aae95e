"""``assist generate FILE --instruction TEXT | -f SPEC``: write a whole file with the analysis model.

The answer may take several requests (continuation, see ``assistant.generate``); the file is written
once, atomically, at the end. An existing FILE is never replaced without ``--force`` (checked before
the model is asked, and again at the moment of writing). If generation fails midway, the text so far is
saved next to FILE as ``FILE.<random>.partial`` and the error says where.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.config import Settings
    from assistant.generate import GenerateRequest


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from assistant.commands.common import add_backend_flags

    p = sub.add_parser(
        "generate",
        help="write a whole file with the analysis model",
        description="Generate FILE from an instruction with the analysis model, continuing long answers "
        "until the model finishes, and write it atomically. Refuses to overwrite without --force.",
    )
    p.add_argument("file", metavar="FILE", help="the file to write")
    spec = p.add_mutually_exclusive_group(required=True)
    spec.add_argument("-i", "--instruction", metavar="TEXT", help="what the file should contain")
    spec.add_argument(
        "-f", "--spec", metavar="SPEC", help="read the instruction from this file ('-' for stdin)"
    )
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p.add_argument("--dry-run", action="store_true", help="print the prompt and its budget; ask no model")
    p.add_argument(
        "--num-predict",
        type=int,
        metavar="N",
        help="tokens per response before continuing (default: generate.num_predict, 8192)",
    )
    p.add_argument(
        "--max-continuations",
        type=int,
        metavar="N",
        help="follow-up requests allowed for one file (default: generate.max_continuations, 8)",
    )
    p.add_argument(
        "--context",
        action="append",
        default=[],
        metavar="PATH",
        help="project file to show as context (repeatable; default: the files beside FILE)",
    )
    add_backend_flags(p)
    p.set_defaults(func=run)


def _say(message: str) -> None:
    print(f"assist generate: {message}", file=sys.stderr, flush=True)


def _instruction(args: argparse.Namespace) -> str:
    from assistant.errors import InputError

    if args.instruction is not None:
        text = args.instruction
    elif args.spec == "-":
        text = sys.stdin.read()
    else:
        try:
            text = Path(args.spec).read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise InputError(f"{args.spec}: no such spec file") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{args.spec}: cannot read the spec: {exc}") from exc
    if not text.strip():
        raise InputError("the instruction is empty")
    return text


def run(args: argparse.Namespace) -> int:
    import asyncio

    from assistant.commands.common import settings_for
    from assistant.errors import InputError
    from assistant.files import project_root_for
    from assistant.generate import GenerateRequest, check_writable

    if args.num_predict is not None and args.num_predict <= 0:
        raise InputError("--num-predict must be a positive number of tokens")
    # realpath: the project root is resolved too, and a symlinked target is written through (write_atomic).
    target = Path(os.path.realpath(args.file))
    if not args.dry_run:
        check_writable(target, overwrite=args.force)
    instruction = _instruction(args)
    folder = target.parent
    while not folder.exists():
        folder = folder.parent
    root = project_root_for(folder)
    try:
        target.relative_to(root)
    except ValueError as exc:
        raise InputError(f"{args.file}: outside the project at {root}") from exc
    settings = settings_for(args, root, "analysis")
    request = GenerateRequest(
        root=root,
        target=target,
        instruction=instruction,
        context_paths=(),
        overwrite=args.force,
        num_predict=args.num_predict or settings.generate.num_predict,
    )
    return asyncio.run(_generate(args, request, settings, Path.cwd()))


async def _generate(args: argparse.Namespace, request: GenerateRequest, settings: Settings, cwd: Path) -> int:
    from dataclasses import replace

    from assistant.backend import Backend
    from assistant.errors import AssistError, BackendError, GenerationError, InputError
    from assistant.generate import (
        incomplete_error,
        prepare,
        run_generation,
        save_partial,
        strip_fence,
        write_atomic,
    )
    from assistant.index import ProjectIndex
    from assistant.progress import progress_reporter
    from assistant.tokens import default_counter

    with progress_reporter("indexing") as progress:
        index = ProjectIndex.open(request.root, settings, progress=progress)
    contexts: list[str] = []
    for raw in args.context:
        rel = index.resolve(cwd / raw)
        if rel is None or rel not in index.state.files:
            raise InputError(f"--context {raw}: not a file of the project (or ignored)")
        contexts.append(rel)
    request = replace(request, context_paths=tuple(contexts))
    num_predict = request.num_predict or 0
    max_continuations = (
        args.max_continuations if args.max_continuations is not None else settings.generate.max_continuations
    )
    async with Backend(settings, "analysis") as backend:
        try:
            counter = await backend.counter()
            budget = await backend.prompt_budget(num_predict)
            info = await backend.info()
            template, model, source = info.template, backend.model, f"{backend.model} at {backend.host}"
            system = info.system
        except BackendError as exc:
            if not args.dry_run:
                raise
            # A dry run still shows the prompt when the server is away, budgeted from the config.
            counter, budget, template, model = default_counter(), settings.pack.budget, "", backend.model
            system = ""
            source = f"config (server not reachable: {exc})"
        prepared = prepare(
            request,
            index,
            counter=counter,
            budget=budget,
            num_predict=num_predict,
            template=template,
            model=model,
            system=system,
        )
        if args.dry_run:
            print(prepared.prompt)
            p = prepared
            print(
                f"--- prompt {p.tokens} tokens ({p.context_tokens} context) of a {p.budget}-token budget; "
                f"num_predict {p.num_predict}; layout {p.layout}; counter {p.counter}; budget from {source}"
            )
            return 0
        rel = request.target.relative_to(request.root).as_posix()
        _say(
            f"writing {rel} with {model} (prompt {prepared.tokens} tokens, up to {num_predict} per response)"
        )

        def on_continue(n: int, result: object) -> None:
            why = "hit num_predict" if getattr(result, "done", False) else "stopped without finishing"
            _say(f"response {n} {why}; continuing ({n}/{max_continuations})")

        try:
            generated = await run_generation(
                prepared, backend, max_continuations=max_continuations, on_continue=on_continue
            )
        except AssistError as exc:
            partial = getattr(exc, "partial_text", "")
            if partial:
                kept = save_partial(request.target, partial)
                _say(f"the text generated so far is in {kept}")
            raise
    text = strip_fence(generated.text)
    if not generated.complete:
        kept = save_partial(request.target, text)
        raise incomplete_error(request.target, kept, generated.requests)
    if not text:
        raise GenerationError(f"{model} answered with an empty file; nothing was written")
    write_atomic(request.target, text, overwrite=request.overwrite)
    lines = text.count("\n")
    _say(f"wrote {rel}: {lines} lines in {generated.requests} request(s)")
    return 0
