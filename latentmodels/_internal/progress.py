"""A rich progress bar for iterative fits that last more than about a second (``verbose`` on).

Any family's fit loop can use it: it draws nothing when disabled (``verbose`` off, a rank
other than 0) nor before :data:`SHOW_AFTER_S` seconds, so quick fits stay quiet. On a
terminal the bar animates; elsewhere (a log file, a pipe) rich prints it once when it stops.
"""

from __future__ import annotations

import sys
import time
from typing import Any

__all__ = ["SHOW_AFTER_S", "FitProgress"]

#: A fit shows its bar only once it has run this long: quick fits stay quiet.
SHOW_AFTER_S = 1.0


class FitProgress:
    """Iterations done out of ``total``, drawn by :mod:`rich` on stderr.

    Parameters
    ----------
    enabled : bool
        Whether to draw at all.
    total : int
        The number of iterations the fit may run.
    label : str
        What an iteration is (``"EM iterations"``).
    title : str
        The family, shown in bold before the label (``"HMM"``).
    start : int, default=0
        Iterations already done (a resumed fit).

    Examples
    --------
    >>> with FitProgress(True, 3, "EM iterations", title="HMM") as progress:
    ...     for it in range(3):
    ...         progress.update(it + 1, "log-likelihood -7.1")
    """

    def __init__(
        self, enabled: bool, total: int, label: str, *, title: str, start: int = 0
    ) -> None:
        self.enabled = bool(enabled)
        self.total = int(total)
        self.label = label
        self.title = title
        self.done = int(start)
        self.note = ""
        self._started = time.perf_counter()
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> FitProgress:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def _show(self) -> None:
        from rich.console import Console
        from rich.markup import escape
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn(f"[bold]{escape(self.title)}[/bold] {{task.description}}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[note]}"),
            console=Console(file=sys.stderr),
            transient=False,
        )
        self._task = self._progress.add_task(
            self.label, total=self.total, completed=self.done, note=""
        )
        self._progress.start()

    def update(self, done: int, note: str | None = None) -> None:
        """Record ``done`` iterations finished, with a short ``note`` (e.g. the objective;
        None keeps the last one).

        Examples
        --------
        >>> progress = FitProgress(False, 4, "EM iterations", title="HMM")
        >>> progress.update(2, "objective -3.5"); progress.update(3)
        >>> progress.done, progress.note
        (3, 'objective -3.5')
        """
        self.done = int(done)
        if note is not None:
            self.note = note
        if not self.enabled:
            return
        if self._progress is None:
            if time.perf_counter() - self._started < SHOW_AFTER_S:
                return
            self._show()
        self._progress.update(self._task, completed=self.done, note=self.note)
