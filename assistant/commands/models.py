"""``assist models setup [MODELFILE…]`` and ``assist models list``: parse, call ``assistant.models``, print.

Exit codes: 0 done; 1 ``setup`` could not create every model (a missing base, a refused create); 2 usage,
config or backend errors (``AssistError``), as for every command.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from assistant.commands.common import add_backend_flags

    p = sub.add_parser(
        "models",
        help="create the models from Modelfiles; list each role's model",
        description="Create the Ollama models `assist` uses from Modelfiles, or show each role's model, "
        "its window, and whether it is loaded and in VRAM.",
    )
    actions = p.add_subparsers(dest="models_action", metavar="ACTION")
    setup = actions.add_parser(
        "setup",
        help="create models from Modelfiles (default: the shipped ones)",
        description="Create each Modelfile's model on the hosts of its role. A Modelfile with a "
        "'# assist-role: analysis|completion' header becomes that role's configured model on that role's "
        "hosts; others are named after their file stem (lower-cased) and go to the analysis hosts. The "
        "FROM base must already be on the server: you are told the `ollama pull` to run instead of the "
        "server downloading it.",
    )
    setup.add_argument("modelfiles", nargs="*", metavar="MODELFILE", help="Modelfiles (default: shipped)")
    setup.add_argument("--name", help="model name to create (one Modelfile only)")
    setup.add_argument(
        "--dry-run", action="store_true", help="print the create requests as JSON; create nothing"
    )
    add_backend_flags(setup)
    setup.set_defaults(func=run_setup)
    listing = actions.add_parser("list", help="each role's model: window, loaded, VRAM")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_backend_flags(listing)
    listing.set_defaults(func=run_list)
    p.set_defaults(func=_usage(p))


def _usage(parser: argparse.ArgumentParser) -> Any:
    def run(args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2

    return run


def settings_for_all_roles(args: argparse.Namespace) -> Any:
    """Settings with ``--host``/``--timeout`` applied to both roles; ``--model`` to the analysis role."""
    from assistant.commands.common import backend_overrides
    from assistant.config import load_settings

    overrides: dict[str, Any] = {}
    for role in ("completion", "analysis"):
        o = backend_overrides(args, role)
        if role != "analysis":
            o.pop(f"roles.{role}.model", None)
        overrides.update(o)
    return load_settings(Path.cwd(), overrides=overrides)


def run_setup(args: argparse.Namespace) -> int:
    import asyncio

    from assistant.models import plan_setup, setup_models

    settings = settings_for_all_roles(args)
    plans = plan_setup(settings, [Path(p) for p in args.modelfiles] or None, args.name)
    if args.dry_run:
        data = [
            {"modelfile": str(p.path), "role": p.role, "hosts": list(p.hosts), "request": p.request()}
            for p in plans
        ]
        print(json.dumps(data, indent=2))
        return 0

    def progress(line: str) -> None:
        print(f"assist models: {line}", file=sys.stderr, flush=True)

    results = asyncio.run(setup_models(settings, plans, progress))
    failed = [r for r in results if not r.created]
    for r in results:
        print(
            ("created  " if r.created else "FAILED   ")
            + (r.message if not r.created else f"{r.name} on {r.host}")
        )
        if r.fix:
            print(f"         fix: {r.fix}")
    return 1 if failed else 0


def run_list(args: argparse.Namespace) -> int:
    import asyncio
    import dataclasses

    from assistant.models import format_status_table, role_status

    settings = settings_for_all_roles(args)

    async def gather() -> list[Any]:
        rows: list[Any] = []
        for role in ("completion", "analysis"):
            rows.extend(await role_status(settings, role))
        return rows

    rows = asyncio.run(gather())
    if args.json:
        print(json.dumps([dataclasses.asdict(r) for r in rows], indent=2))
    else:
        print(format_status_table(rows))
    return 0
