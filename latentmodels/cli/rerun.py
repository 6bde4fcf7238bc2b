"""``latentmodels rerun RUN_DIR``: run a recorded run's command again and compare the metrics.

    latentmodels train lda --data newsgroups --topics 20 --out runs/lda
    latentmodels rerun runs/lda --out runs/lda-again

``run.json`` records the complete command (every option at its effective value, the thread
count included), the library version and a checksum of the data, so on the same machine the
rerun gives the same metrics; it warns when the version or the data differ.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from . import _common as cli

__all__ = ["compare_metrics", "register", "rerun_arguments"]

#: Metrics that measure the machine, not the model: left out of the comparison.
TIMING_METRICS = frozenset({"train_seconds"})


def rerun_arguments(command: str, out: Path) -> list[str]:
    """The arguments (after ``latentmodels``) that repeat ``command`` into ``out``.

    ``--out`` is replaced, ``--resume`` becomes ``--no-resume`` (a rerun starts afresh).

    Parameters
    ----------
    command : str
        The ``command`` recorded in ``run.json``.
    out : pathlib.Path
        The new run directory.

    Returns
    -------
    list of str

    Examples
    --------
    >>> rerun_arguments("latentmodels train vae --data mnist --out a --resume", Path("b"))
    ['train', 'vae', '--data', 'mnist', '--out', 'b', '--no-resume']
    """
    words = shlex.split(command)
    if len(words) < 2 or words[0] != "latentmodels" or words[1] != "train":
        raise ValueError(f"run.json records {command!r}, not a `latentmodels train` command, "
                         "so there is nothing to rerun")
    arguments: list[str] = []
    index = 1
    while index < len(words):
        word = words[index]
        if word == "--out":
            index += 2
            continue
        if word.startswith("--out="):
            index += 1
            continue
        arguments.append("--no-resume" if word == "--resume" else word)
        index += 1
    position = 2  # after "train <family>"
    return [*arguments[:position], "--out", str(out), *arguments[position:]]


def compare_metrics(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """The metrics that differ between two runs, timings left out.

    Parameters
    ----------
    before, after : dict
        The ``metrics`` of the recorded run and of the rerun.

    Returns
    -------
    list of (name, before, after)

    Examples
    --------
    >>> compare_metrics({"elbo": -90.5, "train_seconds": 3}, {"elbo": -90.5, "train_seconds": 4})
    []
    >>> compare_metrics({"elbo": -90.5}, {"elbo": -91.0})
    [('elbo', -90.5, -91.0)]
    """
    names = [name for name in {**before, **after} if name not in TIMING_METRICS]
    return [(name, before.get(name), after.get(name)) for name in names
            if before.get(name) != after.get(name)]


def _warn(console: Console, text: str) -> None:
    console.print(f"[bold yellow]Warning:[/bold yellow] {text}")


def register(app: typer.Typer) -> None:
    """Add ``rerun`` to ``app`` (it runs commands of this same application)."""

    @app.command()
    def rerun(
        run_dir: Annotated[Path, typer.Argument(help="A run directory (holds run.json).")],
        out: Annotated[Path | None, typer.Option(
            help="Run directory to write. Default: RUN_DIR-rerun beside it.")] = None,
    ) -> None:
        """Run a recorded run again from its run.json and compare the metrics.

        latentmodels rerun runs/lda --out runs/lda-again
        """
        from .. import __version__
        from ..rundir import read_run

        console = Console(stderr=True, highlight=False, soft_wrap=True)
        with cli.clean_errors():
            recorded = read_run(run_dir)
            target = out if out is not None else run_dir.with_name(run_dir.name + "-rerun")
            if target.resolve() == run_dir.resolve():
                raise cli.BadInput("--out must differ from RUN_DIR (the rerun would overwrite "
                                   "the run it compares with)")
            command = recorded.get("command")
            if not isinstance(command, str):
                raise cli.BadInput(f"{run_dir}/run.json records no command")
            arguments = rerun_arguments(command, target)
            version = recorded.get("latentmodels_version")
            if version != __version__:
                _warn(console, f"the run was recorded by latentmodels {version}, this is "
                               f"{__version__}: metrics may differ")
            cli.stdout().print(f"Rerunning: latentmodels {shlex.join(arguments)}")
        click_command = typer.main.get_command(app)
        status = click_command.main(args=arguments, prog_name="latentmodels",
                                    standalone_mode=False)
        if isinstance(status, int) and status != 0:
            raise typer.Exit(status)  # the command has said why
        with cli.clean_errors():
            again = read_run(target)
            old_sum = (recorded.get("data") or {}).get("checksum")
            new_sum = (again.get("data") or {}).get("checksum")
            if old_sum is None:
                _warn(console, "the recorded run has no data checksum; cannot tell whether "
                               "the data changed")
            elif old_sum != new_sum:
                _warn(console, "the data differ from the recorded run's (checksum "
                               f"{str(old_sum)[:19]}... then, {str(new_sum)[:19]}... now)")
            differences = compare_metrics(recorded.get("metrics") or {},
                                          again.get("metrics") or {})
            if differences:
                _warn(console, "metrics differ from the recorded run: " + ", ".join(
                    f"{name} {old} -> {new}" for name, old, new in differences))
            else:
                cli.stdout().print(f"Same metrics as {run_dir} "
                                   f"({len(again.get('metrics') or {})} compared, timings "
                                   "left out).")
