"""Tab completion: from an editor request to a cleaned-up fill-in-the-middle answer, as fast as possible.

What this layer adds on top of the model's own time must stay in the low milliseconds, so the order of
work is chosen to answer from memory whenever possible:

1. the user typed the first characters of the suggestion still on screen → the rest of it, no model call;
2. a newer request for the same document arrived → the older one gives up (before or during generation;
   cancelling the generation task closes the HTTP stream, so Ollama stops computing too);
3. debounce: wait ``completion.debounce_ms`` and give up if superseded meanwhile;
4. the prompt (core packer + FIM layout of the model's family) → an LRU cache keyed by everything sent;
5. the model, then ``assistant.completion_text.clean_completion``.

How the prompt reaches the model depends on what the model can do, decided once per model and logged:
``raw`` with the family's FIM tokens when the family is known (qwen3-coder's Ollama template has no
suffix support: ``suffix`` fails with 400 "does not support insert"), Ollama's ``suffix`` when the family
is unknown but ``/api/show`` lists the ``insert`` capability, else a plain prefix continuation.

``asyncio.CancelledError`` is never swallowed here: pygls cancels the handler task on ``$/cancelRequest``
and the cancellation must reach the HTTP stream.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.completion_text import clean_completion, continue_suggestion, cursor_context
from assistant.config import Settings
from assistant.errors import AssistError

if TYPE_CHECKING:
    from assistant.backend import Backend
    from assistant.fim import FimFamily
    from assistant.index import IndexState, ProjectIndex

log = logging.getLogger(__name__)

# Single-line completions are short by nature; a small cap returns sooner on slow GPUs.
SINGLE_LINE_MAX_TOKENS = 48
# Enough for a few hundred keystrokes of distinct prompts; entries are a few KB at most (the key is
# hashed by Python's str hash, the prompt text itself is kept only once).
PROMPT_CACHE_SIZE = 256

MODE_RAW = "raw-fim"
MODE_SUFFIX = "ollama-suffix"
MODE_PREFIX = "prefix-only"


@dataclass(frozen=True)
class CompletionRequest:
    """One completion request, already translated from LSP: plain text and a 0-based char position."""

    uri: str
    rel: str  # path relative to the project root (or the file name when outside it)
    text: str  # the whole (unsaved) buffer
    offset: int  # cursor as an index into ``text``
    line: int
    column: int  # in characters of ``text`` (not UTF-16 units)
    language_id: str | None = None


@dataclass(frozen=True)
class Suggestion:
    text: str
    source: str  # "model" | "cache" | "typed-ahead"
    mode: str
    model: str
    prompt_chars: int = 0
    model_ms: float | None = None


@dataclass
class _Shown:
    """The last suggestion returned for a document, to serve "the user typed what we suggested"."""

    before: str
    after: str
    text: str


@dataclass
class _Ticket:
    superseded: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(frozen=True)
class ModePlan:
    mode: str
    family: FimFamily | None
    stops: tuple[str, ...]


class PromptCache:
    """A small LRU of prompt → cleaned completion."""

    def __init__(self, size: int = PROMPT_CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[tuple[Any, ...], str] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[Any, ...]) -> str | None:
        value = self._items.get(key)
        if value is None:
            self.misses += 1
            return None
        self.hits += 1
        self._items.move_to_end(key)
        return value

    def put(self, key: tuple[Any, ...], value: str) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()


class CompletionEngine:
    """Owns the completion backend, the per-model plan, the caches and the in-flight bookkeeping."""

    def __init__(
        self,
        settings: Settings,
        root: Path,
        index: Callable[[], ProjectIndex | None],
    ) -> None:
        self.root = root
        self._index = index
        # The index snapshot completions use: one whose derived tables (definitions by name, import
        # graph, ranking) are already built. Building them on a fresh snapshot takes up to a second on a
        # Django-sized project, so that happens in a worker thread (``prewarm``) and requests keep using
        # the previous warm snapshot meanwhile — its context is at most one edit pause old.
        self.warm_state: IndexState | None = None
        self._warm_lock = threading.Lock()
        self.last_focus: CompletionRequest | None = None
        self.settings = settings
        self._backend: Backend | None = None
        self._backend_error: AssistError | None = None
        self._set_backend(settings)
        self.cache = PromptCache()
        self._shown: dict[str, _Shown] = {}
        self._tickets: dict[str, _Ticket] = {}
        self._plans: dict[str, ModePlan] = {}
        self._budgets: dict[tuple[str, int], int] = {}
        self._counter: Any = None
        self.last_prompt: str | None = None  # for tests and the benchmark's prefix-sharing measure

    def _set_backend(self, settings: Settings) -> None:
        try:
            self._backend, self._backend_error = _new_backend(settings), None
        except AssistError as exc:  # e.g. no model configured: reported on use, the server keeps running
            self._backend, self._backend_error = None, exc

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            assert self._backend_error is not None
            raise self._backend_error
        return self._backend

    def backend_or_none(self) -> Backend | None:
        return self._backend

    @property
    def model(self) -> str:
        return self.settings.role("completion").model

    async def reconfigure(self, settings: Settings) -> None:
        """New settings: a new backend (hosts/model/timeouts may differ) and nothing cached from the old."""
        old = self._backend
        self.settings = settings
        self._set_backend(settings)
        self.cache.clear()
        self._shown.clear()
        self._plans.clear()
        self._budgets.clear()
        self._counter = None
        if old is not None:
            await old.aclose()

    async def aclose(self) -> None:
        if self._backend is not None:
            await self._backend.aclose()

    # ------------------------------------------------------------------ request flow

    async def complete(
        self, req: CompletionRequest, *, debounce: bool = True, channel: str = "inline"
    ) -> Suggestion | None:
        """The suggestion for ``req`` or ``None`` (nothing useful, or superseded by a newer request).

        ``debounce=False`` for explicitly invoked completion (the user asked; nobody is typing). A newer
        request supersedes an older one of the same document and ``channel`` (inline and classic
        completion may both be asked for by one editor and must not cancel each other).
        """
        before, after = req.text[: req.offset], req.text[req.offset :]
        shown = self._shown.get(req.uri)
        if shown is not None:
            rest = continue_suggestion(shown.before, shown.after, shown.text, before, after)
            if rest is not None:
                return Suggestion(rest, "typed-ahead", self._plans.get(self.model, _NO_PLAN).mode, self.model)

        slot = f"{channel}:{req.uri}"
        previous = self._tickets.get(slot)
        if previous is not None:
            previous.superseded.set()
        ticket = _Ticket()
        self._tickets[slot] = ticket
        work = asyncio.ensure_future(self._debounced(req, before, after, debounce))
        waiter = asyncio.ensure_future(ticket.superseded.wait())
        try:
            await asyncio.wait({work, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            if not work.done():
                work.cancel()  # closes the HTTP stream of a running generation
                await asyncio.wait({work})  # let it finish closing; a second cancel of ours still raises
            if self._tickets.get(slot) is ticket:
                del self._tickets[slot]
        if work.cancelled():
            return None  # superseded
        suggestion = work.result()
        if suggestion is not None and suggestion.text:
            self._shown[req.uri] = _Shown(before, after, suggestion.text)
        return suggestion

    async def _debounced(
        self, req: CompletionRequest, before: str, after: str, debounce: bool
    ) -> Suggestion | None:
        delay = self.settings.completion.debounce_ms / 1000.0 if debounce else 0.0
        if delay > 0:
            await asyncio.sleep(delay)
        return await self._generate(req, before, after)

    async def plan(self) -> ModePlan:
        """How prompts are sent to the current model; decided once per model and logged."""
        model = self.model
        cached = self._plans.get(model)
        if cached is not None:
            return cached
        from assistant.fim import family_for

        info = await self.backend.info()
        family = family_for(model, info.family)
        model_stops = tuple(info.stop)
        if family is not None:
            plan = ModePlan(MODE_RAW, family, _unique((*family.stop, *model_stops)))
            log.info("completion model %s: raw FIM prompts, family %s", model, family.name)
        elif "insert" in info.capabilities:
            plan = ModePlan(MODE_SUFFIX, None, model_stops)
            log.info(
                "completion model %s: unknown FIM family, using Ollama's suffix (template supports insert)",
                model,
            )
        else:
            plan = ModePlan(MODE_PREFIX, None, model_stops)
            log.info(
                "completion model %s: unknown FIM family and no insert support, prefix-only completion", model
            )
        self._plans[model] = plan
        return plan

    def prewarm(self) -> bool:
        """Build the derived tables of the index's current snapshot, then make it the one requests use.

        Blocking (run it in a worker thread): after the index opens, after editor texts were applied and
        after the watcher refreshed files. Returns whether a new snapshot was warmed.
        """
        index = self._index()
        if index is None:
            return False
        with self._warm_lock:
            state = index.state
            if self.warm_state is not None and state.version <= self.warm_state.version:
                return False
            focus = self.last_focus
            rel = focus.rel if focus is not None else next(iter(state.rels()), None)
            if rel is not None:
                from assistant.fim import build_completion_prompt, family_for
                from assistant.pack import CursorFocus

                counter = self._counter if self._counter is not None else _offline_counter()
                line, column = (focus.line, focus.column) if focus is not None else (0, 0)
                text = focus.text if focus is not None and focus.rel == rel else None
                try:
                    build_completion_prompt(
                        state,
                        CursorFocus(rel, line, column, text),
                        max(self.settings.completion.context_tokens, 256),
                        counter,
                        family_for(self.model),
                        repo_name=self.root.name,
                    )
                except AssistError as exc:  # a file that vanished meanwhile: the tables are built anyway
                    log.debug("prewarm: %s", exc)
            if self.warm_state is None or state.version > self.warm_state.version:
                self.warm_state = state
            return True

    async def warm(self) -> None:
        """Do the once-per-model work now (model info, tokenizer, budgets) so the first keystroke is fast."""
        await self.plan()
        await self._token_counter()
        limit = self.settings.completion.max_tokens
        for num_predict in sorted({limit, min(limit, SINGLE_LINE_MAX_TOKENS)}):
            await self._budget(num_predict)
        counter = await self._token_counter()
        await asyncio.to_thread(counter.count, "def warm_up(): pass")  # loads the vocabulary now

    async def _budget(self, num_predict: int) -> int:
        key = (self.model, num_predict)
        budget = self._budgets.get(key)
        if budget is None:
            model_budget = await self.backend.prompt_budget(num_predict)
            budget = max(0, min(self.settings.completion.context_tokens, model_budget))
            self._budgets[key] = budget
        return budget

    async def _token_counter(self) -> Any:
        if self._counter is None:
            self._counter = await self.backend.counter()
        return self._counter

    def build_prompt(self, req: CompletionRequest, plan: ModePlan, budget: int, counter: Any) -> Any:
        """The core's FIM prompt for the cursor, using the unsaved buffer."""
        from assistant.fim import build_completion_prompt
        from assistant.pack import CursorFocus

        index: IndexState | None = self.warm_state
        if index is None:
            # The project is not indexed (and warmed) yet: complete from the buffer alone meanwhile.
            from assistant.index import IndexState

            index = IndexState(root=self.root, files={})
        focus = CursorFocus(path=req.rel, line=req.line, column=req.column, text=req.text)
        return build_completion_prompt(index, focus, budget, counter, plan.family, repo_name=self.root.name)

    async def _generate(self, req: CompletionRequest, before: str, after: str) -> Suggestion | None:
        self.last_focus = req
        plan = await self.plan()
        ctx = cursor_context(before, after)
        limit = self.settings.completion.max_tokens
        num_predict = limit if ctx.multiline else min(limit, SINGLE_LINE_MAX_TOKENS)
        stops = plan.stops if ctx.multiline else _unique((*plan.stops, "\n"))
        budget = await self._budget(num_predict)
        counter = await self._token_counter()
        t_prompt = time.perf_counter()
        prompt = self.build_prompt(req, plan, budget, counter)
        t_built = time.perf_counter()
        if plan.mode == MODE_SUFFIX:
            send, suffix = prompt.prompt, prompt.suffix
        else:
            send, suffix = prompt.prompt, None
        self.last_prompt = send
        key = (self.model, plan.mode, send, suffix, num_predict, ctx.multiline)
        hit = self.cache.get(key)
        if hit is not None:
            return Suggestion(hit, "cache", plan.mode, self.model, len(send))
        started = time.perf_counter()
        result = await self.backend.generate(
            send,
            raw=plan.mode != MODE_SUFFIX,
            suffix=suffix,
            options={"stop": list(stops)},
            num_predict=num_predict,
            expected_prompt_tokens=prompt.tokens,
        )
        model_ms = (time.perf_counter() - started) * 1000  # as seen from here: what the user waits for
        text = clean_completion(result.text, before, after, multiline=ctx.multiline, stops=stops)
        self.cache.put(key, text)
        log.debug(
            "completion %s:%d:%d prompt %.1f ms (%d tokens, %d context items), model %.1f ms, clean %.1f ms",
            req.rel,
            req.line,
            req.column,
            (t_built - t_prompt) * 1000,
            prompt.tokens,
            len(prompt.items),
            model_ms,
            (time.perf_counter() - started) * 1000 - model_ms,
        )
        return Suggestion(text, "model", plan.mode, self.model, len(send), model_ms)


_NO_PLAN = ModePlan(MODE_RAW, None, ())


def _unique(items: Sequence[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for item in items:
        if item:
            seen.setdefault(item, None)
    return tuple(seen)


def _offline_counter() -> Any:
    from assistant.tokens import default_counter

    return default_counter()


def _new_backend(settings: Settings) -> Backend:
    from assistant.backend import Backend

    return Backend(settings, "completion")
