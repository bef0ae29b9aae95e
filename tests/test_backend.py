"""The Ollama backend against the Ollama-compatible test server, through the real ollama client."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from ollama_fake import QWEN_TEMPLATE, OllamaFake, Reply

from assistant.backend import Backend, Completion, StreamInterrupted, parse_parameters, template_literal_text
from assistant.config import Settings, load_settings
from assistant.errors import (
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    ConfigError,
    ContextOverflow,
    InputError,
    ModelNotFound,
)
from assistant.model_tokenizer import ModelTokenCounter
from assistant.tokens import OfflineCounter

CODER = "assist-coder"


def make_settings(tmp_path: Path, hosts: list[str], role: str = "analysis", **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        f"roles.{role}.hosts": hosts,
        "cache_dir": str(tmp_path / "cache"),
        "ollama.connect_timeout": 2.0,
        "ollama.first_token_timeout": 10.0,
        "ollama.idle_timeout": 10.0,
    }
    values.update(overrides)
    return load_settings(None, overrides=values, environ={}, user_config=tmp_path / "no-user-config.toml")


def dead_url() -> str:
    """A loopback URL on which nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def coder(ollama_fake: OllamaFake) -> OllamaFake:
    ollama_fake.add_model(
        CODER,
        num_ctx=2048,
        num_predict=256,
        stop=("<|im_end|>",),
        capabilities=("completion", "tools"),
        template=QWEN_TEMPLATE,
    )
    return ollama_fake


@pytest.fixture
async def backend(coder: OllamaFake, tmp_path: Path):
    b = Backend(make_settings(tmp_path, [coder.url]), "analysis")
    yield b
    await b.aclose()


def generate_bodies(fake: OllamaFake) -> list[dict[str, Any]]:
    return [r.body for r in fake.requests_to("/api/generate")]


# ---------------------------------------------------------------------- metadata and budgets


def test_parse_parameters_keeps_repeated_stop_and_unquotes() -> None:
    text = 'num_ctx                        32768\nstop                           "<|im_end|>"\nstop "a b"\n'
    assert parse_parameters(text) == [("num_ctx", "32768"), ("stop", "<|im_end|>"), ("stop", "a b")]


def test_template_literal_text_removes_every_action() -> None:
    assert template_literal_text("{{- if .System }}S:{{ .System }}\n{{ end }}U:{{ .Prompt }}") == "S:\nU:"


async def test_info_reads_show_once(backend: Backend, coder: OllamaFake) -> None:
    info = await backend.info()
    again = await backend.info()
    assert info is again
    assert info.num_ctx == 2048 and info.num_ctx_source == "parameters"
    assert info.num_predict == 256
    assert info.stop == ("<|im_end|>",)
    assert info.capabilities == ("completion", "tools")
    assert info.family == "qwen2"
    assert info.digest == coder.models[f"{CODER}:latest"].digest
    assert len(coder.requests_to("/api/show")) == 1


async def test_info_without_num_ctx_uses_loaded_context(coder: OllamaFake, tmp_path: Path) -> None:
    model = coder.add_model("plain", num_ctx=None, loaded=True, loaded_num_ctx=8192)
    assert model.loaded
    b = Backend(make_settings(tmp_path, [coder.url], **{"roles.analysis.model": "plain"}), "analysis")
    try:
        info = await b.info()
    finally:
        await b.aclose()
    assert (info.num_ctx, info.num_ctx_source) == (8192, "loaded")


async def test_info_without_num_ctx_falls_back_to_ollama_default(coder: OllamaFake, tmp_path: Path) -> None:
    coder.add_model("plain", num_ctx=None)
    b = Backend(make_settings(tmp_path, [coder.url], **{"roles.analysis.model": "plain"}), "analysis")
    try:
        info = await b.info()
    finally:
        await b.aclose()
    assert (info.num_ctx, info.num_ctx_source) == (4096, "default")


async def test_prompt_budget_subtracts_output_and_template(backend: Backend) -> None:
    info = await backend.info()
    counter = await backend.counter()
    overhead = backend.template_overhead(info, counter)
    assert overhead > 0
    assert await backend.prompt_budget() == 2048 - 256 - overhead
    assert await backend.prompt_budget(num_predict=1000) == 2048 - 1000 - overhead


async def test_prompt_budget_too_small_window_is_context_overflow(backend: Backend) -> None:
    with pytest.raises(ContextOverflow, match="no room"):
        await backend.prompt_budget(num_predict=2048)


