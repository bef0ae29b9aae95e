"""``assist doctor``: check servers, models, windows, VRAM and a timed round trip per role.

Exit codes: 0 no problem; 1 at least one problem (each printed with the command that fixes it); 2 usage
or configuration errors.
"""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from assistant.commands.common import add_backend_flags

    p = sub.add_parser(
        "doctor",
        help="check the Ollama servers, models, windows and VRAM; say how to fix each problem",
        description="Check that every role's server answers, its model is there with the window `assist` "
        "budgets for, the completion model can fill in the middle, the models sit fully in VRAM, and time "
        "a round trip per role. --host applies to both roles, --model to the analysis role.",
    )
    p.add_argument("--quick", action="store_true", help="skip the round trips (no model is loaded)")
    p.add_argument("--json", action="store_true", help="print the checks as JSON")
    add_backend_flags(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import asyncio
    import dataclasses
    import json

    from assistant.commands.models import settings_for_all_roles
    from assistant.doctor import diagnose, format_report, problems

    settings = settings_for_all_roles(args)

    def progress(line: str) -> None:
        print(f"assist doctor: {line}", file=sys.stderr, flush=True)

    checks = asyncio.run(diagnose(settings, round_trip=not args.quick, progress=progress))
    if args.json:
        print(json.dumps([dataclasses.asdict(c) for c in checks], indent=2))
    else:
        print(format_report(checks))
    return 1 if problems(checks) else 0
