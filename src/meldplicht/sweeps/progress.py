"""The sweep's progress on a terminal: a rich progress bar per phase (`meldplicht sweep`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from meldplicht.sweeps.sweep import ProgressCallback


@contextmanager
def terminal_progress(show: bool) -> Iterator[ProgressCallback | None]:
    """A rich progress bar per sweep phase (for a terminal); None when not shown."""
    if not show:
        yield None
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    tasks: dict[str, TaskID] = {}
    with Progress(*columns) as bar:

        def report(phase: str, done: int, total: int | None) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(f"Sweeping {phase}", total=total)
            bar.update(tasks[phase], completed=done, total=total)

        yield report
