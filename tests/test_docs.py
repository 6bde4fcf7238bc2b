"""The documentation site builds, warnings as errors, so it cannot rot.

Building runs every gallery example (a failing example fails the build) and renders every
docstring into the API reference (a broken cross-reference or bad markup fails it). Skipped
with a reason when Sphinx and its extensions (the ``docs`` extra) are not installed; the
check that the reference lists every public name runs always.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
DOCS_PACKAGES = ("sphinx", "numpydoc", "sphinx_gallery", "myst_parser")
missing = [name for name in DOCS_PACKAGES if importlib.util.find_spec(name) is None]


def _api_reference_module():
    sys.path.insert(0, str(DOCS))
    try:
        import _api_reference
    finally:
        sys.path.remove(str(DOCS))
    return _api_reference


def _cli_verbs() -> list[tuple[str, ...]]:
    """Every command path of the Typer application (``("train", "pca")``, ``("edit",)``)."""
    import typer

    from latentmodels.cli.app import app

    sys.path.insert(0, str(DOCS))
    try:
        import _cli_reference
    finally:
        sys.path.remove(str(DOCS))
    return [path for path, _ in _cli_reference._commands(typer.main.get_command(app)) if path]


def test_api_reference_lists_every_public_name(tmp_path):
    import latentmodels

    reference = _api_reference_module()
    target = tmp_path / "api.rst"
    reference.write_api_reference(target)
    listed = {line.strip() for line in target.read_text().splitlines()
              if line.startswith("   ") and not line.strip().startswith(":")}
    assert {f"{name}" for name in latentmodels._PUBLIC} <= listed
    for module_name, _intro in reference.MODULES.values():
        for name in reference.public_names(module_name):
            module = importlib.import_module(module_name)
            obj = getattr(module, name)
            top_level = [n for n in latentmodels._PUBLIC if getattr(latentmodels, n) is obj]
            assert name in listed or top_level, f"{module_name}.{name} is not in the reference"


@pytest.mark.slow
@pytest.mark.skipif(bool(missing), reason=f"docs extra not installed (missing {missing})")
def test_docs_build_without_warnings_and_show_every_example(tmp_path):
    out = tmp_path / "html"
    result = subprocess.run(
        # run_stale_examples: run every example, not only those changed since the last
        # build in this checkout (sphinx-gallery keeps their results in docs/auto_examples)
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-D", "sphinx_gallery_conf.run_stale_examples=1",
         "-d", str(tmp_path / "doctrees"), str(DOCS), str(out)],
        capture_output=True, text=True, timeout=900, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    assert (out / "index.html").is_file()
    examples = sorted((DOCS / "examples").glob("plot_*.py"))
    assert len(examples) >= 12
    for example in examples:
        page = (out / "auto_examples" / f"{example.stem}.html").read_text(encoding="utf-8")
        assert page.count(f"sphx_glr_{example.stem}_0") >= 1, f"{example.name} drew no picture"
        pictures = [image.read_bytes()
                    for image in (out / "_images").glob(f"sphx_glr_{example.stem}_[0-9]*.png")]
        assert len(set(pictures)) == len(pictures), f"{example.name} shows a picture twice"
    reference = _api_reference_module()
    api_index = (out / "generated" / "api.html").read_text(encoding="utf-8")
    entries = reference.all_entries()
    assert len(entries) > 100  # the top-level names and every public sub-package's names
    for entry in entries:  # every public name has its own page, linked from the index
        assert (out / "generated" / f"{entry}.html").is_file(), entry
        assert f'href="{entry}.html' in api_index, entry
    verbs = [" ".join(path) for path in _cli_verbs()]
    assert {"train pca", "train ppca", "train fa", "edit", "erase", "explore",
            "rerun"} <= set(verbs)
    cli_page = (out / "generated" / "cli.html").read_text(encoding="utf-8")
    guide_page = (out / "guide" / "cli.html").read_text(encoding="utf-8")
    guide_code = {re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", code)).strip()
                  for code in re.findall(r"<code[^>]*>(.*?)</code>", guide_page, flags=re.S)}
    for verb in verbs:  # each verb's --help in the reference, and a row in the guide's table
        assert f"Usage: latentmodels {verb} " in cli_page, verb
        assert verb in guide_code, f"the CLI guide does not name `{verb}`"
    # nothing is fetched when a page opens: no remote scripts, stylesheets or fonts
    remote_asset = re.compile(r'<(?:script|link|img)[^>]*(?:src|href)="(?:https?:)?//')
    for html in out.rglob("*.html"):
        assert not remote_asset.search(html.read_text(encoding="utf-8")), html.name
