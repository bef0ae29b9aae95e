"""Long file generation on the analysis model: prompt, continuation, atomic write.

Why continuation: a whole file is often longer than one response. A response can end early in two
ways, both observed on Ollama (issue 3): ``done_reason == "length"`` once ``num_predict`` tokens were
produced, or a stream that simply ends without a ``done: true`` chunk, which the Go engine does after
30 identical tokens in a row, whitespace included, so deep indentation can trigger it. In both cases
we ask again with the text so far as the start of the model's own answer, so it picks up mid-line.

How the text so far is handed back: when the model's chat template is one we know (ChatML as in
Qwen, Llama 3 headers), the prompt is laid out in raw mode with the partial answer already inside the
assistant turn, which continues it exactly. For any other template the request stays templated and the
prompt shows the tail of the partial answer and asks for the rest; the overlap the model repeats is
cut when stitching.

Writing: atomic (a temp file in the same folder, fsync, then ``os.replace``/``os.link``) so an editor
or a crash never sees half a file, and never over an existing file unless asked (``overwrite=True``).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import AssistError, FileAccessError, GenerationError, InputError

if TYPE_CHECKING:
    from assistant.backend import Backend
    from assistant.index import ProjectIndex
    from assistant.tokens import TokenCounter

# Of the prompt budget, at most this share goes to project context; the rest stays free so the
# continuation prompts (which carry the text generated so far) still fit the window.
CONTEXT_SHARE = 0.5
# Less context than this is not worth a packer run.
MIN_CONTEXT_TOKENS = 64
# In the fallback layout (unknown template) this much of the partial answer's end is shown back.
FALLBACK_TAIL_CHARS = 1500
# The fallback stitcher only trusts an overlap at least this long (shorter ones are coincidence).
MIN_OVERLAP_CHARS = 16
MAX_OVERLAP_CHARS = 4000

CONTINUE_INSTRUCTION = (
    "\n\n## Continue\n\nYour previous answer was cut off. It ended with the text below. Continue from the "
    "exact character where it stops; do not repeat anything already written and do not add a fence.\n\n"
)


@dataclass(frozen=True)
class ChatLayout:
    """How a chat template frames a system turn, one user turn and the start of the assistant turn (for
    raw mode, where the server applies no template: the Modelfile's SYSTEM is put in by us)."""

    name: str
    user_prefix: str
    user_suffix: str
    system_prefix: str
    system_suffix: str

    def prompt(self, user: str, partial: str, system: str = "") -> str:
        head = f"{self.system_prefix}{system}{self.system_suffix}" if system else ""
        return f"{head}{self.user_prefix}{user}{self.user_suffix}{partial}"


# Markers seen in the templates Ollama reports in /api/show for these families.
CHATML = ChatLayout(
    "chatml",
    "<|im_start|>user\n",
    "<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|>system\n",
    "<|im_end|>\n",
)
LLAMA3 = ChatLayout(
    "llama3",
    "<|start_header_id|>user<|end_header_id|>\n\n",
    "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
    "<|start_header_id|>system<|end_header_id|>\n\n",
    "<|eot_id|>",
)


def chat_layout(template: str) -> ChatLayout | None:
    """The raw layout for a model's template, or None when we do not know the template's markers."""
    if "<|im_start|>" in template and "<|im_end|>" in template:
        return CHATML
    if "<|start_header_id|>" in template and "<|eot_id|>" in template:
        return LLAMA3
    return None


@dataclass(frozen=True)
class Step:
    """One request: the prompt text, whether it is raw, and what the answer so far is."""

    prompt: str
    raw: bool


@dataclass(frozen=True)
class StepResult:
    """What one request returned (a subset of the backend's Completion)."""

    text: str
    done: bool
    done_reason: str | None


@dataclass(frozen=True)
class Generated:
    text: str
    requests: int  # 1 + continuations
    complete: bool


def next_step(user_prompt: str, partial: str, layout: ChatLayout | None, system: str = "") -> Step:
    """The request that (continues to) produce the answer, given the answer so far."""
    if layout is not None:
        return Step(layout.prompt(user_prompt, partial, system), raw=True)
    if not partial:
        return Step(user_prompt, raw=False)
    return Step(user_prompt + CONTINUE_INSTRUCTION + partial[-FALLBACK_TAIL_CHARS:], raw=False)


def stitch(partial: str, more: str, *, exact: bool) -> str:
    """Append a continuation. In exact (raw, prefilled) mode it is appended as is; otherwise a prefix of
    ``more`` that repeats the end of ``partial`` is cut."""
    if exact or not partial:
        return partial + more
    limit = min(len(partial), len(more), MAX_OVERLAP_CHARS)
    for k in range(limit, MIN_OVERLAP_CHARS - 1, -1):
        if partial.endswith(more[:k]):
            return partial + more[k:]
    return partial + more


def finished(result: StepResult) -> bool:
    """True when the model ended the answer itself (a done chunk with a reason other than length)."""
    return result.done and result.done_reason != "length"


async def generate_long(
    user_prompt: str,
    run: Callable[[Step], Awaitable[StepResult]],
    *,
    layout: ChatLayout | None,
    max_continuations: int,
    on_continue: Callable[[int, StepResult], None] | None = None,
    system: str = "",
) -> Generated:
    """Ask, and keep continuing while the answer was cut (see the module docstring).

    Returns the text even when it is still incomplete after ``max_continuations``; ``complete`` says
    which, so the caller can keep the partial text instead of losing it."""
    text = ""
    requests = 0
    while True:
        step = next_step(user_prompt, text, layout, system)
        try:
            result = await run(step)
        except AssistError as exc:
            exc.partial_text = text  # type: ignore[attr-defined]  # the caller saves it: nothing is lost
            raise
        requests += 1
        text = stitch(text, result.text, exact=step.raw)
        if finished(result):
            return Generated(text, requests, True)
        if requests > max_continuations:
            return Generated(text, requests, False)
        if not result.text:
            # Cut before producing anything: another identical request would loop forever.
            return Generated(text, requests, False)
        if on_continue is not None:
            on_continue(requests, result)


def strip_fence(text: str) -> str:
    """Remove one Markdown fence around the whole answer (models add it despite the prompt), and make
    sure the file ends with exactly one newline."""
    body = text.strip("\n")
    lines = body.split("\n")
    if len(lines) >= 2 and lines[0].lstrip().startswith("```") and lines[-1].strip() == "```":
        body = "\n".join(lines[1:-1])
    elif lines and lines[0].lstrip().startswith("```") and len(lines) >= 2:
        # An opening fence whose close was cut off (e.g. the last continuation hit the limit).
        body = "\n".join(lines[1:])
    return body.rstrip("\n") + "\n" if body.strip() else ""


# --------------------------------------------------------------------------- writing


def check_writable(path: Path, *, overwrite: bool) -> None:
    """Fail early (before spending minutes on generation) when the result could not be written."""
    if path.is_dir():
        raise InputError(f"{path} is a folder; give the path of the file to write")
    if path.exists() and not overwrite:
        raise InputError(f"{path} already exists; pass --force to overwrite it")
    parent = path.parent
    while not parent.exists() and not parent.is_symlink():
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"cannot write {path}: {parent} is not a folder")
    if not os.access(parent, os.W_OK):
        raise InputError(f"cannot write in {parent}: permission denied")


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomic(path: Path, text: str, *, overwrite: bool) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never a mix.

    A symlink is followed (the link stays, its target is replaced). Without ``overwrite`` an existing
    file is never touched, even one that appeared while we were generating: the new file is linked into
    place with ``os.link``, which fails if the name exists."""
    if path.is_symlink():
        path = path.resolve()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".assist-tmp")
    except OSError as exc:
        raise FileAccessError(f"cannot write {path}: {exc.strerror or exc}") from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            mode = _default_mode()
        os.chmod(tmp, mode)
        if overwrite:
            os.replace(tmp, path)
            return
        try:
            os.link(tmp, path)
        except FileExistsError as exc:
            raise InputError(f"{path} already exists; pass --force to overwrite it") from exc
        except OSError:
            # A filesystem without hard links: the check-then-rename window is the best available.
            if path.exists():
                raise InputError(f"{path} already exists; pass --force to overwrite it") from None
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def save_partial(path: Path, text: str) -> Path:
    """Keep an incomplete result next to the target under a fresh name (never over anything)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f"{path.name}.", suffix=".partial")
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    return Path(name)


