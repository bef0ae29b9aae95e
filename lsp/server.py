"""``assist-lsp``: pygls wiring. Handlers translate LSP to core calls and back, nothing more.

Start-up never blocks ``initialize``: the project index is opened in a worker thread and the health
check (is Ollama there, are the models there) runs as a background task once the client says
``initialized``. Problems are reported once through ``window/showMessage`` and the ``assist/status``
notification, and the server keeps answering — with empty results — until they are fixed.

The ``assist/status`` notification (server → client) is the status-bar contract with the editors::

    {"state": "ready"|"busy"|"error"|"disabled", "model": str, "latencyMs": number|null, "message": str|null}

sent after the start-up check, after each completion (latency from request in to response out, model
time included), on errors and on ``assist.toggleCompletion``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import multiprocessing
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path
from pygls.workspace import TextDocument

from assistant import __version__
from assistant.errors import AssistError
from lsp.completion import CompletionEngine, CompletionRequest, Suggestion
from lsp.diagnostics import Published, quick_fixes
from lsp.options import EditorOptions, effective_settings, language_enabled, parse_options
from lsp.review import line_range, run_review

if TYPE_CHECKING:
    from assistant.config import Settings
    from assistant.index import ProjectIndex
    from lsp.watcher import IndexWatcher

log = logging.getLogger("assist-lsp")

STATUS = "assist/status"
CMD_REVIEW_FILE = "assist.reviewFile"
CMD_REVIEW_WORKSPACE = "assist.reviewWorkspace"
CMD_TOGGLE = "assist.toggleCompletion"
CMD_DOCTOR = "assist.doctor"
COMMANDS = (CMD_REVIEW_FILE, CMD_REVIEW_WORKSPACE, CMD_TOGGLE, CMD_DOCTOR)
# A document's own edits reach the index once typing in it pauses this long (see push_text).
OVERLAY_IDLE_SECONDS = 1.0
# How long a completion waits for the index at start-up before answering from the buffer alone.
INDEX_WAIT_SECONDS = 0.3
IDENT_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$")


class AssistServer(LanguageServer):
    """Server state; the handlers are registered on an instance by ``create_server``."""

    def __init__(self) -> None:
        super().__init__(
            "assist-lsp", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental
        )
        self.root: Path | None = None
        self.options = EditorOptions()
        self.settings: Settings | None = None
        self.engine: CompletionEngine | None = None
        self.index: ProjectIndex | None = None
        self.index_error: str | None = None
        self.index_ready: asyncio.Event | None = None
        self.watcher: IndexWatcher | None = None
        self.enabled = True
        self.published: dict[str, list[Published]] = {}
        self._pending_text: dict[str, str] = {}
        self._overlay_timer: asyncio.TimerHandle | None = None
        self._waited_for_index = False
        self._shown_error: str | None = None
        self._tasks: set[asyncio.Future[Any]] = set()
        self.status_state: dict[str, Any] = {}

    # ------------------------------------------------------------------ small helpers

    def spawn(self, coro: Any) -> asyncio.Future[Any]:
        """A background task that is kept referenced until done (and cancelled on shutdown)."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def status(self, state: str, *, latency_ms: float | None = None, message: str | None = None) -> None:
        model = self.settings.role("completion").model if self.settings else ""
        params = {
            "state": state,
            "model": model,
            "latencyMs": None if latency_ms is None else round(latency_ms, 2),
            "message": message,
        }
        self.status_state = params
        self.protocol.notify(STATUS, params)

    def show(self, message: str, kind: types.MessageType = types.MessageType.Warning) -> None:
        self.window_show_message(types.ShowMessageParams(type=kind, message=f"assist: {message}"))

    def report_error(self, exc: AssistError) -> None:
        """One readable message per distinct problem (not one per keystroke), and an error status."""
        text = str(exc)
        log.warning("%s", text)
        self.status("error", message=text)
        if text != self._shown_error:
            self._shown_error = text
            self.show(text, types.MessageType.Error)

    def rel_path(self, uri: str) -> str | None:
        path = to_fs_path(uri)
        if path is None:
            return None
        if self.index is not None:
            rel = self.index.resolve(path)
            if rel is not None:
                return rel
        if self.root is not None:
            try:
                return Path(path).resolve().relative_to(self.root).as_posix()
            except (ValueError, OSError):
                pass
        return Path(path).name

    def completion_enabled_for(self, doc: TextDocument) -> bool:
        if not self.enabled or self.settings is None or not self.settings.completion.enabled:
            return False
        return language_enabled(self.settings, doc.language_id)

    def push_text(self, uri: str, text: str) -> None:
        """Remember the editor's text; it reaches the index lazily.

        Re-indexing a file means re-parsing it (tens of ms for a 3,000-line file) and invalidates the
        index's derived tables, so it must not happen on every keystroke of the file being typed in: its
        text reaches the prompt directly (the cursor window comes from the buffer), and its facts —
        which only choose the cross-file context — follow once typing pauses (``OVERLAY_IDLE_SECONDS``).
        That also keeps the context, the start of every prompt, stable while typing (KV-cache reuse).
        """
        rel = self.rel_path(uri)
        if rel is None:
            return
        self._pending_text[rel] = text
        if self._overlay_timer is not None:
            self._overlay_timer.cancel()
        loop = asyncio.get_running_loop()
        self._overlay_timer = loop.call_later(
            OVERLAY_IDLE_SECONDS, lambda: self.spawn(self.flush_texts_async())
        )

    def _take_pending(self, keep: str | None = None) -> dict[str, str]:
        taken = {rel: text for rel, text in self._pending_text.items() if rel != keep}
        for rel in taken:
            del self._pending_text[rel]
        return taken

    def _apply_texts(self, texts: dict[str, str]) -> None:
        index = self.index
        if index is None:
            return
        for rel, text in sorted(texts.items()):
            index.update_text(rel, text)

    async def flush_texts_async(self) -> None:
        """Apply every pending editor text in a worker thread (the index is thread-safe), then warm."""
        if self.index is not None and self._pending_text:
            await asyncio.to_thread(self._apply_texts, self._take_pending())
        await self.prewarm()

    # ------------------------------------------------------------------ configuration and start-up

    def configure(self, payload: Any) -> None:
        options, warnings = parse_options(payload)
        settings, more = effective_settings(self.root, options)
        self.options = options
        self.settings = settings
        for warning in warnings + more:
            log.warning("%s", warning)
            self.show(warning)

    async def start_background(self) -> None:
        """Open the index (worker thread), start the watcher, then check the backend."""
        self.index_ready = asyncio.Event()
        self.spawn(self._open_index())
        self.spawn(self.health_check(startup=True))

    async def _open_index(self) -> None:
        """Open (or load from the disk cache) the index, apply the editor's texts, warm it, then watch."""
        assert self.index_ready is not None
        root, settings = self.root, self.settings
        if root is None or settings is None:
            self.index_ready.set()
            return
        started = time.perf_counter()
        try:
            from assistant.index import ProjectIndex

            self.index = await asyncio.to_thread(ProjectIndex.open, root, settings)
            await self.flush_texts_async()  # documents opened while the index was loading; warms it
        except AssistError as exc:
            self.index_error = str(exc)
            self.show(f"cannot index {root}: {exc}")
        finally:
            self.index_ready.set()
        if self.index is not None:
            await asyncio.to_thread(self._start_watcher)
            # Sent once the index is warm and watched (tests and benchmarks wait for this line).
            seconds = time.perf_counter() - started
            message = f"assist: indexed {len(self.index.files())} files of {root} in {seconds:.1f} s"
            log.info("%s", message)
            self.window_log_message(types.LogMessageParams(type=types.MessageType.Info, message=message))

    async def prewarm(self) -> None:
        """Let completions see the index's latest snapshot once its derived tables are built."""
        if self.engine is not None and self.index is not None:
            await asyncio.to_thread(self.engine.prewarm)

    def _files_changed(self, paths: list[Path] | None) -> None:
        """Watcher thread: refresh the index for changes made outside the editor, then warm it."""
        if self.index is None:
            return
        self.index.refresh(paths)
        if self.engine is not None:
            self.engine.prewarm()

    def _start_watcher(self) -> None:
        from lsp.watcher import IgnoreFilter, IndexWatcher

        index = self.index
        if index is None or self.root is None:
            return
        ignore = IgnoreFilter(index.root)
        watcher = IndexWatcher(index.root, flush=self._files_changed, accept=ignore.accepts)
        try:
            watcher.start()
        except OSError as exc:  # e.g. inotify watch limit reached: completion still works, just staler
            log.warning("file watcher not started: %s", exc)
            self.show(f"not watching files for changes ({exc}); edits outside the editor are seen on reopen")
            return
        self.watcher = watcher

    async def wait_for_index(self, timeout: float | None = INDEX_WAIT_SECONDS) -> ProjectIndex | None:
        """The index once opened; waits at most ``timeout`` seconds (``None``: until it is done).

        A completion waits only once: if the index is not there after the first short wait, later
        requests do not wait again (they complete from the buffer until it is).
        """
        if self.index_ready is not None and not self.index_ready.is_set():
            if timeout is not None and self._waited_for_index:
                return None
            if timeout is not None:
                self._waited_for_index = True
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.index_ready.wait()), timeout)
        return self.index if self.index_ready is None or self.index_ready.is_set() else None

    async def health_check(self, *, startup: bool = False, round_trip: bool = False) -> tuple[bool, str]:
        """Doctor-style check of the server and both models; never raises an AssistError."""
        from lsp.health import check

        assert self.settings is not None
        engine = self.engine

        async def warm() -> None:
            # Model info, tokenizer and budgets for the first keystroke, while the doctor checks run.
            if engine is not None:
                with contextlib.suppress(AssistError):
                    await engine.warm()

        warming = asyncio.ensure_future(warm())
        try:
            health = await check(
                self.settings, engine.backend_or_none() if engine is not None else None, round_trip=round_trip
            )
        finally:
            await asyncio.wait({warming})
        problems = list(health.problems)
        if not self.enabled or not self.settings.completion.enabled:
            self.status("disabled", message="completion is turned off")
        elif health.completion_ok:
            self._shown_error = None
            self.status("ready", message=problems[0] if problems else None)
        else:
            self.status("error", message=problems[0])
        if startup and problems:
            # A completion failing for the same reason later must not show the message again.
            self._shown_error = None if health.completion_ok else health.completion_detail
            self.show("; ".join(problems), types.MessageType.Error)
        return health.ok, health.report

    async def shutdown_background(self) -> None:
        if self._overlay_timer is not None:
            self._overlay_timer.cancel()
        if self.watcher is not None:
            await asyncio.to_thread(self.watcher.stop)
            self.watcher = None
        for task in list(self._tasks):
            task.cancel()
        if self.engine is not None:
            with contextlib.suppress(AssistError):
                await self.engine.aclose()

    # ------------------------------------------------------------------ completion

    def completion_request(
        self, uri: str, position: types.Position
    ) -> tuple[TextDocument, CompletionRequest]:
        doc = self.workspace.get_text_document(uri)
        text = doc.source
        lines = doc.lines
        pos = doc.position_codec.position_from_client_units(lines, position)
        offset = min(pos.character + sum(len(line) for line in lines[: pos.line]), len(text))
        rel = self.rel_path(uri) or Path(doc.path).name
        req = CompletionRequest(
            uri=uri,
            rel=rel,
            text=text,
            offset=offset,
            line=pos.line,
            column=pos.character,
            language_id=doc.language_id,
        )
        return doc, req

    async def suggest(
        self, req: CompletionRequest, *, debounce: bool, started: float, kind: str
    ) -> Suggestion | None:
        """Run one completion and report the status; backend problems become an error status and one
        message, never an exception (the next keystroke simply tries again)."""
        assert self.engine is not None
        await self.wait_for_index()
        others = self._take_pending(keep=req.rel) if self.index is not None else {}
        if others:  # other documents were edited (rare while typing here): their text counts now
            await asyncio.to_thread(self._apply_texts, others)
            await self.prewarm()
        try:
            suggestion = await self.engine.complete(req, debounce=debounce, channel=kind)
        except AssistError as exc:
            self.report_error(exc)
            return None
        self._shown_error = None
        self.status("ready", latency_ms=(time.perf_counter() - started) * 1000)
        return suggestion


