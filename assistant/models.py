"""``assist models setup`` and ``assist models list``: the work, apart from argument parsing.

Setup turns each Modelfile into a structured ``/api/create`` request (``assistant.modelfile``) and sends
it to every host of the role the model serves (a team with several GPU servers needs the model on each).
Before creating, it checks that the ``FROM`` base is on that server: a create from a missing base makes
Ollama try to download it from its registry, which on an air-gapped GPU server fails after a long wait
(or, online, silently pulls tens of gigabytes). Instead the user is told the exact ``ollama pull`` to run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import ollama
from ollama import ResponseError

from assistant.backend import Backend, full_model_name
from assistant.config import ROLES, Role, Settings
from assistant.errors import BackendError, BackendUnavailable, InputError, ModelNotFound
from assistant.modelfile import Modelfile, default_model_name, load_modelfile, shipped_modelfiles

Progress = Callable[[str], None]


@dataclass(frozen=True)
class SetupPlan:
    """One model to create: from which Modelfile, under which name, for which role, on which hosts."""

    path: Path
    name: str
    role: Role
    hosts: tuple[str, ...]
    modelfile: Modelfile

    def request(self) -> dict[str, Any]:
        """The create request as sent (adapters/files resolved at send time)."""
        kwargs = self.modelfile.create_kwargs(self.name)
        return {("from" if k == "from_" else k): v for k, v in kwargs.items()}


@dataclass(frozen=True)
class SetupResult:
    name: str
    host: str
    created: bool
    message: str
    fix: str | None = None


def role_models(settings: Settings) -> dict[str, str]:
    return {role: settings.role(role).model for role in ROLES}


def plan_setup(
    settings: Settings, paths: list[Path] | None = None, name: str | None = None
) -> list[SetupPlan]:
    """What ``assist models setup`` would create. No paths: every shipped Modelfile."""
    files = list(paths) if paths else shipped_modelfiles()
    if not files:
        raise InputError("no Modelfiles to set up", hint="pass a Modelfile path")
    if name and len(files) != 1:
        raise InputError("--name needs exactly one Modelfile")
    names = role_models(settings)
    plans: list[SetupPlan] = []
    for path in files:
        mf = load_modelfile(path)
        model = name or default_model_name(mf, names)
        role: Role = "completion" if mf.role == "completion" else "analysis"
        hosts = tuple(dict.fromkeys(settings.hosts(role)))
        plans.append(SetupPlan(path=path, name=model, role=role, hosts=hosts, modelfile=mf))
    return plans


def _is_path(ref: str) -> bool:
    return ref.startswith((".", "/", "~")) or ref.endswith((".gguf", ".bin", ".safetensors"))


def _resolve_file(plan: SetupPlan, ref: str) -> Path:
    path = Path(ref).expanduser()
    if not path.is_absolute():
        path = plan.path.parent / path
    if not path.is_file():
        raise InputError(f"{plan.path}: {ref} is not a file")
    return path


async def _upload(client: ollama.AsyncClient, path: Path, progress: Progress) -> str:
    progress(f"uploading {path.name}")
    return await client.create_blob(path)


async def _base_present(client: ollama.AsyncClient, base: str) -> bool:
    try:
        await client.show(base)
    except ResponseError as exc:
        if exc.status_code == 404 and "model" in str(exc.error):  # "model 'x' not found", not a bad URL
            return False
        raise
    return True


async def setup_one(backend: Backend, plan: SetupPlan, host: str, progress: Progress) -> SetupResult:
    """Create ``plan`` on ``host``; a missing base is reported with the ``ollama pull`` that fixes it."""
    client = backend.client_for(host)
    mf = plan.modelfile
    kwargs = mf.create_kwargs(plan.name)
    try:
        if _is_path(mf.from_):
            path = _resolve_file(plan, mf.from_)
            kwargs.pop("from_")
            kwargs["files"] = {path.name: await _upload(client, path, progress)}
        elif not await _base_present(client, mf.from_):
            return SetupResult(
                plan.name,
                host,
                False,
                f"base model {mf.from_} is not on {host}; not creating {plan.name} "
                "(the server would try to download it from its registry)",
                fix=f"ollama pull {mf.from_}   (on the server: docker exec ollama ollama pull {mf.from_})",
            )
        if mf.adapters:
            adapters = {}
            for ref in mf.adapters:
                path = _resolve_file(plan, ref)
                adapters[path.name] = await _upload(client, path, progress)
            kwargs["adapters"] = adapters
        progress(f"creating {plan.name} on {host} from {mf.from_}")
        stream = await client.create(stream=True, **kwargs)
        async for status in stream:
            if status.status:
                progress(f"{plan.name}: {status.status}")
    except ResponseError as exc:
        return SetupResult(plan.name, host, False, f"{host} refused to create {plan.name}: {exc.error}")
    except (httpx.HTTPError, ConnectionError) as exc:
        return SetupResult(
            plan.name,
            host,
            False,
            f"cannot reach Ollama at {host} ({type(exc).__name__})",
            fix="start the server (docker compose up -d in docker/) or set OLLAMA_HOST / --host",
        )
    return SetupResult(plan.name, host, True, f"created {plan.name} on {host}")


async def setup_models(settings: Settings, plans: list[SetupPlan], progress: Progress) -> list[SetupResult]:
    """Create every planned model on each of its hosts, in order; never stops at the first failure."""
    backends = {role: Backend(settings, role) for role in ROLES}
    try:
        results: list[SetupResult] = []
        for plan in plans:
            for host in plan.hosts:
                results.append(await setup_one(backends[plan.role], plan, host, progress))
        return results
    finally:
        await asyncio.gather(*(b.aclose() for b in backends.values()))


@dataclass(frozen=True)
class RoleModelStatus:
    """One row of ``assist models list``."""

    role: Role
    model: str
    host: str
    present: bool
    num_ctx: int | None
    num_ctx_source: str | None
    capabilities: tuple[str, ...]
    loaded: bool
    size: int | None
    size_vram: int | None
    loaded_context: int | None
    error: str | None = None

    @property
    def vram_fraction(self) -> float | None:
        if not self.loaded or not self.size:
            return None
        return (self.size_vram or 0) / self.size


async def role_status(settings: Settings, role: Role) -> list[RoleModelStatus]:
    """The role's model on each of its hosts: present, window, loaded, VRAM."""
    rows: list[RoleModelStatus] = []
    for host in dict.fromkeys(settings.hosts(role)):
        backend = Backend(settings, role)
        backend.hosts = [host]
        backend.host = host
        model = backend.model
        try:
            try:
                info = await backend.info()
            except ModelNotFound as exc:
                rows.append(
                    RoleModelStatus(
                        role, model, host, False, None, None, (), False, None, None, None, str(exc)
                    )
                )
                continue
            loaded = {m.name: m for m in await backend.loaded(host)}
            entry = loaded.get(full_model_name(model))
            rows.append(
                RoleModelStatus(
                    role=role,
                    model=model,
                    host=host,
                    present=True,
                    num_ctx=info.num_ctx,
                    num_ctx_source=info.num_ctx_source,
                    capabilities=info.capabilities,
                    loaded=entry is not None,
                    size=entry.size if entry else None,
                    size_vram=entry.size_vram if entry else None,
                    loaded_context=entry.context_length if entry else None,
                )
            )
        except (BackendUnavailable, BackendError) as exc:
            rows.append(
                RoleModelStatus(role, model, host, False, None, None, (), False, None, None, None, str(exc))
            )
        finally:
            await backend.aclose()
    return rows


def format_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover


def format_status_table(rows: list[RoleModelStatus]) -> str:
    """A plain, aligned table (stable column order, rows as given)."""
    header = ("ROLE", "MODEL", "HOST", "NUM_CTX", "LOADED", "VRAM")
    lines = [header]
    for r in rows:
        if not r.present:
            lines.append((r.role, r.model, r.host, "-", "missing" if r.error else "-", "-"))
            continue
        ctx = f"{r.num_ctx}" + ("" if r.num_ctx_source == "parameters" else f" ({r.num_ctx_source})")
        if r.loaded:
            frac = r.vram_fraction
            pct = f" ({frac * 100:.0f}%)" if frac is not None else ""
            loaded = "yes" + (f", ctx {r.loaded_context}" if r.loaded_context else "")
            vram = f"{format_bytes(r.size_vram)} of {format_bytes(r.size)}{pct}"
        else:
            loaded, vram = "no", "-"
        lines.append((r.role, r.model, r.host, ctx, loaded, vram))
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    out = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in lines]
    notes = [f"{r.role}: {r.error}" for r in rows if r.error]
    return "\n".join(out + notes)
