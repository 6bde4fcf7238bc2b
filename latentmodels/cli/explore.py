"""``latentmodels explore``: walk through a fitted run's latent space in the browser."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._common import BadInput, clean_errors, stdout

__all__ = ["register"]


def explore(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (model.lm + run.json).")],
    host: Annotated[str, typer.Option(
        help="Interface to bind. Anything but loopback asks for an access token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (0 picks a free one).")] = 8765,
    no_browser: Annotated[bool, typer.Option(
        "--no-browser", help="Do not open the page in a browser.")] = False,
    static: Annotated[Path | None, typer.Option(
        help="Write a self-contained .html page (precomputed decodes) instead of serving.")
    ] = None,
    max_points: Annotated[int, typer.Option(help="Most held-out points on the map.")] = 60000,
) -> None:
    """Open a fitted run in the browser: latent map, decoding, interpolation, anomalies,
    topics and hidden states.

    latentmodels explore runs/demo/vae
    latentmodels explore runs/demo/lda --static lda.html
    """
    with clean_errors():
        try:
            from ..explore import ExploreSession, RunNotExplorable
            from ..explore.export import write_static_page
        except ImportError as exc:
            raise BadInput(f"explore needs its extra: pip install 'latentmodels[explore]' "
                           f"({exc})") from None
        if not 0 <= port <= 65535:
            raise BadInput(f"--port must be in [0, 65535], got {port}")
        if max_points < 1:
            raise BadInput(f"--max-points must be >= 1, got {max_points}")
        try:
            session = ExploreSession(run_dir, max_points=max_points)
        except RunNotExplorable as exc:
            raise BadInput(str(exc)) from None
        if static is not None:
            path = write_static_page(session, static)
            stdout().print(f"Wrote [bold]{path}[/bold] ({path.stat().st_size / 2**20:.1f} MB); "
                           "open it in a browser, no server needed")
            return
        try:
            from ..explore.server import serve
        except ImportError as exc:
            raise BadInput(f"explore needs its extra: pip install 'latentmodels[explore]' "
                           f"({exc})") from None
        serve(Path(run_dir), host=host, port=port, open_browser=not no_browser,
              session=session)


def register(app: typer.Typer) -> None:
    """Add ``explore`` to ``app``."""
    app.command()(explore)
