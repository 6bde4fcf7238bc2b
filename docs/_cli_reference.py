"""Write the CLI reference page: every command and sub-command with its ``--help`` text,
taken from the Typer application itself so the page always matches the installed CLI."""

from __future__ import annotations

import os
from pathlib import Path

import click
import typer
from typer.testing import CliRunner


def _commands(group: click.Command, path: tuple[str, ...] = ()):
    yield path, group
    if isinstance(group, click.Group):
        for name in group.list_commands(click.Context(group)):
            yield from _commands(group.get_command(click.Context(group), name), (*path, name))


def write_cli_reference(target: Path) -> None:
    from latentmodels.cli.app import app

    root = typer.main.get_command(app)
    runner = CliRunner()
    lines = ["# Command-line reference", "",
             "Every verb of `latentmodels` with its `--help` screen, generated from the CLI at "
             "build time.", ""]
    for path, _command in _commands(root):
        if not path:
            continue
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80", "NO_COLOR": "1"},
                               prog_name="latentmodels")
        if result.exit_code != 0:
            raise RuntimeError(f"latentmodels {' '.join(path)} --help failed: {result.output}")
        lines += [f"{'#' * min(len(path) + 1, 3)} `latentmodels {' '.join(path)}`", "",
                  "```text", result.output.rstrip(), "```", ""]
    target.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(lines)
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        tmp = target.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