def _word_start(text: str, offset: int) -> int:
    start = offset
    while start > 0 and text[start - 1] in IDENT_CHARS:
        start -= 1
    return start


def snippet_escape(text: str) -> str:
    """Plain text as an LSP snippet that expands to exactly that text."""
    return text.replace("\\", "\\\\").replace("$", "\\$").replace("}", "\\}")


def completion_item(
    word: str, text: str, edit_range: types.Range, model: str, snippets: bool
) -> types.CompletionItem:
    """The one classic completion item: it replaces the word being typed (``word``) so that clients which
    filter by that word keep it. Multi-line text needs snippet format where supported: Neovim's
    ``vim.lsp.completion`` only inserts the first word of a plain-text edit, but expands a snippet whole."""
    full = word + text
    first_line = text.split("\n", 1)[0].strip()
    label = (word + first_line) if first_line else text.strip().split("\n", 1)[0]
    return types.CompletionItem(
        label=label[:80] or "assist",
        kind=types.CompletionItemKind.Snippet if "\n" in text else types.CompletionItemKind.Text,
        detail=f"assist ({model})",
        documentation=types.MarkupContent(kind=types.MarkupKind.PlainText, value=full),
        filter_text=full,
        text_edit=types.TextEdit(range=edit_range, new_text=snippet_escape(full) if snippets else full),
        insert_text_format=types.InsertTextFormat.Snippet if snippets else types.InsertTextFormat.PlainText,
        sort_text="0",
        preselect=True,
    )


