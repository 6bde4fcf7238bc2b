"""Write the CLI reference page: every command and sub-command with its ``--help`` text,
taken from the Typer application itself so the page always matches the installed CLI."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from typer.testing import CliRunner


def _commands(command, path: tuple[str, ...] = ()):
    """Every command under ``command``, depth first; duck-typed because recent Typer ships
    its own copy of click, whose groups are not ``click.Group`` instances."""
    yield path, command
    if hasattr(command, "list_commands"):
        context = command.context_class(command)
        for name in command.list_commands(context):
            yield from _commands(command.get_command(context, name), (*path, name))


def write_cli_reference(target: Path) -> None:
    from latentmodels.cli.app import app

    root = typer.main.get_command(app)
    runner = CliRunner()
    lines = ["# Command-line reference", "",
             "Every verb of `latentmodels` with its `--help` screen, generated from the CLI at "
             "build time.", ""]
    commands = list(_commands(root))
    if len(commands) < 2:
        raise RuntimeError("found no sub-commands in the latentmodels CLI")
    for path, _command in commands:
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
