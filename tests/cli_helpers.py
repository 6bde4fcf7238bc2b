"""Helpers shared by the CLI tests: run a command in-process, check a bad-input failure."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from latentmodels.cli import app as main_app

runner = CliRunner()


def invoke(*args, app: typer.Typer = main_app):
    """Run the CLI with ``args`` (converted to strings) and return typer's result."""
    return runner.invoke(app, [str(a) for a in args])


def assert_bad_input(result, *fragments: str, usage_box_ok: bool = False) -> None:
    """The command failed as a usage error (exit 2) naming every fragment on stderr, with
    no traceback, in one "Error: ..." line (our own checks). ``usage_box_ok`` also accepts
    typer's usage box, which its own checks of option types and choices print."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    stderr = result.stderr
    if usage_box_ok and stderr.startswith("Usage:"):
        assert "Error" in stderr and "Try '" in stderr, stderr
    else:
        assert len(stderr.strip().splitlines()) == 1, stderr
        assert stderr.startswith("Error:"), stderr
    for fragment in fragments:
        assert fragment in stderr, stderr