def _snippets(ls: AssistServer) -> bool:
    doc = ls.client_capabilities.text_document
    item = doc.completion.completion_item if doc and doc.completion else None
    return bool(item and item.snippet_support)


def create_server() -> AssistServer:
    ls = AssistServer()

    @ls.feature(types.INITIALIZE)
    def on_initialize(params: types.InitializeParams) -> None:
        root_path = ls.workspace.root_path
        if not root_path and params.workspace_folders:
            root_path = to_fs_path(params.workspace_folders[0].uri)
        ls.root = Path(root_path).resolve() if root_path else None
        ls.configure(params.initialization_options)
        assert ls.settings is not None
        ls.engine = CompletionEngine(ls.settings, ls.root or Path.cwd(), lambda: ls.index)

    @ls.feature(types.INITIALIZED)
    async def on_initialized(params: types.InitializedParams) -> None:
        await ls.start_background()

    @ls.feature(types.SHUTDOWN)
    async def on_shutdown(params: None) -> None:
        await ls.shutdown_background()

    @ls.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def on_configuration(params: types.DidChangeConfigurationParams) -> None:
        if params.settings is None:
            return
        ls.configure(params.settings)
        assert ls.settings is not None and ls.engine is not None
        await ls.engine.reconfigure(ls.settings)
        ls.spawn(ls.health_check())

    @ls.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def on_open(params: types.DidOpenTextDocumentParams) -> None:
        ls.push_text(params.text_document.uri, params.text_document.text)

    @ls.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def on_change(params: types.DidChangeTextDocumentParams) -> None:
        doc = ls.workspace.get_text_document(params.text_document.uri)
        ls.push_text(doc.uri, doc.source)

    @ls.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    async def on_close(params: types.DidCloseTextDocumentParams) -> None:
        rel = ls.rel_path(params.text_document.uri)
        if rel is None:
            return
        ls._pending_text.pop(rel, None)
        if ls.index is not None:
            await asyncio.to_thread(ls.index.clear_text, rel)
            await ls.prewarm()

    @ls.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(params: types.InlineCompletionParams) -> types.InlineCompletionList | None:
        started = time.perf_counter()
        doc, req = ls.completion_request(params.text_document.uri, params.position)
        if not ls.completion_enabled_for(doc):
            return None
        invoked = params.context.trigger_kind == types.InlineCompletionTriggerKind.Invoked
        suggestion = await ls.suggest(req, debounce=not invoked, started=started, kind="inline")
        if suggestion is None or not suggestion.text:
            return None
        here = types.Range(params.position, params.position)
        return types.InlineCompletionList(
            items=[types.InlineCompletionItem(insert_text=suggestion.text, range=here)]
        )

    @ls.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[".", "("]))
    async def completion(params: types.CompletionParams) -> types.CompletionList | None:
        started = time.perf_counter()
        doc, req = ls.completion_request(params.text_document.uri, params.position)
        if not ls.completion_enabled_for(doc):
            return None
        invoked = params.context is None or params.context.trigger_kind == types.CompletionTriggerKind.Invoked
        suggestion = await ls.suggest(req, debounce=not invoked, started=started, kind="classic")
        items: list[types.CompletionItem] = []
        if suggestion is not None and suggestion.text:
            start = _word_start(req.text, req.offset)
            edit_range = types.Range(doc.client_position_at_offset(start), params.position)
            word = req.text[start : req.offset]
            items.append(completion_item(word, suggestion.text, edit_range, suggestion.model, _snippets(ls)))
        # Incomplete: the next keystroke must ask again (the answer depends on everything typed).
        return types.CompletionList(is_incomplete=True, items=items)

    @ls.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.Source]
        ),
    )
    def code_action(params: types.CodeActionParams) -> list[types.CodeAction | types.Command] | None:
        uri = params.text_document.uri
        actions: list[types.CodeAction | types.Command] = []
        published = ls.published.get(uri)
        if published:
            text = ls.workspace.get_text_document(uri).source
            actions.extend(quick_fixes(uri, text, published, params.range))
        r = params.range
        if r.start != r.end:
            # A selection that ends at the start of a line does not include that line.
            last = r.end.line - 1 if r.end.character == 0 and r.end.line > r.start.line else r.end.line
            actions.append(
                types.CodeAction(
                    title="Review with assist",
                    kind=types.CodeActionKind.Source,
                    command=types.Command(
                        title="Review with assist",
                        command=CMD_REVIEW_FILE,
                        arguments=[uri, {"start": r.start.line, "end": last}],
                    ),
                )
            )
        return actions or None

    @ls.command(CMD_TOGGLE)
    def toggle_completion(*args: Any) -> bool:
        ls.enabled = not ls.enabled
        if ls.enabled:
            ls.status("ready", message="completion turned on")
        else:
            ls.status("disabled", message="completion turned off")
        return ls.enabled

    @ls.command(CMD_DOCTOR)
    async def doctor(*args: Any) -> dict[str, Any]:
        ok, report = await ls.health_check(round_trip=True)
        return {"ok": ok, "report": report}

    @ls.command(CMD_REVIEW_FILE)
    async def review_file(*args: Any) -> dict[str, Any]:
        if not args or not isinstance(args[0], str):
            ls.show("assist.reviewFile needs the document URI as its argument")
            return {"ok": False, "findings": 0, "message": "missing document URI"}
        lines = line_range(args[1] if len(args) > 1 else None)
        rel = ls.rel_path(args[0])
        return await run_review(ls, [rel] if rel else [], lines=lines)

    @ls.command(CMD_REVIEW_WORKSPACE)
    async def review_workspace(*args: Any) -> dict[str, Any]:
        return await run_review(ls, None)

    return ls