def incomplete_error(path: Path, partial: Path, requests: int) -> GenerationError:
    return GenerationError(
        f"the model had not finished {path.name} after {requests} requests; nothing was written to {path}, "
        f"the partial text is in {partial}",
        hint="raise generate.num_predict or generate.max_continuations, or split the instruction",
    )


# --------------------------------------------------------------------------- the job


@dataclass(frozen=True)
class GenerateRequest:
    """What ``assist generate`` was asked to do."""

    root: Path  # project root
    target: Path  # absolute path of the file to write
    instruction: str
    context_paths: tuple[str, ...] = ()  # project-relative files to show as context; () = the target's folder
    overwrite: bool = False
    num_predict: int | None = None  # None: settings.generate.num_predict


@dataclass(frozen=True)
class PreparedPrompt:
    prompt: str
    tokens: int
    budget: int  # prompt budget of the analysis model at this num_predict
    context_tokens: int
    num_predict: int
    counter: str
    model: str
    layout: str  # "chatml", "llama3" or "templated"
    system: str = ""  # the model's own SYSTEM (Modelfile), put in by us in raw layouts


def language_name(rel: str) -> str:
    from assistant.syntax.languages import language_for

    return language_for(rel) or "plain text"


def _context_focus(index: ProjectIndex, rel_target: str, explicit: tuple[str, ...]) -> tuple[str, ...]:
    """The files shown as context: those asked for, else the target's neighbours in its folder."""
    files = index.files()
    if explicit:
        return tuple(sorted(explicit))
    folder = rel_target.rsplit("/", 1)[0] if "/" in rel_target else ""
    siblings = tuple(
        f for f in files if f != rel_target and (f.rsplit("/", 1)[0] if "/" in f else "") == folder
    )
    return siblings or (".",)  # a new folder: a map of the whole project