def test_num_ctx_in_role_options_is_refused(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, ["http://127.0.0.1:1"], **{"roles.analysis.options": {"num_ctx": 8192}}
    )
    with pytest.raises(ConfigError, match="num_ctx"):
        Backend(settings, "analysis")


async def test_num_ctx_per_request_is_refused(backend: Backend, coder: OllamaFake) -> None:
    with pytest.raises(InputError, match="num_ctx"):
        await backend.generate("hi", options={"num_ctx": 4096})
    assert generate_bodies(coder) == []


# ---------------------------------------------------------------------- generation


async def test_generate_streams_and_reports_counts(backend: Backend, coder: OllamaFake) -> None:
    coder.script(Reply("def add(a, b):\n    return a + b\n"), model=CODER)
    seen: list[str] = []
    result = await backend.generate("write add", system="be brief", on_text=seen.append, num_predict=100)
    assert isinstance(result, Completion)
    assert result.text == "def add(a, b):\n    return a + b\n"
    assert "".join(seen) == result.text and len(seen) > 5
    assert result.done and result.done_reason == "stop"
    assert result.prompt_eval_count and result.prompt_eval_count > 0
    assert result.eval_count == len(seen)
    assert result.total_duration_ns and result.total_duration_ns > 0
    assert result.host == coder.url and result.model == CODER
    body = generate_bodies(coder)[-1]
    assert body["stream"] is True
    assert body["truncate"] is False
    assert body["system"] == "be brief"
    assert body["options"] == {"num_predict": 100}
    assert "num_ctx" not in body.get("options", {})


async def test_role_options_and_headers_are_sent(coder: OllamaFake, tmp_path: Path) -> None:
    coder.token = "s3cret"
    settings = make_settings(
        tmp_path,
        [coder.url],
        **{
            "roles.analysis.options": {"temperature": 0.1},
            "ollama.headers": {"Authorization": "Bearer s3cret"},
        },
    )
    b = Backend(settings, "analysis")
    try:
        result = await b.generate("hello", options={"top_p": 0.5})
    finally:
        await b.aclose()
    assert result.done
    request = coder.requests_to("/api/generate")[-1]
    assert request.headers["authorization"] == "Bearer s3cret"
    assert request.body["options"] == {"temperature": 0.1, "top_p": 0.5}


async def test_missing_token_is_a_clear_error(coder: OllamaFake, tmp_path: Path) -> None:
    coder.token = "s3cret"
    b = Backend(make_settings(tmp_path, [coder.url]), "analysis")
    try:
        with pytest.raises(BackendError, match="refused the request") as info:
            await b.info()
    finally:
        await b.aclose()
    assert "ASSIST_OLLAMA_TOKEN" in str(info.value)


async def test_raw_suffix_and_format_reach_the_server(coder: OllamaFake, tmp_path: Path) -> None:
    coder.add_model(
        "assist-completion", num_ctx=4096, capabilities=("completion", "insert"), template=QWEN_TEMPLATE
    )
    b = Backend(make_settings(tmp_path, [coder.url], role="completion"), "completion")
    try:
        await b.generate("def f(", suffix="\n", num_predict=16)
        await b.generate("<|fim_prefix|>x<|fim_suffix|>y<|fim_middle|>", raw=True)
        schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
        result = await b.generate("json please", format=schema)
    finally:
        await b.aclose()
    bodies = generate_bodies(coder)
    assert bodies[0]["suffix"] == "\n"
    assert bodies[1]["raw"] is True
    assert bodies[2]["format"] == schema
    assert result.text == '{"ok": false}'


async def test_suffix_on_model_without_insert_is_explained(backend: Backend) -> None:
    with pytest.raises(BackendError, match="cannot fill in the middle") as info:
        await backend.generate("def f(", suffix=")")
    assert "does not support insert" in str(info.value)


async def test_done_reason_length(backend: Backend, coder: OllamaFake) -> None:
    coder.script(Reply("one two three four five six"), model=CODER)
    result = await backend.generate("count", num_predict=3)
    assert result.done and result.done_reason == "length"
    assert result.eval_count == 3
    assert result.text == "one two"


async def test_quiet_stop_after_identical_tokens_is_not_done(backend: Backend, coder: OllamaFake) -> None:
    coder.script(Reply("x = [\n" + " " * 40 + "1]"), model=CODER)
    result = await backend.generate("indent")
    assert not result.done
    assert result.done_reason is None and result.prompt_eval_count is None
    assert result.text == "x = [\n" + " " * 30


