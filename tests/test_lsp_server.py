"""``assist-lsp`` end to end: the real server over stdio (pytest-lsp client) against the Ollama-compatible
test server. Nothing of ours is mocked; the server runs as a subprocess exactly as editors start it."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from lsp_harness import (
    APP,
    WAIT_SECONDS,
    Session,
    make_project,
    server_env,
    start_session,
    stop_session,
)
from lsprotocol import types
from ollama_fake import OllamaFake, Reply

pytestmark = pytest.mark.timeout(120)

# The cursor in APP: after "total += " inside total_length().
CURSOR = (14, 17)
QWEN_STOPS = [
    "<|endoftext|>",
    "<|fim_prefix|>",
    "<|fim_suffix|>",
    "<|fim_middle|>",
    "<|fim_pad|>",
    "<|file_sep|>",
    "<|repo_name|>",
    "<|im_end|>",
    "<|im_start|>",
]


def split_app(line: int, character: int, text: str = APP) -> tuple[str, str]:
    lines = text.split("\n")
    offset = sum(len(x) + 1 for x in lines[:line]) + character
    return text[:offset], text[offset:]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "proj")


@pytest.fixture
def fake(ollama_fake: OllamaFake) -> OllamaFake:
    ollama_fake.add_model("assist-completion")
    ollama_fake.add_model("assist-coder")
    return ollama_fake


@pytest.fixture
async def session(project: Path, fake: OllamaFake, tmp_path: Path) -> AsyncIterator[Session]:
    s = await start_session(project, server_env(tmp_path, fake.url))
    await s.wait_status(lambda st: st["state"] == "ready")
    await s.wait_indexed()  # completions see the project from here on (before: the buffer alone)
    yield s
    await stop_session(s)


def generate_bodies(fake: OllamaFake) -> list[dict[str, Any]]:
    return [r.body for r in fake.requests_to("/api/generate")]


async def wait_until(predicate: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


# --------------------------------------------------------------------------- start-up and capabilities


async def test_capabilities_and_commands_are_advertised(
    project: Path, fake: OllamaFake, tmp_path: Path
) -> None:
    client_session = await start_session(project, server_env(tmp_path, fake.url))
    try:
        assert client_session.initialize_result is not None
        caps = client_session.initialize_result.capabilities
        assert caps.inline_completion_provider is not None
        assert caps.completion_provider is not None
        assert caps.code_action_provider is not None
        assert caps.execute_command_provider is not None
        assert sorted(caps.execute_command_provider.commands) == sorted(
            ["assist.reviewFile", "assist.reviewWorkspace", "assist.toggleCompletion", "assist.doctor"]
        )
        status = await client_session.wait_status(lambda st: True)
        assert status == {"state": "ready", "model": "assist-completion", "latencyMs": None, "message": None}
        assert client_session.client.messages == []
    finally:
        await stop_session(client_session)


# --------------------------------------------------------------------------- completion


async def test_inline_completion_sends_the_exact_qwen_repo_level_fim_prompt(
    session: Session, fake: OllamaFake
) -> None:
    fake.script("v.dot(v) ** 0.5", model="assist-completion")
    uri = session.open("app.py")
    result = await session.inline(uri, *CURSOR)
    assert result is not None
    (item,) = result.items
    assert item.insert_text == "v.dot(v) ** 0.5"
    assert item.range == types.Range(types.Position(*CURSOR), types.Position(*CURSOR))

    (body,) = generate_bodies(fake)
    assert body["raw"] is True
    assert "suffix" not in body  # qwen3-coder's Ollama template has no insert support: raw FIM only
    assert body["options"]["stop"] == [*QWEN_STOPS, "\n"]  # single-line position: stop at the newline
    assert body["options"]["num_predict"] == 48
    prefix, suffix = split_app(*CURSOR)
    prompt = body["prompt"]
    assert prompt.startswith("<|repo_name|>proj\n<|file_sep|>")
    assert prompt.endswith(f"<|file_sep|>app.py\n<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>")
    # Each special token appears exactly where the layout puts it.
    assert (
        prompt.count("<|fim_prefix|>")
        == prompt.count("<|fim_suffix|>")
        == prompt.count("<|fim_middle|>")
        == 1
    )
    assert prompt.count("<|repo_name|>") == 1


async def test_a_cross_file_definition_is_in_the_prompt(session: Session, fake: OllamaFake) -> None:
    uri = session.open("app.py")
    await session.inline(uri, *CURSOR)
    (body,) = generate_bodies(fake)
    context = body["prompt"].split("<|file_sep|>app.py\n")[0]
    assert "<|file_sep|>pkg/geometry.py\n" in context
    assert 'def dot(self, other: "Vector") -> float:' in context
    assert "class Vector:" in context


async def test_multi_line_position_gets_the_larger_budget_and_no_newline_stop(
    session: Session, fake: OllamaFake
) -> None:
    text = APP.replace("        total += \n", "        total += 1\n") + "\n\ndef area(v: Vector) -> float:"
    lines = text.split("\n")
    fake.script("\n    return v.x * v.y\n\n\ndef other():\n    pass", model="assist-completion")
    uri = session.open("app.py", text)
    result = await session.inline(uri, len(lines) - 1, len(lines[-1]))
    (body,) = generate_bodies(fake)
    assert body["options"]["num_predict"] == 128
    assert "\n" not in body["options"]["stop"]
    assert result.items[0].insert_text == "\n    return v.x * v.y"  # cut where the block ends


async def test_classic_completion_returns_one_item_replacing_the_typed_word(
    session: Session, fake: OllamaFake
) -> None:
    fake.script("_squared(v) ** 0.5", model="assist-completion")
    text = APP.replace("        total += \n", "        total += norm\n")
    uri = session.open("app.py", text)
    result = await session.client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(14, 21),
            context=types.CompletionContext(trigger_kind=types.CompletionTriggerKind.Invoked),
        )
    )
    assert isinstance(result, types.CompletionList)
    (item,) = result.items
    assert item.text_edit is not None
    assert item.text_edit.new_text == "norm_squared(v) ** 0.5"
    assert item.text_edit.range == types.Range(types.Position(14, 17), types.Position(14, 21))
    assert item.filter_text == "norm_squared(v) ** 0.5"
    assert item.label.startswith("norm_squared")


async def test_status_reports_latency_after_each_completion(session: Session, fake: OllamaFake) -> None:
    uri = session.open("app.py")
    seen = len(session.statuses)
    await session.inline(uri, *CURSOR)
    status = await session.wait_status(lambda st: st["latencyMs"] is not None, after=seen)
    assert status["state"] == "ready" and status["model"] == "assist-completion"
    assert isinstance(status["latencyMs"], (int, float)) and status["latencyMs"] > 0


async def test_typing_the_suggestion_is_answered_without_the_model(
    session: Session, fake: OllamaFake
) -> None:
    fake.script("norm_squared(v) ** 0.5", model="assist-completion")
    uri = session.open("app.py")
    first = await session.inline(uri, *CURSOR)
    assert first.items[0].insert_text == "norm_squared(v) ** 0.5"
    session.insert(uri, CURSOR[0], CURSOR[1], "norm_")
    second = await session.inline(uri, CURSOR[0], CURSOR[1] + 5)
    assert second.items[0].insert_text == "squared(v) ** 0.5"
    assert second.items[0].range.start == types.Position(CURSOR[0], CURSOR[1] + 5)
    assert len(generate_bodies(fake)) == 1
    # Typing something else asks the model again.
    session.insert(uri, CURSOR[0], CURSOR[1] + 5, "x")
    await session.inline(uri, CURSOR[0], CURSOR[1] + 6)
    assert len(generate_bodies(fake)) == 2


async def test_the_same_prompt_is_served_from_the_cache(session: Session, fake: OllamaFake) -> None:
    fake.script("1.0", "v.x", model="assist-completion")
    uri = session.open("app.py")
    a = await session.inline(uri, *CURSOR)
    b = await session.inline(uri, 13, 4)  # elsewhere: a different prompt
    again = await session.inline(uri, *CURSOR)
    assert len(generate_bodies(fake)) == 2
    assert a.items[0].insert_text == again.items[0].insert_text == "1.0"
    assert b is None or b.items[0].insert_text != "1.0"


async def test_debounce_sends_only_the_last_of_a_burst(
    project: Path, fake: OllamaFake, tmp_path: Path
) -> None:
    # A long debounce makes "the burst arrives within the debounce window" certain on a loaded machine.
    s = await start_session(
        project, server_env(tmp_path, fake.url), options={"completion": {"debounceMs": 1500}}
    )
    try:
        await s.wait_status(lambda st: st["state"] == "ready")
        fake.script("total + 1", model="assist-completion")
        text = APP.replace("        total += \n", "        total += v\n")
        uri = s.open("app.py", text)
        burst = [asyncio.ensure_future(s.inline(uri, 14, col, invoked=False)) for col in (13, 14, 15, 16, 17)]
        results = await asyncio.gather(*burst)
        assert results[:-1] == [None, None, None, None]
        assert results[-1] is not None
        (body,) = generate_bodies(fake)
        prefix, _ = split_app(14, 17, text)
        assert f"<|fim_prefix|>{prefix}<|fim_suffix|>" in body["prompt"]
    finally:
        await stop_session(s)


async def test_cancel_request_closes_the_ollama_stream(session: Session, fake: OllamaFake) -> None:
    fake.script(Reply("a" * 40, chunks=["x"] * 200, chunk_delay=0.05), model="assist-completion")
    uri = session.open("app.py")
    protocol = session.client.protocol
    future = protocol.send_request(
        types.TEXT_DOCUMENT_INLINE_COMPLETION, session.inline_params(uri, *CURSOR), msg_id="cancel-me"
    )
    await wait_until(lambda: generate_bodies(fake), "the generate request")
    protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="cancel-me"))
    disconnects = await asyncio.to_thread(fake.wait_for_disconnects, 1)
    assert [d.path for d in disconnects] == ["/api/generate"]
    assert disconnects[0].chunks_sent < 200
    with pytest.raises(Exception, match="cancel"):
        await asyncio.wrap_future(future)
    # The server is fine afterwards.
    fake.script("1.0", model="assist-completion")
    later = await session.inline(uri, 13, 4)
    assert later.items[0].insert_text == "1.0"


async def test_a_newer_request_supersedes_a_running_one(session: Session, fake: OllamaFake) -> None:
    fake.script(Reply("slow", chunks=["x"] * 200, chunk_delay=0.05), "fast", model="assist-completion")
    uri = session.open("app.py")
    slow = asyncio.ensure_future(session.inline(uri, *CURSOR))
    await wait_until(lambda: generate_bodies(fake), "the first generate request")
    fast = await session.inline(uri, 13, 4)
    assert fast.items[0].insert_text == "fast"
    assert await slow is None
    disconnects = await asyncio.to_thread(fake.wait_for_disconnects, 1)
    assert disconnects[0].path == "/api/generate"


async def test_toggle_turns_completion_off_and_on(session: Session, fake: OllamaFake) -> None:
    uri = session.open("app.py")
    seen = len(session.statuses)
    off = await session.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="assist.toggleCompletion")
    )
    assert off is False
    await session.wait_status(lambda st: st["state"] == "disabled", after=seen)
    assert await session.inline(uri, *CURSOR) is None
    assert generate_bodies(fake) == []
    on = await session.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="assist.toggleCompletion", arguments=[])
    )
    assert on is True
    assert (await session.inline(uri, *CURSOR)) is not None


async def test_languages_setting_switches_completion_per_language(
    project: Path, fake: OllamaFake, tmp_path: Path
) -> None:
    options = {"assist": {"completion": {"languages": {"markdown": False}}}}
    s = await start_session(project, server_env(tmp_path, fake.url), options=options)
    try:
        (project / "notes.md").write_text("# Notes\n\nSome ")
        md = s.open("notes.md", language_id="markdown")
        assert await s.inline(md, 2, 5) is None
        assert generate_bodies(fake) == []
        py = s.open("app.py")
        assert await s.inline(py, *CURSOR) is not None
    finally:
        await stop_session(s)


async def test_unknown_family_with_insert_uses_ollamas_suffix(
    project: Path, fake: OllamaFake, tmp_path: Path
) -> None:
    fake.add_model("mystery-coder", capabilities=("completion", "insert"), family="mystery")
    s = await start_session(
        project, server_env(tmp_path, fake.url), options={"completion": {"model": "mystery-coder"}}
    )
    try:
        await s.wait_status(lambda st: st["state"] == "ready")
        uri = s.open("app.py")
        await s.inline(uri, *CURSOR)
        (body,) = generate_bodies(fake)
        prefix, suffix = split_app(*CURSOR)
        assert body["model"] == "mystery-coder"
        assert "raw" not in body
        assert body["suffix"] == suffix
        assert body["prompt"].endswith(prefix)
        assert "<|fim_prefix|>" not in body["prompt"]
    finally:
        await stop_session(s)


async def test_unknown_family_without_insert_is_prefix_only(
    project: Path, fake: OllamaFake, tmp_path: Path
) -> None:
    fake.add_model("plain-lm", family="mystery")
    s = await start_session(
        project, server_env(tmp_path, fake.url), options={"completion": {"model": "plain-lm"}}
    )
    try:
        await s.wait_status(lambda st: st["state"] == "ready")
        uri = s.open("app.py")
        await s.inline(uri, *CURSOR)
        (body,) = generate_bodies(fake)
        prefix, _ = split_app(*CURSOR)
        assert body["raw"] is True
        assert "suffix" not in body
        assert body["prompt"].endswith(prefix)
        # Cross-file context travels as comments in the file's own syntax.
        assert "# Path: pkg/geometry.py" in body["prompt"]
    finally:
        await stop_session(s)


async def test_special_token_strings_in_source_do_not_reach_the_model_as_tokens(
    session: Session, fake: OllamaFake
) -> None:
    text = APP.replace("    total = 0.0\n", '    total = 0.0  # "<|fim_middle|>" is just text here\n')
    uri = session.open("app.py", text)
    await session.inline(uri, *CURSOR)
    (body,) = generate_bodies(fake)
    assert body["prompt"].count("<|fim_middle|>") == 1
    assert body["prompt"].endswith("<|fim_middle|>")


async def test_unsaved_edits_of_another_open_file_reach_the_context(
    session: Session, fake: OllamaFake
) -> None:
    geometry = (session.root / "pkg" / "geometry.py").read_text()
    session.open(
        "pkg/geometry.py",
        geometry + "\n\ndef manhattan(v: Vector) -> float:\n    return abs(v.x) + abs(v.y)\n",
    )
    app = APP.replace(
        "from pkg.geometry import Vector, norm_squared", "from pkg.geometry import Vector, manhattan"
    )
    uri = session.open("app.py", app)
    await session.inline(uri, *CURSOR)
    (body,) = generate_bodies(fake)
    assert "def manhattan(v: Vector) -> float:" in body["prompt"]


async def test_files_changed_outside_the_editor_are_picked_up(session: Session, fake: OllamaFake) -> None:
    await session.wait_indexed()  # the watcher runs from then on
    (session.root / "pkg" / "stats.py").write_text("def mean_length(vectors) -> float:\n    return 0.0\n")
    app = APP.replace("from pkg.geometry import Vector, norm_squared", "from pkg.stats import mean_length")
    uri = session.open("app.py", app)
    deadline = time.monotonic() + WAIT_SECONDS
    line = 13
    while time.monotonic() < deadline:
        await session.inline(uri, line, 4)
        if "def mean_length(vectors) -> float:" in generate_bodies(fake)[-1]["prompt"]:
            break
        line = 12 if line == 13 else 13  # a different position each time: no cached answer
        await asyncio.sleep(0.2)
    assert "def mean_length(vectors) -> float:" in generate_bodies(fake)[-1]["prompt"]


# --------------------------------------------------------------------------- errors


async def test_backend_down_gives_one_message_and_the_server_keeps_answering(
    project: Path, tmp_path: Path
) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    s = await start_session(project, server_env(tmp_path, f"http://127.0.0.1:{port}"))
    try:
        status = await s.wait_status(lambda st: st["state"] == "error")
        assert f"127.0.0.1:{port}" in status["message"]
        await wait_until(lambda: s.client.messages, "the start-up message")
        uri = s.open("app.py")
        for _ in range(3):
            assert await s.inline(uri, *CURSOR) is None
        assert len(s.client.messages) == 1
        message = s.client.messages[0]
        assert message.type == types.MessageType.Error
        assert message.message.startswith("assist: ")
        assert "\n" not in message.message
        doctor = await s.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="assist.doctor")
        )
        assert doctor["ok"] is False
        assert "completion model 'assist-completion': FAILED" in doctor["report"]
    finally:
        await stop_session(s)


async def test_missing_model_is_reported_with_the_fix(
    project: Path, ollama_fake: OllamaFake, tmp_path: Path
) -> None:
    ollama_fake.add_model("assist-coder")
    s = await start_session(project, server_env(tmp_path, ollama_fake.url))
    try:
        status = await s.wait_status(lambda st: st["state"] == "error")
        assert "assist-completion" in status["message"]
        await wait_until(lambda: s.client.messages, "the start-up message")
        assert (
            "ollama pull" in s.client.messages[0].message or "assist models" in s.client.messages[0].message
        )
        uri = s.open("app.py")
        assert await s.inline(uri, *CURSOR) is None
        ollama_fake.add_model("assist-completion")  # pulled meanwhile: the next keystroke works
        await s.client.workspace_execute_command_async(types.ExecuteCommandParams(command="assist.doctor"))
    finally:
        await stop_session(s)


async def test_bad_settings_warn_and_defaults_apply(project: Path, fake: OllamaFake, tmp_path: Path) -> None:
    options = {"completion": {"debounceMs": "soon", "maxTokens": 32}, "timeoutSeconds": -1}
    s = await start_session(project, server_env(tmp_path, fake.url), options=options)
    try:
        await s.wait_status(lambda st: st["state"] == "ready")
        warnings = [m.message for m in s.client.messages]
        assert any("assist.completion.debounceMs" in w for w in warnings)
        assert any("assist.timeoutSeconds" in w for w in warnings)
        uri = s.open("app.py")
        text = APP.replace("        total += \n", "        total += 1\n") + "\n\ndef f():"
        uri = s.open("app.py", text)
        await s.inline(uri, len(text.split("\n")) - 1, 8)
        assert generate_bodies(fake)[-1]["options"]["num_predict"] == 32  # the good key still applied
    finally:
        await stop_session(s)


async def test_did_change_configuration_switches_the_model(session: Session, fake: OllamaFake) -> None:
    fake.add_model("qwen2.5-coder:1.5b")
    session.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"assist": {"completion": {"model": "qwen2.5-coder:1.5b"}}}
        )
    )
    seen = len(session.statuses)
    status = await session.wait_status(lambda st: st["model"] == "qwen2.5-coder:1.5b", after=seen)
    assert status["state"] == "ready"
    uri = session.open("app.py")
    await session.inline(uri, *CURSOR)
    assert generate_bodies(fake)[-1]["model"] == "qwen2.5-coder:1.5b"


# --------------------------------------------------------------------------- review → diagnostics


def findings_reply(*findings: dict[str, Any]) -> str:
    return json.dumps({"findings": list(findings)})


async def test_review_file_publishes_diagnostics_and_quick_fixes(session: Session, fake: OllamaFake) -> None:
    fake.script(
        findings_reply(
            {
                "file": "app.py",
                "line": 5,
                "end_line": 5,
                "quote": "    best = vectors[0]",
                "severity": "error",
                "category": "bug",
                "message": "IndexError on an empty list",
                "suggestion": "```python\n    if not vectors:\n        raise ValueError('no vectors')\n    best = vectors[0]\n```",
            },
            {
                "file": "app.py",
                "line": 15,
                "end_line": 15,
                "quote": "        total += ",
                "severity": "warning",
                "category": "bug",
                "message": "incomplete statement",
                "suggestion": "",
            },
        ),
        model="assist-coder",
    )
    uri = session.open("app.py")
    result = await session.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="assist.reviewFile", arguments=[uri])
    )
    assert result["ok"] is True and result["findings"] == 2
    await wait_until(lambda: uri in session.client.diagnostics, "diagnostics")
    diags = session.client.diagnostics[uri]
    assert [(d.range.start.line, d.severity, d.source, d.code) for d in diags] == [
        (4, types.DiagnosticSeverity.Error, "assist", "bug"),
        (14, types.DiagnosticSeverity.Warning, "assist", "bug"),
    ]
    review_request = generate_bodies(fake)[-1]
    assert review_request["model"] == "assist-coder" and review_request["format"]["type"] == "object"

    actions = await session.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(types.Position(4, 0), types.Position(4, 0)),
            context=types.CodeActionContext(diagnostics=[diags[0]]),
        )
    )
    fixes = [
        a for a in actions if isinstance(a, types.CodeAction) and a.kind == types.CodeActionKind.QuickFix
    ]
    assert len(fixes) == 1
    (edit,) = fixes[0].edit.changes[uri]
    assert edit.new_text.startswith("    if not vectors:")
    # The finding without a suggestion has no quick fix.
    none = await session.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(types.Position(14, 0), types.Position(14, 0)),
            context=types.CodeActionContext(diagnostics=[diags[1]]),
        )
    )
    assert not none
    # Progress was reported through window/workDoneProgress.
    kinds = [type(v).__name__ for reports in session.client.progress_reports.values() for v in reports]
    assert kinds[0] == "WorkDoneProgressBegin" and kinds[-1] == "WorkDoneProgressEnd"


async def test_review_of_a_selection_and_the_source_action(session: Session, fake: OllamaFake) -> None:
    uri = session.open("app.py")
    params = types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(types.Position(11, 0), types.Position(15, 0)),
        context=types.CodeActionContext(diagnostics=[]),
    )
    # Read the raw JSON: lsprotocol's client-side hook turns any code action that has a "command" key
    # into a Command (lsprotocol/_hooks.py, _code_action_hook), which loses our CodeAction's fields.
    protocol = session.client.protocol
    future = protocol.send_request(types.TEXT_DOCUMENT_CODE_ACTION, params, msg_id="code-action-raw")
    protocol._result_types["code-action-raw"] = None
    (action,) = await asyncio.wrap_future(future)
    assert action["title"] == "Review with assist"
    assert action["kind"] == "source"
    assert action["command"]["command"] == "assist.reviewFile"
    # The selection ends at the start of line 15: line 15 itself is not selected.
    assert action["command"]["arguments"] == [uri, {"start": 11, "end": 14}]
    fake.script(findings_reply(), model="assist-coder")
    result = await session.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="assist.reviewFile", arguments=action["command"]["arguments"])
    )
    assert result["ok"] is True and result["findings"] == 0
    prompt = generate_bodies(fake)[-1]["prompt"]
    assert re.search(r"^\s*13\s*\+", prompt, re.M)  # the selected lines are marked as the ones to review
    await wait_until(lambda: uri in session.client.diagnostics, "cleared diagnostics")
    assert list(session.client.diagnostics[uri]) == []


async def test_review_workspace_and_backend_error(session: Session, fake: OllamaFake) -> None:
    fake.script(Reply(status=500, error="runner crashed"), model="assist-coder")
    result = await session.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="assist.reviewWorkspace")
    )
    assert result["ok"] is False
    assert "runner crashed" in result["message"]
    fake.script(findings_reply(), model="assist-coder")
    result = await session.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="assist.reviewWorkspace")
    )
    assert result["ok"] is True and result["files"] >= 2


async def test_doctor_reports_both_models(session: Session) -> None:
    result = await session.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="assist.doctor")
    )
    assert result["ok"] is True
    assert "completion model 'assist-completion': ok" in result["report"]
    assert "analysis model 'assist-coder': ok" in result["report"]
    # assistant.doctor's full report follows, with a timed round trip per role. Raw FIM prompts for a
    # known family need no `insert` capability in the model's template.
    assert result["report"].count("round-trip") == 2
    assert "fill-in-the-middle with raw qwen FIM prompts" in result["report"]


async def test_review_can_be_cancelled_from_its_progress(session: Session, fake: OllamaFake) -> None:
    fake.script(Reply("{}", chunks=[" "] * 400, chunk_delay=0.05), model="assist-coder")
    uri = session.open("app.py")
    seen = len(session.statuses)
    pending = asyncio.ensure_future(
        session.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="assist.reviewFile", arguments=[uri])
        )
    )
    await wait_until(
        lambda: any(b["model"] == "assist-coder" for b in generate_bodies(fake)), "the review request"
    )
    await wait_until(lambda: session.client.progress_reports, "the progress token")
    (token,) = session.client.progress_reports
    busy = await session.wait_status(lambda st: st["state"] == "busy", after=seen)
    assert busy["message"] == "reviewing…"
    session.client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    result = await pending
    assert result == {"ok": False, "findings": 0, "message": "review cancelled"}
    disconnects = await asyncio.to_thread(fake.wait_for_disconnects, 1)
    assert disconnects[0].model and disconnects[0].model.startswith("assist-coder")
    end = session.client.progress_reports[token][-1]
    assert isinstance(end, types.WorkDoneProgressEnd) and end.message == "cancelled"
    await session.wait_status(lambda st: st["state"] == "ready", after=seen + 1)


async def test_a_slow_backend_times_out_with_one_readable_message(
    project: Path, fake: OllamaFake, tmp_path: Path
) -> None:
    s = await start_session(project, server_env(tmp_path, fake.url), options={"timeoutSeconds": 1})
    try:
        await s.wait_status(lambda st: st["state"] == "ready")
        fake.script(Reply("late", first_byte_delay=5), model="assist-completion")
        uri = s.open("app.py")
        assert await s.inline(uri, *CURSOR) is None
        status = await s.wait_status(lambda st: st["state"] == "error")
        assert "sent nothing for 1 s" in status["message"]
        assert [m.type for m in s.client.messages] == [types.MessageType.Error]
        assert "\n" not in s.client.messages[0].message
        fake.script("1.0", model="assist-completion")  # the server recovers on the next request
        again = await s.inline(uri, 13, 4)
        assert again.items[0].insert_text == "1.0"
        await s.wait_status(lambda st: st["state"] == "ready" and st["latencyMs"] is not None)
    finally:
        await stop_session(s)


def _frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


async def _read_message(reader: asyncio.StreamReader) -> dict[str, Any]:
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return json.loads(await reader.readexactly(length))


async def test_tcp_mode_serves_the_same_protocol(project: Path, fake: OllamaFake, tmp_path: Path) -> None:
    import socket
    import sys

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "lsp.server", "--tcp", f"127.0.0.1:{port}", env=server_env(tmp_path, fake.url)
    )
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)
        init = {"processId": None, "rootUri": project.as_uri(), "capabilities": {}}
        writer.write(_frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init}))
        await writer.drain()
        while (message := await _read_message(reader)).get("id") != 1:
            pass
        caps = message["result"]["capabilities"]
        assert "inlineCompletionProvider" in caps
        assert message["result"]["serverInfo"]["name"] == "assist-lsp"
        writer.write(_frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}))
        await writer.drain()
        while (await _read_message(reader)).get("id") != 2:
            pass
        writer.write(_frame({"jsonrpc": "2.0", "method": "exit"}))
        await writer.drain()
        writer.close()
        assert await asyncio.wait_for(proc.wait(), WAIT_SECONDS) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_inline_and_classic_requests_do_not_supersede_each_other(
    session: Session, fake: OllamaFake
) -> None:
    fake.script(
        Reply("1.0", first_byte_delay=0.3), Reply("1.0", first_byte_delay=0.3), model="assist-completion"
    )
    uri = session.open("app.py")
    classic = session.client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(*CURSOR),
            context=types.CompletionContext(trigger_kind=types.CompletionTriggerKind.Invoked),
        )
    )
    inline, items = await asyncio.gather(session.inline(uri, *CURSOR), classic)
    assert inline.items[0].insert_text == "1.0"
    assert [i.text_edit.new_text for i in items.items] == ["1.0"]


async def test_closing_a_document_drops_its_unsaved_text_from_the_context(
    session: Session, fake: OllamaFake
) -> None:
    geometry = (session.root / "pkg" / "geometry.py").read_text()
    extra = "\n\ndef manhattan(v: Vector) -> float:\n    return abs(v.x) + abs(v.y)\n"
    geo_uri = session.open("pkg/geometry.py", geometry + extra)
    app = APP.replace(
        "from pkg.geometry import Vector, norm_squared", "from pkg.geometry import Vector, manhattan"
    )
    uri = session.open("app.py", app)
    await session.inline(uri, *CURSOR)
    assert "def manhattan(v: Vector) -> float:" in generate_bodies(fake)[-1]["prompt"]
    session.client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=geo_uri))
    )
    deadline = time.monotonic() + WAIT_SECONDS
    line = 13
    while time.monotonic() < deadline:  # the close is applied in the background
        await session.inline(uri, line, 4)
        if "def manhattan" not in generate_bodies(fake)[-1]["prompt"]:
            break
        line = 12 if line == 13 else 13
        await asyncio.sleep(0.1)
    assert "def manhattan" not in generate_bodies(fake)[-1]["prompt"]
    assert "def norm_squared(v: Vector) -> float:" in generate_bodies(fake)[-1]["prompt"]


async def test_review_of_a_file_outside_the_project_or_without_arguments(
    session: Session, fake: OllamaFake
) -> None:
    outside = await session.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="assist.reviewFile", arguments=["file:///nowhere/else/x.py"])
    )
    assert outside["ok"] is False and outside["message"]
    missing = await session.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="assist.reviewFile", arguments=[])
    )
    assert missing == {"ok": False, "findings": 0, "message": "missing document URI"}
    assert [b for b in generate_bodies(fake) if b["model"] == "assist-coder"] == []  # nothing was sent
    uri = session.open("app.py")
    assert (await session.inline(uri, *CURSOR)) is not None  # and the server is fine
