"""``assist doctor``: check the whole path from `assist` to the GPUs, and say how to fix each problem.

Checks, per host and role:

* the server answers and its version;
* each role's model is on each of its hosts (else: ``assist models setup`` or ``ollama pull``);
* the model sets ``num_ctx`` in its Modelfile (else Ollama's small default is used silently);
* the completion model can fill in the middle (a known FIM family for raw prompts, or capability ``insert``);
* the configured budgets fit the window (completion context + answer ≤ num_ctx);
* a timed round trip (loads the model; a cold 70B load takes a minute or more);
* after it, from ``/api/ps``: how much of the model sits in VRAM (``size_vram`` vs ``size``; a partly
  offloaded 70B generates an order of magnitude slower), the context it was loaded with (a larger one
  than the Modelfile's means ``OLLAMA_NUM_PARALLEL`` slots multiply the KV cache, or a client sent its own
  ``num_ctx`` and forced a reload), and whether the two roles' models stay loaded together
  (``OLLAMA_MAX_LOADED_MODELS`` / ``OLLAMA_KEEP_ALIVE``).

Every problem carries the command or setting that fixes it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from assistant.backend import Backend, LoadedModel, ModelInfo, full_model_name, model_hint
from assistant.config import ROLES, Role, Settings
from assistant.errors import AssistError, BackendError, ModelNotFound
from assistant.models import format_bytes

Status = Literal["ok", "info", "problem"]

# The prompt of the timed round trip: tiny, so the time is the load plus the first tokens.
ROUND_TRIP_PROMPT = "Reply with the single word OK."
ROUND_TRIP_TOKENS = 4
# Below this share of the model in VRAM, generation runs partly on the CPU.
FULL_VRAM = 0.999
# Ollama's default KV cache type is f16 (OLLAMA_KV_CACHE_TYPE=q8_0 halves it).
KV_BYTES_PER_VALUE = 2

SERVER_FIX = (
    "start Ollama (cd docker && docker compose -f compose.rocm.yaml up -d) or set OLLAMA_HOST / --host"
)


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    check: str  # "server", "model", "num_ctx", "fim", "budget", "round-trip", "vram", "context", "resident"
    subject: str
    status: Status
    detail: str
    fix: str | None = None


def _pinned(settings: Settings, role: Role, host: str) -> Backend:
    backend = Backend(settings, role)
    backend.hosts = [host]
    backend.host = host
    return backend


def _role_hosts(settings: Settings) -> list[tuple[Role, str]]:
    return [(role, host) for role in ROLES for host in dict.fromkeys(settings.hosts(role))]


async def diagnose(
    settings: Settings, *, round_trip: bool = True, progress: Callable[[str], None] | None = None
) -> list[Check]:
    """Run every check; never raises for a server-side problem (each becomes a ``problem`` line)."""
    say = progress or (lambda _line: None)
    checks: list[Check] = []
    reachable: dict[str, bool] = {}
    for host in dict.fromkeys(h for _, h in _role_hosts(settings)):
        say(f"contacting {host}")
        probe = _pinned(settings, "analysis", host)
        try:
            version = await probe.version(host)
            checks.append(Check("server", host, "ok", f"Ollama {version or '(version unknown)'} answers"))
            reachable[host] = True
        except AssistError as exc:
            checks.append(Check("server", host, "problem", str(exc.message), SERVER_FIX))
            reachable[host] = False
        finally:
            await probe.aclose()

    loaded_after: dict[str, dict[str, LoadedModel]] = {}
    used_on_host: dict[str, list[str]] = {}
    for role, host in _role_hosts(settings):
        if not reachable.get(host):
            continue
        backend = _pinned(settings, role, host)
        subject = f"{role} model {backend.model} @ {host}"
        try:
            role_checks, loaded = await _check_role(settings, backend, role, host, subject, round_trip, say)
            checks.extend(role_checks)
            if loaded is not None:
                loaded_after[host] = loaded
                used_on_host.setdefault(host, []).append(full_model_name(backend.model))
        finally:
            await backend.aclose()

    # Both roles on one server: after both round trips, both must still be loaded.
    for host, models in used_on_host.items():
        if len(set(models)) < 2:
            continue
        final = loaded_after.get(host, {})
        probe = _pinned(settings, "analysis", host)
        try:
            final = {m.name: m for m in await probe.loaded(host)}
        except AssistError:
            pass
        finally:
            await probe.aclose()
        evicted = sorted(set(models) - set(final))
        if evicted:
            checks.append(
                Check(
                    "resident",
                    host,
                    "problem",
                    f"loading one role's model unloaded the other ({', '.join(evicted)} no longer loaded): "
                    "every switch between completion and review reloads a model",
                    "on the server set OLLAMA_MAX_LOADED_MODELS=2 and OLLAMA_KEEP_ALIVE=-1 (see docker/), "
                    "and make sure both models fit in VRAM together",
                )
            )
        else:
            checks.append(Check("resident", host, "ok", "both roles' models stay loaded together"))
    return checks


async def _check_role(
    settings: Settings,
    backend: Backend,
    role: Role,
    host: str,
    subject: str,
    round_trip: bool,
    say: Callable[[str], None],
) -> tuple[list[Check], dict[str, LoadedModel] | None]:
    checks: list[Check] = []
    try:
        info = await backend.info()
    except ModelNotFound:
        roles: dict[str, str] = {r: settings.role(r).model for r in ROLES}
        checks.append(
            Check("model", subject, "problem", "not on this server", model_hint(backend.model, roles))
        )
        return checks, None
    except AssistError as exc:
        checks.append(Check("model", subject, "problem", exc.message, exc.hint))
        return checks, None
    checks.append(Check("model", subject, "ok", f"present ({info.family or 'unknown family'})"))
    checks.extend(_window_checks(settings, info, role, subject))
    checks.append(await _tokenizer_check(backend, subject))

    if not round_trip:
        loaded = {m.name: m for m in await _safe_loaded(backend, host)}
        entry = loaded.get(full_model_name(backend.model))
        if entry is None:
            checks.append(
                Check("vram", subject, "info", "not loaded now; run without --quick to load and time it")
            )
        else:
            checks.extend(_loaded_checks(info, entry, subject))
        return checks, None

    say(f"round trip with {backend.model} on {host} (a cold load can take minutes)")
    started = time.perf_counter()
    try:
        result = await backend.generate(ROUND_TRIP_PROMPT, num_predict=ROUND_TRIP_TOKENS)
    except AssistError as exc:
        checks.append(Check("round-trip", subject, "problem", exc.message, exc.hint))
        return checks, None
    elapsed = time.perf_counter() - started
    checks.append(
        Check(
            "round-trip",
            subject,
            "ok",
            f"answered in {elapsed:.1f} s ({result.prompt_eval_count or 0} prompt tokens, "
            f"{result.eval_count or 0} generated)",
        )
    )
    loaded = {m.name: m for m in await _safe_loaded(backend, host)}
    entry = loaded.get(full_model_name(backend.model))
    if entry is None:
        checks.append(
            Check(
                "resident",
                subject,
                "problem",
                "unloaded right after answering: every request will reload it",
                "on the server set OLLAMA_KEEP_ALIVE=-1 and OLLAMA_MAX_LOADED_MODELS=2 (see docker/)",
            )
        )
    else:
        checks.extend(_loaded_checks(info, entry, subject))
    return checks, loaded


async def _tokenizer_check(backend: Backend, subject: str) -> Check:
    """Exact counts from the model's own vocabulary, or the offline counter's margin (budgets shrink)."""
    from assistant.model_tokenizer import ModelTokenCounter

    try:
        counter = await backend.counter()
    except AssistError as exc:
        return Check("tokens", subject, "info", f"vocabulary not read ({exc.message}); offline counter used")
    if isinstance(counter, ModelTokenCounter):
        return Check(
            "tokens", subject, "ok", f"exact token counts from the model's vocabulary ({counter.name})"
        )
    return Check(
        "tokens",
        subject,
        "info",
        f"no byte-level BPE vocabulary to count with; offline counter {counter.name} (budgets keep a margin)",
    )


async def _safe_loaded(backend: Backend, host: str) -> list[LoadedModel]:
    try:
        return await backend.loaded(host)
    except BackendError:
        return []


def _window_checks(settings: Settings, info: ModelInfo, role: Role, subject: str) -> list[Check]:
    checks: list[Check] = []
    if info.num_ctx_source == "parameters":
        checks.append(Check("num_ctx", subject, "ok", f"num_ctx {info.num_ctx} from its Modelfile"))
    else:
        checks.append(
            Check(
                "num_ctx",
                subject,
                "problem",
                f"its Modelfile sets no num_ctx, so Ollama picks the window ({info.num_ctx} assumed): "
                "prompts may be cut or budgets wasted",
                "add PARAMETER num_ctx to its Modelfile (see modelfiles/) and run `assist models setup`",
            )
        )
    if role == "completion":
        from assistant.fim import family_for

        family = family_for(info.name, info.family)
        if family is not None:
            # Raw prompts with the family's own FIM tokens need no `insert` in the template (Ollama's
            # qwen3-coder template has none and answers 400 to `suffix`).
            checks.append(
                Check("fim", subject, "ok", f"fill-in-the-middle with raw {family.name} FIM prompts")
            )
        elif "insert" in info.capabilities:
            checks.append(Check("fim", subject, "ok", "fill-in-the-middle supported (capability insert)"))
        else:
            caps = ", ".join(info.capabilities) or "none reported"
            checks.append(
                Check(
                    "fim",
                    subject,
                    "problem",
                    f"cannot fill in the middle (capabilities: {caps}); completion falls back to prefix-only",
                    "use a FIM code model (modelfiles/Completion.Modelfile, FROM qwen2.5-coder:14b) and run "
                    "`assist models setup`",
                )
            )
        need = settings.completion.context_tokens + settings.completion.max_tokens
        if need > info.num_ctx:
            checks.append(
                Check(
                    "budget",
                    subject,
                    "problem",
                    f"completion.context_tokens {settings.completion.context_tokens} + max_tokens "
                    f"{settings.completion.max_tokens} exceed num_ctx {info.num_ctx}",
                    "lower completion.context_tokens in .assist.toml or raise num_ctx in the Modelfile",
                )
            )
    kv = kv_cache_bytes(info.model_info, info.num_ctx)
    if kv:
        checks.append(
            Check(
                "kv-cache",
                subject,
                "info",
                f"KV cache of one {info.num_ctx}-token window ≈ {format_bytes(kv)} (f16); every "
                "OLLAMA_NUM_PARALLEL slot adds that much VRAM",
            )
        )
    if role != "completion":
        reserve = info.num_predict if info.num_predict and info.num_predict > 0 else None
        usable = info.num_ctx - (reserve or 0)
        if settings.pack.budget > usable:
            checks.append(
                Check(
                    "budget",
                    subject,
                    "info",
                    f"pack.budget {settings.pack.budget} is more than the window leaves for a prompt "
                    f"(num_ctx {info.num_ctx} − num_predict {reserve or 0}); review packs to what fits",
                )
            )
    return checks


def _loaded_checks(info: ModelInfo, entry: LoadedModel, subject: str) -> list[Check]:
    checks: list[Check] = []
    if entry.size and entry.size_vram / entry.size < FULL_VRAM:
        share = entry.size_vram / entry.size
        vram, total = format_bytes(entry.size_vram), format_bytes(entry.size)
        on_cpu = format_bytes(entry.size - entry.size_vram)
        checks.append(
            Check(
                "vram",
                subject,
                "problem",
                f"only {share * 100:.0f}% in VRAM ({vram} of {total}; {on_cpu} on the CPU): "
                "generation will be many times slower",
                "PARAMETER num_gpu 999 in the Modelfile; free VRAM: fewer models loaded, a smaller num_ctx, "
                "or OLLAMA_NUM_PARALLEL=1 (each parallel slot adds a full KV cache)",
            )
        )
    else:
        checks.append(Check("vram", subject, "ok", f"fully in VRAM ({format_bytes(entry.size_vram)})"))
    loaded_ctx = entry.context_length
    if loaded_ctx and loaded_ctx != info.num_ctx:
        if loaded_ctx > info.num_ctx and loaded_ctx % info.num_ctx == 0:
            slots = loaded_ctx // info.num_ctx
            kv = kv_cache_bytes(info.model_info, info.num_ctx)
            cost = f" (~{format_bytes(kv * (slots - 1))} more than one slot)" if kv else ""
            checks.append(
                Check(
                    "context",
                    subject,
                    "problem",
                    f"loaded with a {loaded_ctx}-token context = {slots} × num_ctx {info.num_ctx}: "
                    f"OLLAMA_NUM_PARALLEL={slots} keeps {slots} KV caches of the full window in VRAM{cost}",
                    "set OLLAMA_NUM_PARALLEL=1 on the server for the 70B model (docker/.env)",
                )
            )
        else:
            checks.append(
                Check(
                    "context",
                    subject,
                    "problem",
                    f"loaded with num_ctx {loaded_ctx} but its Modelfile says {info.num_ctx}: a client "
                    "(or OLLAMA_CONTEXT_LENGTH) set another window, and each switch reloads the model",
                    "let every client use the Modelfile's num_ctx (assist never sends one); unset "
                    "OLLAMA_CONTEXT_LENGTH on the server",
                )
            )
    elif loaded_ctx:
        checks.append(Check("context", subject, "ok", f"loaded with num_ctx {loaded_ctx}"))
    return checks


def kv_cache_bytes(model_info: Mapping[str, Any], num_ctx: int) -> int | None:
    """The f16 KV cache of one ``num_ctx`` window, from the GGUF architecture metadata (None if unknown).

    Per token: keys and values (2) × layers × KV heads × head size × 2 bytes. Ollama allocates one such
    cache per parallel slot (``OLLAMA_NUM_PARALLEL``), which is why slots cost so much at a 32k window.
    """
    arch = model_info.get("general.architecture")
    if not isinstance(arch, str):
        return None

    def number(key: str) -> int | None:
        value = model_info.get(f"{arch}.{key}")
        return int(value) if isinstance(value, (int, float)) and value > 0 else None

    layers, heads = number("block_count"), number("attention.head_count")
    kv_heads = number("attention.head_count_kv") or heads
    head_size = number("attention.key_length")
    if head_size is None and heads and number("embedding_length"):
        head_size = (number("embedding_length") or 0) // heads
    if not (layers and kv_heads and head_size):
        return None
    return 2 * layers * kv_heads * head_size * KV_BYTES_PER_VALUE * num_ctx


def problems(checks: list[Check]) -> list[Check]:
    return [c for c in checks if c.status == "problem"]


def format_report(checks: list[Check]) -> str:
    """Plain text: one line per check, its fix indented below; a summary line last."""
    marks = {"ok": "ok     ", "info": "info   ", "problem": "PROBLEM"}
    lines: list[str] = []
    for c in checks:
        lines.append(f"{marks[c.status]}  {c.check:<10}  {c.subject}: {c.detail}")
        if c.fix:
            lines.append(f"{'':9}  {'':<10}  fix: {c.fix}")
    found = problems(checks)
    lines.append(
        f"{len(found)} problem{'s' if len(found) != 1 else ''} found" if found else "no problems found"
    )
    return "\n".join(lines)
