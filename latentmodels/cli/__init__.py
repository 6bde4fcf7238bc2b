"""The ``latentmodels`` command line: one module per verb group."""

from .app import app, main

__all__ = ["app", "main"]
