"""Review from the editor: the core review (``assistant.review``) over files, the workspace or a selection.

The editor's unsaved text is already in the index (as overlays), so the model reviews what the user sees.
A selection is reviewed like a diff whose changed lines are the selected ones: the model sees the whole
file for context and is told to report on those lines.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from assistant.config import Settings

if TYPE_CHECKING:
    from assistant.findings import Finding
    from assistant.index import ProjectIndex

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