def _safe_worker_processes() -> None:
    """Start worker processes (the index parses large projects in a process pool) without ``fork``.

    Forking this server deadlocks the child: pygls reads stdin on a thread that holds the stdin buffer's
    lock while it waits, the child inherits that lock held, and multiprocessing's bootstrap closes
    ``sys.stdin`` first thing — forever blocked (seen on the Django corpus: workers parked in
    ``futex_do_wait``, the server's feeder thread in ``anon_pipe_write``). A fork server is started by exec
    and forks from its own single thread.
    """
    if multiprocessing.get_start_method(allow_none=True) is None:
        methods = multiprocessing.get_all_start_methods()
        multiprocessing.set_start_method("forkserver" if "forkserver" in methods else "spawn")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="assist-lsp", description="Language server of assist (stdio by default)."
    )
    parser.add_argument(
        "--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio, e.g. 127.0.0.1:2087"
    )
    parser.add_argument("--stdio", action="store_true", help="use stdin/stdout (the default)")
    parser.add_argument("--log-level", default="WARNING", help="logging level on stderr (default WARNING)")
    args = parser.parse_args(argv)
    # Our own loggers at the requested level; libraries (pygls logs every message at INFO, httpx every
    # request) stay at WARNING so a debug log shows what the server did, not the wire.
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="assist-lsp %(levelname)s %(name)s: %(message)s"
    )
    level = getattr(logging, str(args.log_level).upper(), logging.WARNING)
    for name in ("assist-lsp", "lsp", "assistant"):
        logging.getLogger(name).setLevel(level)
    _safe_worker_processes()
    server = create_server()
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        if not host or not port.isdigit():
            parser.error(f"--tcp expects HOST:PORT, got {args.tcp!r}")
        server.start_tcp(host, int(port))
    else:
        server.start_io()
    return 0


if __name__ == "__main__":
    sys.exit(main())
