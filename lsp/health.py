"""The language server's health check: can we reach Ollama, and are both models there?

Runs at start-up (in the background, never blocking ``initialize``) and for ``assist.doctor``. It asks
each role's backend for the model (``/api/show``), which is the one call that fails with a precise,
actionable error for every problem that matters in an editor: server down, wrong host, missing model,
proxy refusing the token. Each check is bounded by the connect timeout, so a dead host cannot keep the
editor's status bar on "busy" for minutes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.config import ROLES, Role, Settings
from assistant.errors import AssistError, BackendTimeout

if TYPE_CHECKING:
    from assistant.backend import Backend

# Added to the connect timeout: /api/show on a loaded server answers in milliseconds.
SHOW_GRACE_SECONDS = 5.0


@dataclass(frozen=True)
class RoleHealth:
    role: Role
    model: str
    ok: bool
    detail: str
    ollama_family: str = ""


async def check_role(settings: Settings, role: Role, backend: Backend | None = None) -> RoleHealth:
    """Check one role; with ``backend`` given, that backend is used (and its model info stays cached)."""
    from assistant.backend import Backend

    model = settings.role(role).model
    own = backend is None
    try:
        if backend is None:
            backend = Backend(settings, role)
    except AssistError as exc:
        return RoleHealth(role, model, False, str(exc))
    try:
        limit = settings.ollama.connect_timeout + SHOW_GRACE_SECONDS
        try:
            info = await asyncio.wait_for(backend.info(), limit)
        except asyncio.TimeoutError as exc:
            raise BackendTimeout(
                f"no answer from {', '.join(settings.hosts(role))} within {limit:.0f} s"
            ) from exc
        caps = ", ".join(info.capabilities) or "none listed"
        detail = f"num_ctx {info.num_ctx}, family {info.family or 'unknown'}, capabilities: {caps}"
        return RoleHealth(role, model, True, detail, info.family)
    except AssistError as exc:
        return RoleHealth(role, model, False, str(exc))
    finally:
        if own:
            await backend.aclose()


@dataclass(frozen=True)
class Health:
    ok: bool
    report: str  # multi-line, for assist.doctor
    problems: tuple[str, ...]  # one line each, for window/showMessage
    completion_ok: bool  # completion can work even when the analysis model is missing
    completion_detail: str  # the completion role's error exactly as a completion request reports it


async def check(
    settings: Settings, completion_backend: Backend | None = None, *, round_trip: bool = False
) -> Health:
    """Each role's model (decides the status), then ``assistant.doctor``'s checks for the report.

    The doctor's problems (each with its fix) are what the user is shown; ``round_trip`` times a real
    generation per role, which can load a model for minutes, so only ``assist.doctor`` asks for it.
    """
    backends = {"completion": completion_backend}
    results = await asyncio.gather(*(check_role(settings, role, backends.get(role)) for role in ROLES))
    lines = [f"hosts: {', '.join(settings.hosts('completion'))}"]
    own_problems: list[str] = []
    for r in results:
        mark = "ok" if r.ok else "FAILED"
        lines.append(f"{r.role} model {r.model!r}: {mark} — {r.detail}")
        if not r.ok:
            own_problems.append(f"{r.role} model {r.model!r}: {r.detail}")
    lines.append(f"settings from: {', '.join(settings.sources)}")
    problems = list(own_problems)
    try:
        from assistant.doctor import diagnose, format_report
        from assistant.doctor import problems as doctor_problems

        checks = await diagnose(settings, round_trip=round_trip)
        lines += ["", format_report(checks)]
        found = [
            f"{c.subject}: {c.detail}" + (f" ({c.fix})" if c.fix else "") for c in doctor_problems(checks)
        ]
        problems = found or own_problems
    except AssistError as exc:  # the doctor could not run at all: our own lines stand
        lines.append(f"doctor: {exc}")
    completion = next(r for r in results if r.role == "completion")
    ok = not problems and all(r.ok for r in results)
    return Health(ok, "\n".join(lines), tuple(problems), completion.ok, completion.detail)
