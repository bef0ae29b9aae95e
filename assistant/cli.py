"""``assist`` command line: argument parsing only; every command's work lives in the core modules.

Errors of the ``AssistError`` family print one line on stderr and exit with their ``exit_code``
(2 for usage, input and backend problems); anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
