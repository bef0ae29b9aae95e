"""Start the real ``assist-lsp`` over stdio with a pytest-lsp client, in an isolated project and environment.

Shared by the language-server end-to-end tests and the completion benchmark: the server is the real
console-script module in a subprocess; the only stand-in is the Ollama-compatible test server.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import make_test_lsp_client

# Bounded waits for things that happen in the server's background; never speed assertions.
WAIT_SECONDS = 30.0

GEOMETRY = '''"""Vectors for the demo app."""


class Vector:
    """A 2-D vector."""

    def __init__(self, x: float, y: float) -> None:
        self.x = x
        self.y = y

    def dot(self, other: "Vector") -> float:
        """The dot product."""
        return self.x * other.x + self.y * other.y


def norm_squared(v: Vector) -> float:
    return v.dot(v)
'''

APP = """from pkg.geometry import Vector, norm_squared


def longest(vectors: list[Vector]) -> Vector:
    best = vectors[0]
    for v in vectors:
        if norm_squared(v) > norm_squared(best):
            best = v
    return best


def total_length(vectors: list[Vector]) -> float:
    total = 0.0
    for v in vectors:
        total +=
    return total
""".replace("total +=\n", "total += \n")  # the cursor goes after "total += " (a trailing space)


def make_project(root: Path, *, git: bool = True) -> Path:
    """A small two-file Python project (``app.py`` uses ``pkg/geometry.py``), optionally a git repo."""
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "geometry.py").write_text(GEOMETRY)
    (root / "app.py").write_text(APP)
    (root / ".gitignore").write_text("build/\n")
    if git:
        subprocess.run(["git", "init", "-q", str(root)], check=True)
        subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    return root


def server_env(tmp: Path, host: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The server's environment: the test's host, no user config, a private cache; nothing else leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSIST_", "OLLAMA_"))}
    env.update(
        {
            "OLLAMA_HOST": host,
            "ASSIST_CONFIG": str(tmp / "no-user-config.toml"),
            "XDG_CACHE_HOME": str(tmp / "cache"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


@dataclass
class Session:
    client: LanguageClient
    root: Path
    statuses: list[dict[str, Any]] = field(default_factory=list)
    initialize_result: types.InitializeResult | None = None
    versions: dict[str, int] = field(default_factory=dict)

    def uri(self, rel: str) -> str:
        return (self.root / rel).as_uri()

    def open(self, rel: str, text: str | None = None, language_id: str = "python") -> str:
        uri = self.uri(rel)
        body = text if text is not None else (self.root / rel).read_text()
        self.versions[uri] = 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=uri, language_id=language_id, version=1, text=body)
            )
        )
        return uri

    def insert(self, uri: str, line: int, character: int, text: str) -> None:
        self.versions[uri] += 1
        pos = types.Position(line, character)
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
                content_changes=[
                    types.TextDocumentContentChangePartial(range=types.Range(pos, pos), text=text)
                ],
            )
        )

    def inline_params(self, uri: str, line: int, character: int, *, invoked: bool = True) -> Any:
        kind = (
            types.InlineCompletionTriggerKind.Invoked
            if invoked
            else types.InlineCompletionTriggerKind.Automatic
        )
        return types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line, character),
            context=types.InlineCompletionContext(trigger_kind=kind),
        )

    async def inline(self, uri: str, line: int, character: int, *, invoked: bool = True) -> Any:
        return await self.client.text_document_inline_completion_async(
            self.inline_params(uri, line, character, invoked=invoked)
        )

    async def wait_indexed(self) -> str:
        """Wait for the server's "indexed" log line: the index is open, warm and watched."""
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            for m in self.client.log_messages:
                if m.message.startswith("assist: indexed"):
                    return m.message
            await asyncio.sleep(0.02)
        raise AssertionError("the server never reported its index")

    async def wait_status(
        self, predicate: Callable[[dict[str, Any]], bool], after: int = 0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            for status in self.statuses[after:]:
                if predicate(status):
                    return status
            await asyncio.sleep(0.02)
        raise AssertionError(f"no matching assist/status; got {self.statuses}")


async def start_session(
    root: Path,
    env: dict[str, str],
    *,
    options: Any = None,
    capabilities: str = "visual-studio-code",
    server_args: tuple[str, ...] = (),
) -> Session:
    client = make_test_lsp_client()
    statuses: list[dict[str, Any]] = []

    @client.feature("assist/status")
    def on_status(params: Any) -> None:
        statuses.append(_plain(params))

    await client.start_io(sys.executable, "-m", "lsp.server", *server_args, env=env, cwd=str(root))
    result = await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(capabilities),
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
            initialization_options=options,
        )
    )
    return Session(client, root, statuses, result)


async def stop_session(session: Session) -> None:
    await session.client.shutdown_session()
    await session.client.stop()


def _plain(value: Any) -> Any:
    """Notification params of unknown methods arrive as attribute objects; make them plain dicts."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if hasattr(value, "__dict__") and not isinstance(value, type):
        return {k: _plain(v) for k, v in vars(value).items()}
    return value