async def test_model_not_found_names_the_fix(coder: OllamaFake, tmp_path: Path) -> None:
    b = Backend(make_settings(tmp_path, [coder.url], **{"roles.analysis.model": "qwen9:1b"}), "analysis")
    try:
        with pytest.raises(ModelNotFound) as info:
            await b.generate("hi")
    finally:
        await b.aclose()
    assert "ollama pull qwen9:1b" in str(info.value)


async def test_shipped_model_not_found_points_to_models_setup(
    ollama_fake: OllamaFake, tmp_path: Path
) -> None:
    b = Backend(make_settings(tmp_path, [ollama_fake.url]), "analysis")
    try:
        with pytest.raises(ModelNotFound) as info:
            await b.info()
    finally:
        await b.aclose()
    assert "assist models setup" in str(info.value)
    assert "assist-coder" in str(info.value)


async def test_error_line_mid_stream_keeps_partial(backend: Backend, coder: OllamaFake) -> None:
    coder.script(
        Reply("a b c d e f", error_after=3, error="model runner has unexpectedly stopped"), model=CODER
    )
    with pytest.raises(StreamInterrupted, match="unexpectedly stopped") as info:
        await backend.generate("go")
    assert info.value.partial.text == "a b"


async def test_stream_cut_mid_way_is_an_error_with_partial_text(backend: Backend, coder: OllamaFake) -> None:
    coder.script(Reply("alpha beta gamma delta", cut_after=3), model=CODER)
    seen: list[str] = []
    with pytest.raises(StreamInterrupted, match="connection") as info:
        await backend.generate("go", on_text=seen.append)
    assert info.value.partial.text == "alpha beta"
    assert "".join(seen) == "alpha beta"


async def test_server_error_status_is_reported(backend: Backend, coder: OllamaFake) -> None:
    coder.script(
        Reply(status=500, error="model requires more system memory (60 GiB) than is available"), model=CODER
    )
    with pytest.raises(BackendError, match="more system memory"):
        await backend.generate("go")


# ---------------------------------------------------------------------- truncation


async def test_over_long_prompt_is_refused_by_truncate_false(backend: Backend, coder: OllamaFake) -> None:
    with pytest.raises(ContextOverflow, match="context window"):
        await backend.generate("word " * 3000)
    assert generate_bodies(coder)[-1]["truncate"] is False


async def test_silent_truncation_is_detected(backend: Backend, coder: OllamaFake) -> None:
    # A server without the "truncate" field truncates quietly and reports prompt_eval_count == num_ctx.
    coder.supports_truncate = False
    with pytest.raises(ContextOverflow, match="truncated the prompt"):
        await backend.generate("word " * 3000)
    assert len(generate_bodies(coder)) == 1


async def test_expected_count_over_window_is_refused_before_sending(
    backend: Backend, coder: OllamaFake
) -> None:
    with pytest.raises(ContextOverflow, match="does not fit"):
        await backend.generate("short text", expected_prompt_tokens=5000)
    assert generate_bodies(coder) == []


async def test_undercounted_prompt_widens_budgets(backend: Backend, coder: OllamaFake) -> None:
    before = await backend.prompt_budget()
    counter = await backend.counter()
    prompt = "hello there"
    expected = counter.count(prompt)
    info = await backend.info()
    overhead = backend.template_overhead(info, counter)
    coder.script(Reply("ok", prompt_eval_count=2 * (expected + overhead)), model=CODER)
    await backend.generate(prompt, expected_prompt_tokens=expected)
    assert backend.calibration == pytest.approx(2.0)
    assert await backend.prompt_budget() < before


# ---------------------------------------------------------------------- failover


async def test_failover_to_the_next_host_and_remember_it(coder: OllamaFake, tmp_path: Path) -> None:
    down = dead_url()
    b = Backend(make_settings(tmp_path, [down, coder.url]), "analysis")
    try:
        first = await b.generate("one")
        assert first.host == coder.url
        assert b.host == coder.url
        second = await b.generate("two")
        assert second.host == coder.url
    finally:
        await b.aclose()


