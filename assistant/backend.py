"""The Ollama backend: one ``Backend`` per model role, over the official ``ollama.AsyncClient``.

What it guarantees, and why:

* **Failover.** A role may list several hosts. A request goes to the host that answered last (first
  configured at start) and, if that host cannot be reached (refused, DNS, connect timeout, a 502/503/504
  from a proxy) or lacks the model, to the next one. Once a stream has started it is never retried on
  another host: the caller has already shown part of the answer.
* **Timeouts that end in an error, never a hang.** A short connect timeout (httpx), a generous
  first-token timeout (a cold 70B load on two MI50s takes a minute or more, and Ollama sends no byte
  until the first token) and an idle timeout between streamed chunks, both enforced around each read of
  the stream so a stalled server raises ``BackendTimeout``.
* **Cancellation closes the stream.** Cancelling the task awaiting ``generate`` exits the client's
  ``httpx`` stream context, which closes the TCP connection; Ollama then stops generating.
* **Budgets that never silently truncate.** Ollama answers an over-long prompt with 200 after keeping
  its first 4 tokens and its end, and then reports ``prompt_eval_count == num_ctx`` (observed on Ollama
  0.24, issue 3). So ``num_ctx``/``num_predict``/``stop`` are read once from ``/api/show`` and budgets
  are ``num_ctx − num_predict − template overhead``; ``num_ctx`` is never sent per request (a different
  value reloads the model); every request carries top-level ``"truncate": false`` (newer servers answer
  400 instead of truncating; the 0.6.3 client has no parameter for it, so the request body is built
  here); and every response's ``prompt_eval_count`` is checked: reaching ``num_ctx`` is a
  ``ContextOverflow``, and a count above our own estimate widens the budget safety factor.
* **Exact token counts** for the served model, from its GGUF vocabulary (``/api/show`` with
  ``verbose``), cached on disk per model digest (``assistant.model_tokenizer``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import ollama
from ollama import ResponseError
from ollama._types import GenerateResponse

from assistant.config import Role, Settings, cache_dir
from assistant.errors import (
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    ConfigError,
    ContextOverflow,
    InputError,
    ModelNotFound,
)
from assistant.tokens import TokenCounter, default_counter

log = logging.getLogger(__name__)

T = TypeVar("T")

# What `ollama serve` uses when neither the Modelfile nor the server environment sets num_ctx
# (Ollama ≥ 0.6 default; OLLAMA_CONTEXT_LENGTH on the server changes it, which /api/ps then shows).
DEFAULT_NUM_CTX = 4096
# Output tokens kept free when neither the caller nor the Modelfile sets num_predict (Ollama's own
# default, -1, means "until the window is full", which leaves nothing to budget with).
DEFAULT_OUTPUT_RESERVE = 1024
# Added to the counted literal text of the prompt template: a BOS token and rounding in the template.
TEMPLATE_SAFETY_TOKENS = 4
# Metadata calls (/api/show, /api/tags, /api/ps, /api/version) answer at once even while a model loads.
METADATA_TIMEOUT_FLOOR = 10.0
# HTTP statuses after which the next host is tried (a proxy in front of a down or busy server).
FAILOVER_STATUSES = frozenset({502, 503, 504})

_GO_ACTION = re.compile(r"{{-?.*?-?}}", re.S)

# Exact counters by model digest, shared by every Backend of the process: the language server opens a
# backend per review, and loading a 150k-token vocabulary from the disk cache takes ~0.5 s.
MAX_PROCESS_COUNTERS = 4
_COUNTERS: dict[str, TokenCounter] = {}
_COUNTERS_LOCK = threading.Lock()


@dataclass(frozen=True)
class ModelInfo:
    """A model as the server serves it (``/api/show`` and ``/api/tags``), read once per backend."""

    name: str
    num_ctx: int
    num_predict: int | None
    stop: tuple[str, ...]
    capabilities: tuple[str, ...]
    template: str
    family: str
    digest: str
    # Where num_ctx came from: "parameters" (Modelfile), "loaded" (/api/ps) or "default".
    num_ctx_source: str = "parameters"
    system: str = ""
    parameters: tuple[tuple[str, str], ...] = ()
    model_info: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Completion:
    """One finished (or quietly stopped) generation."""

    text: str
    done: bool  # False: the stream ended without a ``done: true`` chunk (Ollama's quiet stop)
    done_reason: str | None  # "stop", "length", … as Ollama reports it
    prompt_eval_count: int | None
    eval_count: int | None
    total_duration_ns: int | None
    model: str
    host: str


@dataclass(frozen=True)
class LoadedModel:
    """One entry of ``/api/ps``."""

    name: str
    size: int
    size_vram: int
    context_length: int | None
    expires_at: str | None
    digest: str


class StreamInterrupted(BackendError):
    """The connection broke in the middle of a streamed answer; ``partial`` holds what arrived."""

    def __init__(self, message: str, *, partial: Completion, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.partial = partial


def full_model_name(name: str) -> str:
    """``x`` -> ``x:latest``, as Ollama lists models."""
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def parse_parameters(text: str | None) -> list[tuple[str, str]]:
    """``/api/show`` ``parameters`` (``key   value`` per line, strings JSON-quoted) -> [(key, value)].

    Repeated keys (``stop``) stay repeated, in order. Quoted values are unquoted.
    """
    pairs: list[tuple[str, str]] = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        key, _, value = line.partition(" ")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            try:
                value = json.loads(value)
            except ValueError:
                value = value[1:-1]
        pairs.append((key, value))
    return pairs


def template_literal_text(template: str) -> str:
    """The text a Go prompt template adds around the prompt: every action removed, all branches kept.

    Counting every branch over-estimates the overhead, which is the safe direction for a budget.
    """
    return _GO_ACTION.sub("", template or "")


def model_hint(model: str, role_models: dict[str, str] | None = None) -> str:
    """The command that makes ``model`` available: ours are built from Modelfiles, others are pulled."""
    from assistant.modelfile import shipped_model_names

    if model.split(":")[0] in shipped_model_names(role_models):
        return f"run `assist models setup` to create {model} from the shipped Modelfiles"
    return (
        f"run `ollama pull {model}` on the server, or `assist models setup` if it is built from a Modelfile"
    )


if sys.version_info >= (3, 11):
    _deadline = asyncio.timeout
else:  # pragma: no cover - Python 3.10 only

    @contextlib.asynccontextmanager
    async def _deadline(seconds: float | None) -> AsyncIterator[None]:
        if seconds is None:
            yield
            return
        task = asyncio.current_task()
        assert task is not None
        fired = False

        def fire() -> None:
            nonlocal fired
            fired = True
            task.cancel()

        handle = asyncio.get_running_loop().call_later(seconds, fire)
        try:
            yield
        except asyncio.CancelledError:
            if fired:
                raise TimeoutError from None
            raise
        finally:
            handle.cancel()


def _is_connect_failure(exc: BaseException) -> bool:
    """Errors that mean "this host is not there": try the next one."""
    return isinstance(exc, (ConnectionError, httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))


class Backend:
    """One model role (``completion`` or ``analysis``): its model, hosts, options, budgets and counter."""

    def __init__(self, settings: Settings, role: Role) -> None:
        self.settings = settings
        self.role: Role = role
        role_settings = settings.role(role)
        if not role_settings.model:
            raise ConfigError(f"no model configured for the {role} role", hint=f"set roles.{role}.model")
        self.model: str = role_settings.model
        self.options: dict[str, Any] = dict(role_settings.options)
        if "num_ctx" in self.options:
            raise ConfigError(
                f"roles.{role}.options sets num_ctx: a per-request num_ctx makes Ollama reload the model",
                hint="set PARAMETER num_ctx in the model's Modelfile instead and run `assist models setup`",
            )
        self.hosts: list[str] = settings.hosts(role)
        self.headers: dict[str, str] = dict(settings.ollama.headers)
        self.connect_timeout = settings.ollama.connect_timeout
        self.first_token_timeout = settings.ollama.first_token_timeout
        self.idle_timeout = settings.ollama.idle_timeout
        # The host that answered last; requests start there.
        self.host: str = self.hosts[0]
        self._clients: dict[str, ollama.AsyncClient] = {}
        self._info: ModelInfo | None = None
        self._counter: TokenCounter | None = None
        self._info_lock: asyncio.Lock | None = None
        self._counter_lock: asyncio.Lock | None = None
        # ≥ 1: how much the server's prompt_eval_count exceeded our estimate (widens budgets).
        self.calibration = 1.0
        # Seconds for /api/show, /api/tags, /api/ps, /api/version; None: derived from the other timeouts.
        self.metadata_timeout: float | None = None

    # ------------------------------------------------------------------ clients and failover

    def _client(self, host: str) -> ollama.AsyncClient:
        client = self._clients.get(host)
        if client is None:
            timeout = httpx.Timeout(
                connect=self.connect_timeout, read=None, write=self.connect_timeout, pool=self.connect_timeout
            )
            client = ollama.AsyncClient(host=host, headers=self.headers, timeout=timeout)
            self._clients[host] = client
        return client

    def _role_models(self) -> dict[str, str]:
        return {
            "analysis": self.settings.roles.analysis.model,
            "completion": self.settings.roles.completion.model,
        }

    def _host_order(self) -> list[str]:
        return [self.host, *(h for h in self.hosts if h != self.host)]

    def _metadata_timeout(self) -> float:
        if self.metadata_timeout is not None:
            return self.metadata_timeout
        return max(METADATA_TIMEOUT_FLOOR, self.connect_timeout, self.idle_timeout)

    def _map_response_error(self, exc: ResponseError, host: str, *, model: str | None = None) -> BackendError:
        status = exc.status_code
        message = str(exc.error)
        name = model or self.model
        if status == 404 and "model" in message and "not found" in message:  # "model 'x' not found"
            return ModelNotFound(
                f"model '{name}' not found on {host}", hint=model_hint(name, self._role_models())
            )
        if "exceeds the context length" in message:
            return ContextOverflow(
                f"the prompt is longer than {name}'s context window ({host}: {message})",
                hint="lower the prompt budget or raise num_ctx in the Modelfile",
            )
        if "does not support insert" in message:
            return BackendError(
                f"{name} cannot fill in the middle (no 'insert' capability; {host}: {message})",
                hint="use a code model whose template takes a suffix (e.g. qwen2.5-coder) for completion",
            )
        if status in (401, 403):
            return BackendError(
                f"{host} refused the request (HTTP {status}: {message})",
                hint="check ollama.headers or ASSIST_OLLAMA_TOKEN for the proxy in front of Ollama",
            )
        if status == 404:  # "404 page not found": no Ollama API at this URL (a proxy path, another service)
            return BackendError(
                f"{host} has no Ollama API here (HTTP 404: {message})",
                hint="check the URL in OLLAMA_HOST / --host, including any path a reverse proxy adds",
            )
        if status == -1:
            return BackendError(f"{host} reported an error while answering: {message}")
        return BackendError(f"{host} answered HTTP {status}: {message}")

    async def _call(self, what: str, fn: Callable[[ollama.AsyncClient, str], Awaitable[T]]) -> T:
        """Run a short request on the first host that answers; fail over on connection problems."""
        down: list[str] = []
        timeouts = 0
        missing: ModelNotFound | None = None
        for host in self._host_order():
            try:
                async with _deadline(self._metadata_timeout()):
                    result = await fn(self._client(host), host)
            except TimeoutError:
                down.append(f"{host} (no answer in {self._metadata_timeout():g} s)")
                timeouts += 1
                continue
            except ResponseError as exc:
                if exc.status_code in FAILOVER_STATUSES:
                    down.append(f"{host} (HTTP {exc.status_code})")
                    continue
                err = self._map_response_error(exc, host)
                if isinstance(err, ModelNotFound):
                    missing = missing or err
                    continue
                raise err from exc
            except (httpx.HTTPError, ConnectionError) as exc:
                if _is_connect_failure(exc) or isinstance(exc, httpx.TransportError):
                    down.append(f"{host} ({_describe(exc)})")
                    timeouts += isinstance(exc, httpx.TimeoutException)
                    continue
                raise BackendError(f"{what} on {host} failed: {_describe(exc)}") from exc
            except ValueError as exc:  # JSON or schema: something else answers on that port
                raise _not_ollama(host, exc) from exc
            self.host = host
            return result
        if missing is not None:
            raise missing
        raise self._unavailable(what, down, all_timeouts=bool(down) and timeouts == len(down))

    def _unavailable(self, what: str, down: list[str], *, all_timeouts: bool = False) -> BackendError:
        """Every host failed: a timeout if each one timed out (a hung server), else unavailable."""
        where = "; ".join(down) if down else ", ".join(self.hosts)
        if all_timeouts:
            return BackendTimeout(
                f"no Ollama host answered in time for the {self.role} role ({what}): {where}",
                hint="check that the server is not hung or overloaded (docker logs ollama)",
            )
        return BackendUnavailable(
            f"cannot reach Ollama for the {self.role} role ({what}): {where}",
            hint="start the server (docker compose up -d in docker/) or set OLLAMA_HOST / --host",
        )

    # ------------------------------------------------------------------ model metadata

    async def info(self) -> ModelInfo:
        """The model's window, limits and capabilities, read once from ``/api/show`` (and ``/api/tags``)."""
        if self._info is not None:
            return self._info
        if self._info_lock is None:
            self._info_lock = asyncio.Lock()
        async with self._info_lock:
            if self._info is None:
                self._info = await self._load_info()
        return self._info

    async def _load_info(self) -> ModelInfo:
        async def show(client: ollama.AsyncClient, host: str) -> tuple[Any, Any, Any]:
            shown = await client.show(self.model)
            tags = await client.list()
            ps = await client.ps()
            return shown, tags, ps

        shown, tags, ps = await self._call(f"show {self.model}", show)
        params = parse_parameters(shown.parameters)
        values: dict[str, str] = {}
        for key, value in params:
            values.setdefault(key, value)
        stop = tuple(v for k, v in params if k == "stop")
        wanted = full_model_name(self.model)
        digest = next((m.digest or "" for m in tags.models if m.model == wanted), "")
        loaded_ctx = next(
            (m.context_length for m in ps.models if m.model == wanted and m.context_length), None
        )
        if "num_ctx" in values:
            num_ctx, source = int(float(values["num_ctx"])), "parameters"
        elif loaded_ctx:
            num_ctx, source = int(loaded_ctx), "loaded"
        else:
            num_ctx, source = DEFAULT_NUM_CTX, "default"
            log.warning(
                "%s sets no num_ctx; assuming Ollama's default %d (set PARAMETER num_ctx in its Modelfile)",
                self.model,
                DEFAULT_NUM_CTX,
            )
        num_predict = int(float(values["num_predict"])) if "num_predict" in values else None
        details = shown.details
        return ModelInfo(
            name=self.model,
            num_ctx=num_ctx,
            num_predict=num_predict,
            stop=stop,
            capabilities=tuple(shown.capabilities or ()),
            template=shown.template or "",
            family=(details.family if details and details.family else "") or "",
            digest=digest,
            num_ctx_source=source,
            system=str(getattr(shown, "system", "") or ""),
            parameters=tuple(params),
            model_info=dict(shown.modelinfo or {}),
        )

    async def show_verbose(self) -> dict[str, Any]:
        """Raw ``/api/show`` with ``"verbose": true`` (the 0.6.3 client's ``show()`` cannot ask for it).

        The answer carries the whole vocabulary (several MB for a 150k-token model): it is parsed in a
        worker thread so an editor's event loop keeps serving meanwhile.
        """

        async def fetch(client: ollama.AsyncClient, host: str) -> dict[str, Any]:
            response = await client._client.post("/api/show", json={"model": self.model, "verbose": True})
            if response.status_code >= 400:
                raise ResponseError(response.text, response.status_code)
            return dict(await asyncio.to_thread(json.loads, response.content))

        return await self._call(f"show {self.model} (verbose)", fetch)

    async def counter(self) -> TokenCounter:
        """The model's exact tokenizer when its vocabulary is BPE, else the offline counter with margin.

        Built once per backend (concurrent callers wait for the same build), from the disk cache when the
        model's digest was seen before, in a worker thread (building a 150k-token encoding takes ~1 s).
        A server that cannot send its vocabulary only costs exactness: the offline counter is used.
        """
        if self._counter is not None:
            return self._counter
        if self._counter_lock is None:
            self._counter_lock = asyncio.Lock()
        async with self._counter_lock:
            if self._counter is None:
                self._counter = await self._load_counter()
        return self._counter

    async def _load_counter(self) -> TokenCounter:
        info = await self.info()
        from assistant import model_tokenizer

        folder = cache_dir(self.settings) / "tokenizers"
        counter: TokenCounter | None = None
        if info.digest:
            with _COUNTERS_LOCK:
                counter = _COUNTERS.get(info.digest)
            if counter is not None:
                return counter
            counter = await asyncio.to_thread(model_tokenizer.load_cached, folder, info.digest)
        if counter is None and model_tokenizer.may_be_exact(info.model_info):
            try:
                shown = await self.show_verbose()
            except ModelNotFound:
                raise
            except BackendError as exc:
                log.warning(
                    "cannot read %s's vocabulary (%s); counting with the offline tokenizer", self.model, exc
                )
                shown = {}
            counter = await asyncio.to_thread(
                model_tokenizer.counter_from_model_info,
                shown.get("model_info") or {},
                digest=info.digest,
                cache_folder=folder if info.digest else None,
            )
        if counter is not None and info.digest:
            with _COUNTERS_LOCK:
                while len(_COUNTERS) >= MAX_PROCESS_COUNTERS:
                    _COUNTERS.pop(next(iter(_COUNTERS)))
                _COUNTERS[info.digest] = counter
        return counter or default_counter()

    def template_overhead(self, info: ModelInfo, counter: TokenCounter) -> int:
        """Tokens the server adds around a prompt: the template text, the Modelfile SYSTEM, a BOS."""
        literal = template_literal_text(info.template)
        return counter.count(literal) + counter.count(info.system) + TEMPLATE_SAFETY_TOKENS

    async def prompt_budget(self, num_predict: int | None = None) -> int:
        """Tokens a prompt may use: ``num_ctx − num_predict − template overhead``, scaled by calibration."""
        info = await self.info()
        counter = await self.counter()
        reserve = num_predict if num_predict is not None else info.num_predict
        if reserve is None or reserve < 0:
            reserve = DEFAULT_OUTPUT_RESERVE
        overhead = self.template_overhead(info, counter)
        budget = int((info.num_ctx - reserve - overhead) / self.calibration)
        if budget <= 0:
            raise ContextOverflow(
                f"{self.model}'s window (num_ctx {info.num_ctx}) leaves no room for a prompt after "
                f"{reserve} output tokens and {overhead} template tokens",
                hint="lower num_predict or raise num_ctx in the Modelfile",
            )
        return budget

    # ------------------------------------------------------------------ generation

    async def generate(
        self,
        prompt: str,
        *,
        system: str | None = None,
        raw: bool = False,
        suffix: str | None = None,
        format: dict[str, Any] | str | None = None,
        options: Mapping[str, Any] | None = None,
        num_predict: int | None = None,
        on_text: Callable[[str], None] | None = None,
        expected_prompt_tokens: int | None = None,
    ) -> Completion:
        """Stream one answer; ``on_text`` sees each chunk as it arrives.

        ``expected_prompt_tokens`` is the caller's count of ``prompt`` (+ ``suffix`` and ``system``) with
        ``await counter()``: a prompt that cannot fit is refused before sending, and the server's
        ``prompt_eval_count`` is checked against it afterwards.
        """
        merged: dict[str, Any] = {**self.options, **(options or {})}
        if "num_ctx" in merged:
            raise InputError("num_ctx must not be sent per request: Ollama would reload the model with it")
        if num_predict is not None:
            merged["num_predict"] = num_predict
        info = await self.info()
        overhead = 0
        if expected_prompt_tokens is not None:
            counter = await self.counter()
            overhead = 0 if raw else self.template_overhead(info, counter)
            if expected_prompt_tokens + overhead > info.num_ctx:
                raise ContextOverflow(
                    f"the prompt (~{expected_prompt_tokens + overhead} tokens) does not fit {self.model}'s "
                    f"window of {info.num_ctx} tokens",
                    hint="pack with `await backend.prompt_budget()` as the budget",
                )
        payload: dict[str, Any] = {"model": self.model, "prompt": prompt, "stream": True, "truncate": False}
        if system is not None:
            payload["system"] = system
        if suffix is not None:
            payload["suffix"] = suffix
        if raw:
            payload["raw"] = True
        if format is not None:
            payload["format"] = format
        if merged:
            payload["options"] = merged

        completion = await self._stream(payload, on_text)
        self._check_prompt_count(completion, info, expected_prompt_tokens, overhead)
        return completion

    def _check_prompt_count(
        self, completion: Completion, info: ModelInfo, expected: int | None, overhead: int
    ) -> None:
        count = completion.prompt_eval_count
        if count is None:
            return
        if count >= info.num_ctx:
            raise ContextOverflow(
                f"Ollama truncated the prompt: it evaluated {count} tokens, the whole window of {self.model} "
                f"(num_ctx {info.num_ctx}); the answer would be based on a cut prompt",
                hint="lower the prompt budget (see `assist doctor`) or raise num_ctx in the Modelfile",
            )
        if expected is not None and expected + overhead > 0 and count > expected + overhead:
            ratio = count / (expected + overhead)
            if ratio > self.calibration:
                log.warning(
                    "%s counted %d prompt tokens where %d were expected; widening budgets by %.1f%%",
                    self.model,
                    count,
                    expected + overhead,
                    (ratio - 1) * 100,
                )
                self.calibration = ratio

    async def _stream(self, payload: dict[str, Any], on_text: Callable[[str], None] | None) -> Completion:
        down: list[str] = []
        timeouts = 0
        missing: ModelNotFound | None = None
        for host in self._host_order():
            client = self._client(host)
            try:
                return await self._stream_from(client, host, payload, on_text)
            except _HostDown as exc:
                down.append(f"{host} ({exc})")
                timeouts += isinstance(exc.__cause__, httpx.TimeoutException)
                continue
            except ModelNotFound as exc:
                missing = missing or exc
                continue
        if missing is not None:
            raise missing
        raise self._unavailable("generate", down, all_timeouts=bool(down) and timeouts == len(down))

    async def _stream_from(
        self,
        client: ollama.AsyncClient,
        host: str,
        payload: dict[str, Any],
        on_text: Callable[[str], None] | None,
    ) -> Completion:
        parts: list[str] = []
        final: GenerateResponse | None = None
        started = False

        def partial() -> Completion:
            return Completion("".join(parts), False, None, None, None, None, self.model, host)

        # ollama's streaming request is a lazy async generator: nothing is sent before the first read.
        stream: AsyncIterator[GenerateResponse] = await client._request(
            GenerateResponse, "POST", "/api/generate", json=payload, stream=True
        )
        async with contextlib.aclosing(stream):  # type: ignore[type-var]
            while True:
                timeout = self.idle_timeout if started else self.first_token_timeout
                try:
                    async with _deadline(timeout):
                        chunk = await stream.__anext__()
                except StopAsyncIteration:
                    break
                except TimeoutError as exc:
                    what = "stopped streaming for" if started else "sent nothing for"
                    knob = "ollama.idle_timeout" if started else "--timeout / ASSIST_TIMEOUT"
                    raise BackendTimeout(
                        f"{host} {what} {timeout:g} s while generating with {self.model}",
                        hint=f"the server may be overloaded or the model still loading; raise {knob}",
                    ) from exc
                except ResponseError as exc:
                    if not started and exc.status_code in FAILOVER_STATUSES:
                        raise _HostDown(f"HTTP {exc.status_code}") from exc
                    err = self._map_response_error(exc, host)
                    if started and not isinstance(err, ModelNotFound):
                        raise StreamInterrupted(str(err), partial=partial()) from exc
                    raise err from exc
                except (httpx.HTTPError, ConnectionError) as exc:
                    if not started and _is_connect_failure(exc):
                        raise _HostDown(_describe(exc)) from exc
                    if not started and isinstance(exc, httpx.TransportError):
                        raise _HostDown(_describe(exc)) from exc
                    raise StreamInterrupted(
                        f"the connection to {host} broke while {self.model} was answering ({_describe(exc)})",
                        partial=partial(),
                        hint="retry; if it keeps happening check the server's log for a crashed runner",
                    ) from exc
                except ValueError as exc:  # a line that is not Ollama's NDJSON (a proxy's error page, …)
                    raise _not_ollama(host, exc) from exc
                if not started:
                    started = True
                    self.host = host
                text = chunk.response or ""
                if text:
                    parts.append(text)
                    if on_text is not None:
                        on_text(text)
                if chunk.done:
                    final = chunk
                    break
        if not started:
            self.host = host
        return Completion(
            text="".join(parts),
            done=final is not None,
            done_reason=final.done_reason if final is not None else None,
            prompt_eval_count=final.prompt_eval_count if final is not None else None,
            eval_count=final.eval_count if final is not None else None,
            total_duration_ns=final.total_duration if final is not None else None,
            model=self.model,
            host=host,
        )

    # ------------------------------------------------------------------ server state (doctor, models list)

    async def version(self, host: str | None = None) -> str:
        """The server's version (``/api/version``; the 0.6.3 client has no call for it)."""

        async def fetch(client: ollama.AsyncClient, h: str) -> str:
            response = await client._client.get("/api/version")
            if response.status_code >= 400:
                raise ResponseError(response.text, response.status_code)
            return str(response.json().get("version", ""))

        if host is not None:
            return await self._on_host(host, "version", fetch)
        return await self._call("version", fetch)

    async def loaded(self, host: str | None = None) -> list[LoadedModel]:
        """``/api/ps``: the models in memory, with how much of each sits in VRAM."""

        async def fetch(client: ollama.AsyncClient, h: str) -> list[LoadedModel]:
            ps = await client.ps()
            return [
                LoadedModel(
                    name=m.model or m.name or "",
                    size=int(m.size or 0),
                    size_vram=int(m.size_vram or 0),
                    context_length=m.context_length,
                    expires_at=m.expires_at.isoformat() if m.expires_at else None,
                    digest=m.digest or "",
                )
                for m in ps.models
            ]

        if host is not None:
            return await self._on_host(host, "ps", fetch)
        return await self._call("ps", fetch)

    async def local_models(self, host: str | None = None) -> list[str]:
        """``/api/tags``: names (with tag) of the models the server has, sorted."""

        async def fetch(client: ollama.AsyncClient, h: str) -> list[str]:
            tags = await client.list()
            return sorted(m.model or "" for m in tags.models)

        if host is not None:
            return await self._on_host(host, "tags", fetch)
        return await self._call("tags", fetch)

    async def _on_host(
        self, host: str, what: str, fn: Callable[[ollama.AsyncClient, str], Awaitable[T]]
    ) -> T:
        """One request to one given host, without failover (doctor checks each host)."""
        try:
            async with _deadline(self._metadata_timeout()):
                return await fn(self._client(host), host)
        except TimeoutError as exc:
            raise BackendTimeout(f"{host} did not answer {what} in {self._metadata_timeout():g} s") from exc
        except ResponseError as exc:
            raise self._map_response_error(exc, host) from exc
        except (httpx.HTTPError, ConnectionError) as exc:
            raise BackendUnavailable(
                f"cannot reach Ollama at {host}: {_describe(exc)}",
                hint="start the server (docker compose up -d in docker/) or fix OLLAMA_HOST / --host",
            ) from exc

    def forget(self) -> None:
        """Drop what was read from the server (model info, counter, calibration): the next call reads
        again. For a long-lived process (the language server) after the model was re-created."""
        self._info = None
        self._counter = None
        self.calibration = 1.0

    def client_for(self, host: str | None = None) -> ollama.AsyncClient:
        """The configured client (headers, timeouts) for ``host`` (default: the current one)."""
        return self._client(host or self.host)

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.close()

    async def __aenter__(self) -> Backend:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class _HostDown(Exception):
    """Internal: this host could not be used before anything was streamed; try the next."""


def _not_ollama(host: str, exc: ValueError) -> BackendError:
    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return BackendError(
        f"{host} did not answer like an Ollama server ({type(exc).__name__}: {detail})",
        hint="check that OLLAMA_HOST / --host points at Ollama (port 11434), not another service",
    )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConnectionError) and "Failed to connect to Ollama" in str(exc):
        return "connection refused"
    if isinstance(exc, httpx.ConnectTimeout):
        return "connect timeout"
    if isinstance(exc, httpx.ConnectError):
        text = str(exc) or "connection failed"
        return "connection refused" if "refused" in text.lower() else text
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
