"""``assist`` command line: argument parsing only; every command's work lives in the core modules.

Errors of the ``AssistError`` family print one line on stderr and exit with their ``exit_code``
(2 for usage, input and backend problems); anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import importlib
import os
import sys
import threading
from collections.abc import Sequence
from typing import NoReturn

from assistant import __version__
from assistant.errors import AssistError

# Sub-command modules in assistant/commands/, in the order `assist --help` lists them.
COMMANDS = ("pack", "context", "review", "generate", "doctor", "models")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assist",
        description="Self-hosted code assistant over Ollama: context packing, review, generation.",
    )
    parser.add_argument("--version", action="version", version=f"assist {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"assistant.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"assistant.commands.{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except AssistError as exc:
        if args.verbose:
            raise
        print(f"assist: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("assist: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def console() -> NoReturn:
    """The ``assist`` console script: ``main``, then an exit that skips freeing the heap.

    Why: after packing a large project the process holds about a million small objects, and the
    interpreter's shutdown frees them one by one: 0.2 s on Django, more than the CLI's whole start-up
    budget, paid by every editor and hook call. Exit handlers still run and the output streams are
    flushed first, so nothing written is lost; if a non-daemon thread is still working, the normal
    shutdown (which waits for it) is used instead.
    """
    code = main()
    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    console()