async def test_failover_when_first_host_lacks_the_model(coder: OllamaFake, tmp_path: Path) -> None:
    with OllamaFake() as empty:
        b = Backend(make_settings(tmp_path, [empty.url, coder.url]), "analysis")
        try:
            result = await b.generate("hello")
        finally:
            await b.aclose()
        assert result.host == coder.url
        assert [r.path for r in empty.requests] == ["/api/show"]


async def test_failover_on_proxy_503(coder: OllamaFake, tmp_path: Path) -> None:
    with OllamaFake() as proxy:
        proxy.add_model(CODER, num_ctx=2048)
        proxy.script(Reply(status=503, error="upstream unavailable"))
        b = Backend(make_settings(tmp_path, [proxy.url, coder.url]), "analysis")
        try:
            await b.info()  # metadata answered by the proxy's server
            result = await b.generate("hello")
        finally:
            await b.aclose()
        assert result.host == coder.url


async def test_every_host_down_is_backend_unavailable(tmp_path: Path) -> None:
    a, b_url = dead_url(), dead_url()
    b = Backend(make_settings(tmp_path, [a, b_url]), "analysis")
    try:
        with pytest.raises(BackendUnavailable) as info:
            await b.generate("hi")
    finally:
        await b.aclose()
    message = str(info.value)
    assert a in message and b_url in message and "OLLAMA_HOST" in message


# ---------------------------------------------------------------------- timeouts and cancellation


async def test_first_token_timeout(backend: Backend, coder: OllamaFake) -> None:
    await backend.info()
    backend.first_token_timeout = 1.0
    coder.script(Reply("late", first_byte_delay=30), model=CODER)
    with pytest.raises(BackendTimeout, match="sent nothing") as info:
        await backend.generate("hello")
    assert "ASSIST_TIMEOUT" in str(info.value)
    assert coder.wait_for_disconnects(1)[0].chunks_sent == 0


async def test_idle_timeout_between_chunks(backend: Backend, coder: OllamaFake) -> None:
    await backend.info()
    backend.idle_timeout = 1.0
    coder.script(Reply("a b c d e f", stall_after=2, stall_seconds=30), model=CODER)
    seen: list[str] = []
    with pytest.raises(BackendTimeout, match="stopped streaming"):
        await backend.generate("hello", on_text=seen.append)
    assert "".join(seen) == "a "
    assert coder.wait_for_disconnects(1)[0].chunks_sent == 2


