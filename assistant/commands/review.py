"""``assist review PATH…|--staged|--diff REV``: review code with the analysis model and report findings.

Exit codes: 0 no finding at or above ``--fail-on``; 1 findings at or above it; 2 usage, input or
backend error. In ``--hook`` mode (the pre-commit hook) a server that cannot be reached (or times
out, or drops the connection) prints a warning and exits 0, because a GPU server that is down must not
block every commit; ``--strict`` turns that back into exit 2. Other errors (missing model, a prompt
that does not fit) fail in hook mode too: they need fixing, not waiting out.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.config import Settings
    from assistant.findings import ReviewReport

SEVERITY_CHOICES = ("error", "warning", "info", "never")
FORMAT_CHOICES = ("text", "json", "sarif", "github")
# A pass of a 70B model over a 32k window takes minutes on the GPUs we target: a target needing more
# passes than this is most likely a mistake (`assist review .` in a monorepo), so ask for it explicitly.
DEFAULT_MAX_PASSES = 50


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from assistant.commands.common import add_backend_flags

    p = sub.add_parser(
        "review",
        help="review files or changes with the analysis model",
        description="Review files, folders or a git change with the analysis model. Large targets are "
        "reviewed in budgeted passes and the findings merged; every finding's file and line are checked "
        "against the code. Reviewed files are never modified.",
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or folders to review")
    which = p.add_mutually_exclusive_group()
    which.add_argument(
        "--staged", action="store_true", help="review the staged changes (what would be committed)"
    )
    which.add_argument(
        "--diff", metavar="REV", help="review the changes of the work tree since REV (git diff REV)"
    )
    p.add_argument("--format", choices=FORMAT_CHOICES, help="report format (default: review.format, text)")
    p.add_argument(
        "--fail-on",
        choices=SEVERITY_CHOICES,
        help="exit 1 when a finding has this severity or worse (default: review.fail_on, error)",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")
    p.add_argument(
        "--hook",
        action="store_true",
        help="pre-commit mode: review the staged changes; an unreachable server warns and passes",
    )
    p.add_argument(
        "--strict", action="store_true", help="with --hook: fail when the server cannot be reached"
    )
    p.add_argument("--plan", action="store_true", help="show the passes and their token counts; ask no model")
    p.add_argument(
        "--max-passes",
        type=int,
        metavar="N",
        default=DEFAULT_MAX_PASSES,
        help=f"refuse targets that need more passes than this (default {DEFAULT_MAX_PASSES}; 0: no limit)",
    )
    p.add_argument(
        "--consolidate",
        action="store_true",
        help="after several passes, one more request lets the model drop duplicate or refuted findings",
    )
    add_backend_flags(p)
    p.set_defaults(func=run)


def _warn(message: str) -> None:
    print(f"assist review: {message}", file=sys.stderr, flush=True)


@contextmanager
def pass_progress() -> Iterator[Callable[[int, int, str], None]]:
    """A ``rich`` bar over the passes on a terminal; plain ``pass i/n`` lines on stderr otherwise
    (hooks and CI logs keep them readable)."""
    if not sys.stderr.isatty():

        def plain(done: int, total: int, what: str) -> None:
            if done < total:
                _warn(f"pass {done + 1}/{total}: {what}")

        yield plain
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("review"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=Console(stderr=True),
        transient=True,
    )
    task = bar.add_task("", total=None)
    with bar:

        def update(done: int, total: int, what: str) -> None:
            bar.update(task, completed=done, total=total, description=what if done < total else "")

        yield update


def run(args: argparse.Namespace) -> int:
    import asyncio

    from assistant.commands.common import settings_for
    from assistant.errors import BackendTimeout, BackendUnavailable, InputError
    from assistant.files import project_root_for

    if args.strict and not args.hook:
        raise InputError("--strict only applies with --hook")
    staged = args.staged or (args.hook and not args.diff and not args.paths)
    if args.paths and (staged or args.diff):
        raise InputError("give PATH… or --staged or --diff REV, not both")
    if not args.paths and not staged and not args.diff:
        raise InputError("nothing to review: give PATH…, --staged or --diff REV")
    start = Path(args.paths[0]) if args.paths else Path.cwd()
    if args.paths and not start.exists():
        raise InputError(f"{args.paths[0]}: no such file or folder")
    root = project_root_for(start)
    settings = settings_for(args, root, "analysis")
    fmt = args.format or settings.review.format
    fail_on = args.fail_on or settings.review.fail_on
    try:
        return asyncio.run(_review(args, root, settings, fmt, fail_on, staged))
    except (BackendUnavailable, BackendTimeout) as exc:
        if args.hook and not args.strict:
            _warn(f"warning: skipped, the model server is not available: {exc}")
            _warn("commit allowed; run the hook with --strict to block commits instead")
            return 0
        raise
    except Exception as exc:
        from assistant.backend import StreamInterrupted

        if isinstance(exc, StreamInterrupted) and args.hook and not args.strict:
            _warn(f"warning: skipped, the model server dropped the connection: {exc}")
            return 0
        raise


async def _review(
    args: argparse.Namespace, root: Path, settings: Settings, fmt: str, fail_on: str, staged: bool
) -> int:
    from assistant.backend import Backend
    from assistant.errors import AssistError, InputError
    from assistant.findings import at_or_above
    from assistant.index import ProjectIndex
    from assistant.progress import progress_reporter
    from assistant.review import (
        ReviewRun,
        collect_target,
        consolidate,
        partial_report,
        plan_passes,
        run_review,
    )

    with progress_reporter("indexing") as progress:
        index = ProjectIndex.open(root, settings, progress=progress)
    target = collect_target(index, args.paths, staged=staged, rev=args.diff, cwd=Path.cwd())
    if not target.files:
        what = "nothing staged to review" if staged else f"nothing to review in {target.description}"
        for note in target.notes:
            _warn(note)
        _warn(what)
        return 0
    async with Backend(settings, "analysis") as backend:
        counter = await backend.counter()
        budget = await backend.prompt_budget()
        passes = plan_passes(target, index, budget, counter, project=root.name)
        if args.plan:
            head = f"{len(passes)} pass(es) for {target.description}"
            print(f"{head}; prompt budget {budget} tokens ({counter.name})")
            for i, p in enumerate(passes, 1):
                print(f"pass {i}: {p.tokens} tokens ({p.context_tokens} context): {p.describe()}")
            return 0
        if args.max_passes and len(passes) > args.max_passes:
            raise InputError(
                f"reviewing {target.description} needs {len(passes)} passes of the analysis model "
                f"(limit {args.max_passes})",
                hint=f"review fewer paths, or pass --max-passes {len(passes)}",
            )
        n_files, n_passes = len(target.files), len(passes)
        files_text = f"{n_files} file{'s' if n_files != 1 else ''}"
        passes_text = f"{n_passes} pass{'es' if n_passes != 1 else ''}"
        _warn(f"{files_text} in {passes_text} of up to {budget} tokens with {backend.model}")
        run = ReviewRun()
        try:
            with pass_progress() as progress:
                report = await run_review(target, passes, backend, root, progress=progress, run=run)
        except AssistError:
            if run.passes_done and not args.hook:
                # Keep what the finished passes found: print it, then fail with the error.
                _emit(args, partial_report(target, run, backend.model, len(passes)), fmt, root)
            raise
        if args.consolidate and report.passes > 1 and len(report.findings) > 1:
            _warn(f"consolidating {len(report.findings)} findings")
            report = await consolidate(report, target, backend, root, project=root.name)
    _emit(args, report, fmt, root)
    return 1 if at_or_above(report.findings, fail_on) else 0


def _emit(args: argparse.Namespace, report: ReviewReport, fmt: str, root: Path) -> None:
    from assistant.generate import write_atomic
    from assistant.report import render, summary_line

    text = render(report, fmt, root)
    if args.output:
        write_atomic(Path(args.output), text, overwrite=True)
        _warn(summary_line(report))
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