def prepare(
    request: GenerateRequest,
    index: ProjectIndex,
    *,
    counter: TokenCounter,
    budget: int,
    num_predict: int,
    template: str,
    model: str,
    system: str = "",
) -> PreparedPrompt:
    """Build the generation prompt within ``budget`` (also what ``--dry-run`` shows). Pure apart from
    reading the current file: the caller gets budget, counter and template from the backend."""
    from assistant.pack import PathsFocus, pack_and_render
    from assistant.secrets import redact
    from assistant.templating import render_prompt

    layout = chat_layout(template)
    rel = request.target.relative_to(request.root).as_posix()
    existing = "(the file does not exist yet)"
    if request.target.is_file():
        try:
            existing = redact(request.target.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read {rel} to regenerate it: {exc}") from exc
    values = {
        "project": request.root.name,
        "path": rel,
        "language": language_name(rel),
        "instruction": request.instruction.strip(),
        "existing": existing,
        "context": "(none)",
    }
    frame_tokens = counter.count(render_prompt("generate", values))
    context_budget = int(budget * CONTEXT_SHARE) - frame_tokens
    if context_budget < 0:
        raise InputError(
            f"the instruction and current file take {frame_tokens} tokens, more than half of the "
            f"model's prompt budget ({budget}); shorten them or lower --num-predict"
        )
    context = ""
    if context_budget >= MIN_CONTEXT_TOKENS:
        focus = _context_focus(index, rel, request.context_paths)
        packed, text = pack_and_render(index, PathsFocus(focus), context_budget, counter, "markdown")
        context = text if packed.items else ""
    if context:
        values["context"] = context
    prompt = render_prompt("generate", values)
    return PreparedPrompt(
        prompt=prompt,
        tokens=counter.count(prompt),
        budget=budget,
        context_tokens=counter.count(context) if context else 0,
        num_predict=num_predict,
        counter=counter.name,
        model=model,
        layout=layout.name if layout else "templated",
        system=system if layout else "",
    )


async def run_generation(
    prepared: PreparedPrompt,
    backend: Backend,
    *,
    max_continuations: int,
    on_text: Callable[[str], None] | None = None,
    on_continue: Callable[[int, StepResult], None] | None = None,
) -> Generated:
    """Generate with continuation through the backend; every request is checked for truncation."""
    from assistant.backend import StreamInterrupted

    counter = await backend.counter()
    budget = await backend.prompt_budget(prepared.num_predict)
    layout = {"chatml": CHATML, "llama3": LLAMA3}.get(prepared.layout)

    async def step(s: Step) -> StepResult:
        tokens = counter.count(s.prompt)
        if tokens > budget:
            raise GenerationError(
                f"the file grew past what the model's window can continue ({tokens} of {budget} tokens)",
                hint="lower --num-predict, give less context, or split the file",
            )
        try:
            completion = await backend.generate(
                s.prompt,
                raw=s.raw,
                num_predict=prepared.num_predict,
                on_text=on_text,
                expected_prompt_tokens=tokens,
            )
        except StreamInterrupted as exc:
            if not exc.partial.text:
                raise
            # A connection cut mid-answer: what arrived is kept and continued like a quiet stop.
            return StepResult(exc.partial.text, False, None)
        return StepResult(completion.text, completion.done, completion.done_reason)

    return await generate_long(
        prepared.prompt,
        step,
        layout=layout,
        max_continuations=max_continuations,
        on_continue=on_continue,
        system=prepared.system,
    )
