"""Progress for long runs: a ``rich`` bar on a terminal, nothing (or plain lines) elsewhere.

Hooks and editors read our stderr; a bar's control characters would garble their logs, so the bar
appears only when stderr is a terminal.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

ProgressFn = Callable[[int, int], None]
# Runs shorter than this many units are not worth a bar.
MIN_UNITS_FOR_BAR = 200


@contextmanager
def progress_reporter(label: str, *, plain_lines: bool = False) -> Iterator[ProgressFn]:
    """Yield ``progress(done, total)``; draws a bar on a terminal, plain lines when asked otherwise."""
    if not sys.stderr.isatty():
        last = [-1]

        def plain(done: int, total: int) -> None:
            if plain_lines and total and done * 10 // total != last[0]:
                last[0] = done * 10 // total
                print(f"{label}: {done}/{total}", file=sys.stderr, flush=True)

        yield plain
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
        console=None,
    )
    task = None
    started = False

    def update(done: int, total: int) -> None:
        nonlocal task, started
        if total < MIN_UNITS_FOR_BAR:
            return
        if not started:
            bar.start()
            started = True
            task = bar.add_task(label, total=total)
        bar.update(task, completed=done, total=total)  # type: ignore[arg-type]

    try:
        yield update
    finally:
        if started:
            bar.stop()
