"""The ``latentmodels`` command: train a model, use it, and look at it.

    latentmodels train vae --data mnist --latent-dim 16 --out runs/vae
    latentmodels sample runs/vae/model.lm -n 64 --out samples.png
    latentmodels report runs/vae
    latentmodels demo

Bad input (unknown dataset, missing file, broken model file, wrong option) ends with one red
error line on stderr and exit code 2, never a traceback (set LATENTMODELS_DEBUG=1 to see one).

Each verb group is a module of this package with a ``register(app)`` function; this module
only builds the application from them, so no verb module imports another.
"""

from __future__ import annotations

from typing import Annotated

import typer

from .. import __version__
from . import demo, explore, factors, gan, lda, linear, model, rerun, tasks
from .train import train_app

__all__ = ["app", "main"]

app = typer.Typer(
    name="latentmodels",
    help="Fit latent variable models, look inside the latent space, put it to work.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: rich's option table cuts long option names at 80 columns.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"latentmodels {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", help="Show the version and exit.",
                                          is_eager=True, callback=_show_version)] = False,
) -> None:
    """Fit latent variable models, look inside the latent space, put it to work."""


model.register(app)
demo.register(app)
lda.register_train(train_app)
gan.register_train(train_app)
linear.register_train(train_app)
app.add_typer(train_app)
lda.register(app)
tasks.register(app)
factors.register(app)
explore.register(app)
rerun.register(app)


def main() -> None:
    """Entry point of the ``latentmodels`` console script."""
    app()


if __name__ == "__main__":
    main()
