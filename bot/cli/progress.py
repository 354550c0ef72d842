"""A progress bar on the terminal for the long commands (import, export): drawn by Rich on
stderr when stderr is a terminal; nothing at all in scripts, pipes and cron jobs."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class Advance(Protocol):
    def __call__(self, done: int, total: int | None = None) -> None:
        """`done` of `total` (when it became known) rows are through."""


@contextmanager
def progress_bar(label: str, *, total: int | None = None) -> Iterator[Advance | None]:
    """A callback that moves a bar labelled `label`, or None when nobody would see it."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console  # Typer's own dependency; loaded only on a terminal
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    ) as bar:
        task = bar.add_task(label, total=total)

        def advance(done: int, total: int | None = None) -> None:
            if total is not None:
                bar.update(task, total=total)
            bar.update(task, completed=done)

        yield advance
