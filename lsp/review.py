"""Review from the editor: the core review (``assistant.review``) over files, the workspace or a selection,
with ``window/workDoneProgress`` (cancellable) and the findings published as diagnostics.

The editor's unsaved text is already in the index (as overlays), so the model reviews what the user sees.
A selection is reviewed like a diff whose changed lines are the selected ones: the model sees the whole
file for context and is told to report on those lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import from_fs_path

from assistant.config import Settings
from assistant.errors import AssistError
from lsp.diagnostics import publishable

if TYPE_CHECKING:
    from assistant.findings import Finding
    from assistant.index import ProjectIndex
    from lsp.server import AssistServer

log = logging.getLogger(__name__)

Report = Callable[[str, "int | None"], None]


async def review_findings(
    index: ProjectIndex,
    settings: Settings,
    rels: list[str] | None,
    *,
    lines: tuple[int, int] | None = None,
    report: Report | None = None,
) -> tuple[tuple[Finding, ...], tuple[str, ...]]:
    """``(findings, reviewed files)`` for ``rels`` (``None``: the whole project); ``lines`` are 0-based."""
    from assistant.backend import Backend
    from assistant.errors import InputError
    from assistant.review import ReviewTarget, TargetFile, collect_target, plan_passes, run_review

    if rels is not None and not rels:
        raise InputError("nothing to review: the document is not a file of this project")
    if lines is not None and rels is not None and len(rels) == 1:
        rel = rels[0]
        if rel not in index.state.files:
            raise InputError(f"{rel}: not reviewable (ignored, binary, secret or too large)")
        changed = frozenset(range(lines[0] + 1, lines[1] + 2))
        target = ReviewTarget(
            f"{rel} lines {lines[0] + 1}–{lines[1] + 1}", (TargetFile(rel, index.read(rel), changed),), True
        )
    else:
        target = collect_target(index, rels if rels is not None else ["."], cwd=index.root)
    if not target.files:
        return (), ()

    def progress(done: int, total: int, what: str) -> None:
        if report is not None:
            report(what, int(done * 100 / total) if total else None)

    async with Backend(settings, "analysis") as backend:
        counter = await backend.counter()
        budget = await backend.prompt_budget()
        passes = plan_passes(target, index, budget, counter, project=index.root.name)
        result = await run_review(target, passes, backend, index.root, progress=progress)
    return result.findings, result.files


def line_range(value: Any) -> tuple[int, int] | None:
    """``{"start": 0-based line, "end": 0-based line}`` from the "Review with assist" action."""
    if isinstance(value, dict):
        start, end = value.get("start"), value.get("end")
        if isinstance(start, int) and isinstance(end, int) and 0 <= start <= end:
            return start, end
    return None


async def run_review(
    ls: AssistServer, rels: list[str] | None, *, lines: tuple[int, int] | None = None
) -> dict[str, Any]:
    """Review files (``None``: the workspace) with progress; publish the findings as diagnostics."""
    await ls.wait_for_index(timeout=None)
    await ls.flush_texts_async()
    if ls.index is None or ls.settings is None:
        message = ls.index_error or "the project index is not available (no workspace folder?)"
        ls.show(message)
        return {"ok": False, "findings": 0, "message": message}
    token = str(uuid.uuid4())
    progress = ls.work_done_progress
    use_progress = _client_supports_progress(ls)
    if use_progress:
        await progress.create_async(token)
        progress.begin(
            token, types.WorkDoneProgressBegin(title="assist review", cancellable=True, percentage=0)
        )

    def report(message: str, percentage: int | None = None) -> None:
        if use_progress:
            progress.report(token, types.WorkDoneProgressReport(message=message, percentage=percentage))

    previous = dict(ls.status_state)
    ls.status("busy", message="reviewing…")
    work = asyncio.ensure_future(review_findings(ls.index, ls.settings, rels, lines=lines, report=report))
    if use_progress:
        cancel_future = progress.tokens.get(token)
        if cancel_future is not None:
            loop = asyncio.get_running_loop()
            cancel_future.add_done_callback(
                lambda f: loop.call_soon_threadsafe(work.cancel) if f.cancelled() else None
            )
    try:
        await asyncio.wait({work})
    finally:
        if not work.done():  # our own request was cancelled: stop the review and its HTTP stream too
            work.cancel()
            await asyncio.wait({work})
        if use_progress:
            progress.end(
                token, types.WorkDoneProgressEnd(message="cancelled" if work.cancelled() else "done")
            )
            progress.tokens.pop(token, None)
        # Back to what completion was doing; a review problem is about the analysis model, not completion.
        ls.status(previous.get("state", "ready"), message=previous.get("message"))
    if work.cancelled():
        return {"ok": False, "findings": 0, "message": "review cancelled"}
    try:
        findings, reviewed = work.result()
    except AssistError as exc:
        log.warning("review failed: %s", exc)
        ls.show(f"review failed: {exc}", types.MessageType.Error)
        return {"ok": False, "findings": 0, "message": str(exc)}
    publish_findings(ls, findings, reviewed)
    return {"ok": True, "findings": len(findings), "files": len(reviewed), "message": None}


def publish_findings(ls: AssistServer, findings: Iterable[Any], reviewed: Iterable[str]) -> None:
    """Publish diagnostics for every reviewed file; a file without findings gets its old ones cleared."""
    assert ls.index is not None
    findings = list(findings)
    reviewed = sorted(set(reviewed) | {f.file for f in findings})
    texts: dict[str, str] = {}
    for rel in reviewed:
        with contextlib.suppress(AssistError, OSError):
            texts[rel] = ls.index.read(rel)
    grouped = publishable(findings, texts)
    for rel in reviewed:
        uri = from_fs_path(str(ls.index.root / rel)) or ""
        items = grouped.get(rel, [])
        ls.published[uri] = items
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[p.diagnostic for p in items])
        )


def _client_supports_progress(ls: AssistServer) -> bool:
    window = ls.client_capabilities.window
    return bool(window and window.work_done_progress)