async def test_cancelling_closes_the_stream(backend: Backend, coder: OllamaFake) -> None:
    coder.script(Reply("tok " * 200, chunk_delay=0.05), model=CODER)
    got_text = asyncio.Event()
    task = asyncio.create_task(backend.generate("long answer", on_text=lambda _t: got_text.set()))
    await asyncio.wait_for(got_text.wait(), timeout=10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    disconnects = coder.wait_for_disconnects(1)
    assert len(disconnects) == 1
    assert disconnects[0].path == "/api/generate"
    assert 0 < disconnects[0].chunks_sent < 400


async def test_backend_usable_after_a_cancelled_request(backend: Backend, coder: OllamaFake) -> None:
    coder.script(Reply("tok " * 100, chunk_delay=0.05), Reply("fine"), model=CODER)
    got_text = asyncio.Event()
    task = asyncio.create_task(backend.generate("first", on_text=lambda _t: got_text.set()))
    await asyncio.wait_for(got_text.wait(), timeout=10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    result = await backend.generate("second")
    assert result.text == "fine"


# ---------------------------------------------------------------------- token counter


async def test_counter_is_offline_without_a_bpe_vocabulary(backend: Backend) -> None:
    assert isinstance(await backend.counter(), OfflineCounter)


async def test_counter_from_gguf_vocabulary_is_cached_per_digest(coder: OllamaFake, tmp_path: Path) -> None:
    from small_bpe import train

    coder.add_model(CODER, num_ctx=2048, template=QWEN_TEMPLATE, tokenizer=train(120))
    settings = make_settings(tmp_path, [coder.url])
    b = Backend(settings, "analysis")
    try:
        counter = await b.counter()
    finally:
        await b.aclose()
    assert isinstance(counter, ModelTokenCounter)
    verbose = [r for r in coder.requests_to("/api/show") if r.body.get("verbose")]
    assert len(verbose) == 1
    assert list((tmp_path / "cache" / "tokenizers").glob("*.json"))

    b2 = Backend(settings, "analysis")
    try:
        counter2 = await b2.counter()
    finally:
        await b2.aclose()
    assert isinstance(counter2, ModelTokenCounter)
    assert counter2.count("def add(a, b):") == counter.count("def add(a, b):")
    verbose = [r for r in coder.requests_to("/api/show") if r.body.get("verbose")]
    assert len(verbose) == 1  # the second backend read the disk cache


async def test_version_ps_and_tags(backend: Backend, coder: OllamaFake) -> None:
    assert await backend.version() == "0.24.0"
    assert await backend.loaded() == []
    await backend.generate("load it")
    loaded = await backend.loaded()
    assert [m.name for m in loaded] == [f"{CODER}:latest"]
    assert loaded[0].size_vram == loaded[0].size and loaded[0].context_length == 2048
    assert await backend.local_models() == [f"{CODER}:latest"]
    assert coder.models[f"{CODER}:latest"].reloads == 0


def hung_server() -> socket.socket:
    """A socket that accepts TCP connections (kernel backlog) but never answers: a hung server."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    return s


async def test_hung_servers_are_a_timeout_not_a_hang(tmp_path: Path) -> None:
    with hung_server() as a, hung_server() as b:
        urls = [f"http://127.0.0.1:{s.getsockname()[1]}" for s in (a, b)]
        backend = Backend(make_settings(tmp_path, urls), "analysis")
        backend.metadata_timeout = 0.5
        try:
            with pytest.raises(BackendTimeout, match="no Ollama host answered in time") as info:
                await backend.info()
        finally:
            await backend.aclose()
    assert all(url in str(info.value) for url in urls)


async def test_hung_and_dead_host_is_unavailable(tmp_path: Path) -> None:
    with hung_server() as a:
        urls = [f"http://127.0.0.1:{a.getsockname()[1]}", dead_url()]
        backend = Backend(make_settings(tmp_path, urls), "analysis")
        backend.metadata_timeout = 0.5
        try:
            with pytest.raises(BackendUnavailable, match="connection refused"):
                await backend.info()
        finally:
            await backend.aclose()


async def test_hung_first_host_fails_over_for_generation(coder: OllamaFake, tmp_path: Path) -> None:
    with hung_server() as a:
        hung = f"http://127.0.0.1:{a.getsockname()[1]}"
        backend = Backend(make_settings(tmp_path, [hung, coder.url]), "analysis")
        backend.metadata_timeout = 0.5
        try:
            result = await backend.generate("hello")
        finally:
            await backend.aclose()
    assert result.host == coder.url


async def test_cancelling_while_the_model_loads_closes_the_request(
    backend: Backend, coder: OllamaFake
) -> None:
    await backend.info()
    coder.script(Reply("late", first_byte_delay=60), model=CODER)
    task = asyncio.create_task(backend.generate("hello"))
    for _ in range(500):  # until the request reached the server (bounded)
        if coder.requests_to("/api/generate"):
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    (gone,) = coder.wait_for_disconnects(1)
    assert gone.chunks_sent == 0 and gone.path == "/api/generate"


class _NotOllama(BaseHTTPRequestHandler):
    """Some other web service on the configured port: answers every request with an HTML page."""

    def _page(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        data = b"<html><body>Welcome to nginx!</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _page

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def not_ollama() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotOllama)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


async def test_another_service_on_the_port_is_a_clear_error(not_ollama: str, tmp_path: Path) -> None:
    backend = Backend(make_settings(tmp_path, [not_ollama]), "analysis")
    try:
        with pytest.raises(BackendError, match="did not answer like an Ollama server") as info:
            await backend.info()
        assert "OLLAMA_HOST" in str(info.value)
    finally:
        await backend.aclose()


async def test_html_instead_of_ndjson_while_generating(
    coder: OllamaFake, not_ollama: str, tmp_path: Path
) -> None:
    backend = Backend(make_settings(tmp_path, [coder.url]), "analysis")
    try:
        await backend.info()  # from the real server, then the port "changes hands"
        backend.hosts = [not_ollama]
        backend.host = not_ollama
        with pytest.raises(BackendError, match="did not answer like an Ollama server"):
            await backend.generate("hello")
    finally:
        await backend.aclose()


async def test_forget_reads_the_model_again(backend: Backend, coder: OllamaFake) -> None:
    assert (await backend.info()).num_ctx == 2048
    coder.add_model(CODER, num_ctx=8192, template=QWEN_TEMPLATE)  # `assist models setup` ran meanwhile
    assert (await backend.info()).num_ctx == 2048  # read once
    backend.forget()
    assert (await backend.info()).num_ctx == 8192


async def test_budget_is_tight_and_safe_with_a_real_vocabulary(
    ollama_fake: OllamaFake, tmp_path: Path
) -> None:
    """Fill the prompt budget exactly with real code, counted with Qwen2's vocabulary read from the server."""
    from real_vocab import qwen2

    info, reference = qwen2()

    def server_count(text: str) -> int:  # what the server evaluates: the rendered template, specials parsed
        return len(reference.encode(text, allowed_special="all"))

    ollama_fake.add_model(
        CODER, num_ctx=1024, num_predict=128, template=QWEN_TEMPLATE, tokenizer=info, counter=server_count
    )
    backend = Backend(make_settings(tmp_path, [ollama_fake.url]), "analysis")
    try:
        counter = await backend.counter()
        assert isinstance(counter, ModelTokenCounter)
        budget = await backend.prompt_budget()
        source = (Path(__file__).resolve().parents[1] / "assistant" / "backend.py").read_text(
            encoding="utf-8"
        )
        prompt = ""
        for char in source:  # grow to exactly the budget (or one short, where a merge jumps two)
            if counter.count(prompt + char) > budget:
                break
            prompt += char
        assert budget - 1 <= counter.count(prompt) <= budget
        result = await backend.generate(prompt, expected_prompt_tokens=counter.count(prompt))
        assert result.done and result.prompt_eval_count is not None
        # Never over the window minus the answer's room, and within a template's worth of it.
        assert result.prompt_eval_count <= 1024 - 128
        assert (1024 - 128) - result.prompt_eval_count < 40

        too_long = prompt + source[len(prompt) : len(prompt) + 1200]
        with pytest.raises(ContextOverflow):  # refused before sending
            await backend.generate(too_long, expected_prompt_tokens=counter.count(too_long))
        with pytest.raises(ContextOverflow):  # refused by the server ("truncate": false)
            await backend.generate(too_long)
    finally:
        await backend.aclose()


async def test_ollama_behind_a_proxy_path_with_a_token(tmp_path: Path) -> None:
    """A team server behind a reverse proxy: https://gpu/ollama with a bearer token (here plain HTTP)."""
    from small_bpe import train

    with OllamaFake(prefix="/ollama", token="t") as proxied:
        proxied.add_model(CODER, num_ctx=2048, template=QWEN_TEMPLATE, tokenizer=train(40))
        assert proxied.url.endswith("/ollama")
        settings = make_settings(tmp_path, [proxied.url], **{"ollama.headers": {"Authorization": "Bearer t"}})
        backend = Backend(settings, "analysis")
        try:
            assert await backend.version() == "0.24.0"
            assert isinstance(await backend.counter(), ModelTokenCounter)  # raw verbose /api/show too
            assert (await backend.generate("hello")).done
        finally:
            await backend.aclose()
        paths = sorted({r.path for r in proxied.requests})
        assert paths == ["/api/generate", "/api/ps", "/api/show", "/api/tags", "/api/version"]


async def test_exact_counter_is_shared_by_backends_of_one_process(coder: OllamaFake, tmp_path: Path) -> None:
    from small_bpe import train

    coder.add_model(CODER, num_ctx=2048, template=QWEN_TEMPLATE, tokenizer=train(70), digest="d1" * 32)
    settings = make_settings(tmp_path, [coder.url])
    async with Backend(settings, "analysis") as first:
        one = await first.counter()
    async with Backend(settings, "analysis") as second:
        two = await second.counter()
    assert isinstance(one, ModelTokenCounter) and two is one
    coder.add_model(CODER, num_ctx=2048, template=QWEN_TEMPLATE, tokenizer=train(90), digest="d2" * 32)
    async with Backend(settings, "analysis") as third:
        assert await third.counter() is not one  # a re-created model has another digest


async def test_wrong_proxy_path_is_not_a_missing_model(tmp_path: Path) -> None:
    with OllamaFake(prefix="/ollama") as proxied:
        proxied.add_model(CODER, num_ctx=2048)
        wrong = proxied.url.removesuffix("/ollama") + "/llm"
        backend = Backend(make_settings(tmp_path, [wrong]), "analysis")
        try:
            with pytest.raises(BackendError, match="has no Ollama API here") as info:
                await backend.info()
        finally:
            await backend.aclose()
    assert not isinstance(info.value, ModelNotFound)
    assert "reverse proxy" in str(info.value)
