"""Sphinx configuration: user guide (markdown through MyST), API reference (autosummary +
numpydoc) and an example gallery (sphinx-gallery) whose scripts run at every build.

Everything the site needs ships with the packages: the alabaster theme, no web fonts, no
MathJax from a CDN, no intersphinx inventories, so ``make docs`` works offline and the
HTML opens from disk.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

# One thread per numeric library unless the caller says otherwise: the gallery's models are
# tiny, and on a shared machine OpenMP threads spinning for a busy core made the build
# several times slower (t-SNE of 500 codes: 33 s of CPU with two threads, 2.6 s with one).
# Set before numpy, torch, numba or scikit-learn load, which read them once. numba's own
# count matters too: LDA sets it, and with numba's OpenMP layer that also sets torch's.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import matplotlib  # noqa: E402

matplotlib.use("Agg")  # gallery scripts draw without a display

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))
sys.path.insert(0, str(DOCS))

from _api_reference import all_entries, write_api_reference  # noqa: E402
from _cli_reference import write_cli_reference  # noqa: E402

import latentmodels  # noqa: E402

# Generated pages: written here, before Sphinx looks for source files, so a fresh clone
# builds in one pass. The API index lists every public name; the CLI page every verb's --help.
write_api_reference(DOCS / "generated" / "api.rst")
write_cli_reference(DOCS / "generated" / "cli.md")

project = "latentmodels"
author = "the latentmodels developers"
release = version = latentmodels.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "generated/README*", "examples/README.txt", "auto_examples/*.ipynb",
                    "auto_examples/*.py", "auto_examples/*.zip", "auto_examples/*.md5",
                    "auto_examples/*.codeobj.json",
                    "sg_execution_times.rst", "auto_examples/sg_execution_times.rst"]
templates_path = ["_templates"]

# MyST: heading anchors so README-style links (#your-own-data) resolve; $...$ stays literal.
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

# API reference: one page per public name, generated from the numpy-style docstrings.
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True, "inherited-members": True, "show-inheritance": True}
autodoc_typehints = "none"  # numpydoc prints the types from the docstring
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# Every cross-reference must resolve: a broken one fails the -W build. The exceptions are
# scikit-learn's and the standard library's base classes named in "Bases:" lines: without
# network access there is no intersphinx inventory to link them to.
nitpicky = True
nitpick_ignore_regex = [("py:class", r"sklearn\.base\.\w+"), ("py:class", r"abc\.ABC")]

# Example gallery: every script runs at build time; a failing script fails the build.
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "image_scrapers": ("_gallery_scraper", "matplotlib"),  # this order: see _gallery_scraper
    "reset_modules": ("matplotlib",),
    "min_reported_time": 1,
    "show_memory": False,
    "write_computation_times": False,  # its page loads DataTables from a CDN
    "first_notebook_cell": None,
    "plot_gallery": os.environ.get("LATENTMODELS_DOCS_GALLERY", "True"),
}

html_theme = "alabaster"
html_title = f"latentmodels {release}"
html_static_path: list[str] = []
html_theme_options = {
    "description": "Latent variable models with one contract",
    "fixed_sidebar": True,
    "show_relbars": True,
}
html_show_sourcelink = False
html_copy_source = False
# MathJax would come from a CDN; nothing here needs LaTeX rendering.
mathjax_path = "no-mathjax.js"  # never fetched: no page has math


def skip_foreign_member(app, what, name, obj, skip, options):
    """Leave out members scikit-learn defines (``set_*_request``, ``score`` of mixins): their
    docstrings point into scikit-learn's own site, which is not bundled here."""
    module = getattr(obj, "__module__", None) or ""
    qualname = getattr(obj, "__qualname__", "")
    if module.startswith("sklearn") or "RequestMethod" in qualname:
        return True
    return None


def _documented_classes() -> set[type]:
    classes = set()
    for entry in all_entries():
        module_name, _, name = entry.rpartition(".")
        obj = getattr(importlib.import_module(module_name), name)
        if isinstance(obj, type):
            classes.add(obj)
    return classes


DOCUMENTED_CLASSES = _documented_classes()


def public_bases(app, name, obj, options, bases):
    """Show only bases a reader can click: a private base of the library (``_base.DeepLatentModel``)
    is replaced by the nearest documented class above it, or left out."""
    shown: list[type] = []
    for base in bases:
        module = getattr(base, "__module__", "")
        if base in DOCUMENTED_CLASSES or not module.startswith("latentmodels"):
            candidates = [base]
        else:
            candidates = [ancestor for ancestor in base.__mro__[1:]
                          if ancestor in DOCUMENTED_CLASSES][:1]
        shown += [candidate for candidate in candidates if candidate not in shown]
    bases[:] = shown or [object]


def setup(app):
    app.connect("autodoc-skip-member", skip_foreign_member)
    app.connect("autodoc-process-bases", public_bases)
