"""Every code block of README.md runs as typed: Python blocks in a fresh interpreter, bash
blocks in bash with ``latentmodels`` on the PATH, in order, in one scratch folder (later
blocks use what earlier ones wrote). A block is left out only when the line before it is a
``<!-- readme-test: skip (reason) -->`` comment."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
RUN_LANGUAGES = {"python", "bash", "console"}
NOT_CODE = {"text"}  # a directory tree and the like: shown, never run
SKIP_MARKER = re.compile(r"^<!-- readme-test: skip \((?P<reason>[^)]+)\) -->$")
# A guard against a block that hangs or trains for real: each takes well under a minute on a
# quiet 2-core machine, and this leaves room for a machine shared with other test runs.
BLOCK_BUDGET_S = 600
MAX_SKIPPED = 2
# The faces example needs the Olivetti photos, which are not bundled: a user's clone without
# ../shared runs the README without it (CI has them).
HAVE_FACES = (REPO.parent / "shared" / "data" / "olivetti_faces.npz").is_file()


@dataclass
class Block:
    language: str
    code: str
    line: int  # where the block's fence opens, counted from 1
    skip_reason: str | None


def readme_blocks(text: str) -> list[Block]:
    """The fenced code blocks of ``text``, with the skip reason of those marked."""
    blocks: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        fence = re.match(r"^```(\S*)\s*$", lines[index])
        if not fence:
            index += 1
            continue
        start = index
        end = start + 1
        while end < len(lines) and lines[end].rstrip() != "```":
            end += 1
        if end == len(lines):
            raise ValueError(f"README.md line {start + 1}: code block is never closed")
        previous = lines[start - 1].strip() if start else ""
        marker = SKIP_MARKER.match(previous)
        blocks.append(Block(fence.group(1), "\n".join(lines[start + 1:end]) + "\n", start + 1,
                            marker.group("reason") if marker else None))
        index = end + 1
    return blocks


def _latentmodels_on_path(folder: Path) -> Path:
    """A ``latentmodels`` command that runs this checkout's CLI with this interpreter."""
    folder.mkdir()
    script = folder / "latentmodels"
    script.write_text(
        "#!/bin/sh\n"
        f'exec "{sys.executable}" -c "import sys; sys.argv[0] = \'latentmodels\'; '
        'from latentmodels.cli import main; sys.exit(main())" "$@"\n'
    )
    script.chmod(0o755)
    return folder


def _console_commands(code: str) -> str:
    """The commands of a console block: lines after a ``$`` prompt."""
    return "\n".join(line[2:] for line in code.splitlines() if line.startswith("$ ")) + "\n"


def test_readme_blocks_are_tagged_and_skips_are_few_and_explained():
    blocks = readme_blocks(README.read_text(encoding="utf-8"))
    untagged = [b.line for b in blocks if b.language not in RUN_LANGUAGES | NOT_CODE]
    assert not untagged, f"README.md blocks without a known language tag at lines {untagged}"
    skipped = [b for b in blocks if b.skip_reason is not None]
    assert len(skipped) <= MAX_SKIPPED, [(b.line, b.skip_reason) for b in skipped]
    assert all(len(b.skip_reason.split()) >= 3 for b in skipped)
    run = [b for b in blocks if b.language in RUN_LANGUAGES and b.skip_reason is None]
    assert sum(b.language == "python" for b in run) >= 3 and sum(b.language != "python"
                                                                 for b in run) >= 2
    # The set-up contract stays at the top: make demo and make test.
    assert blocks[0].skip_reason and "make demo" in blocks[0].code and "make test" in blocks[0].code


def test_block_parser_reads_languages_markers_and_lines():
    text = ("intro\n```python\nx = 1\n```\n<!-- readme-test: skip (needs a GPU here) -->\n"
            "```bash\nnvidia-smi\n```\n```text\ntree\n```\n")
    blocks = readme_blocks(text)
    assert [(b.language, b.line, b.skip_reason) for b in blocks] == [
        ("python", 2, None), ("bash", 6, "needs a GPU here"), ("text", 9, None)]
    assert blocks[0].code == "x = 1\n"
    assert _console_commands("$ latentmodels --help\nUsage: ...\n") == "latentmodels --help\n"
    with pytest.raises(ValueError, match="line 1"):
        readme_blocks("```python\nx = 1\n")


@pytest.mark.slow
def test_every_readme_block_runs_as_typed(tmp_path):
    blocks = [b for b in readme_blocks(README.read_text(encoding="utf-8"))
              if b.language in RUN_LANGUAGES and b.skip_reason is None]
    work = tmp_path / "work"
    work.mkdir()
    env = dict(os.environ)
    env["PATH"] = f"{_latentmodels_on_path(tmp_path / 'bin')}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["MPLBACKEND"] = "Agg"
    timings = []
    for block in blocks:
        if block.language == "python":
            steps = [(block.line, [sys.executable, "-c", block.code])]
        else:
            # one command at a time: each gets the budget, and a failure names its line
            code = _console_commands(block.code) if block.language == "console" else block.code
            steps = [(block.line + 1 + offset, ["bash", "-e", "-o", "pipefail", "-c", line])
                     for offset, line in enumerate(code.splitlines())
                     if line.strip() and not line.lstrip().startswith("#")]
        for line, command in steps:
            if not HAVE_FACES and "faces" in command[-1]:
                continue  # the photos are not bundled; CI has them in ../shared/data
            started = time.perf_counter()
            try:
                result = subprocess.run(command, cwd=work, env=env, capture_output=True,
                                        text=True, timeout=BLOCK_BUDGET_S)
            except subprocess.TimeoutExpired:
                pytest.fail(f"README.md line {line} ({block.language}) ran over "
                            f"{BLOCK_BUDGET_S} s; README examples must be quick")
            timings.append((line, round(time.perf_counter() - started, 1)))
            assert result.returncode == 0, (
                f"README.md line {line} ({block.language}) failed with exit code "
                f"{result.returncode}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    print("README block timings (line, seconds):", timings)
    # What the blocks claim to write is there.
    for name in ("vae.lm", "map.png", "samples.png", "codes.npy", "recon.png", "strip.png",
                 "states.csv", "topics.csv", "theta.npy", "runs/vae/report.html",
                 "runs/lda/report.html", "runs/posts/report.html"):
        assert (work / name).stat().st_size > 0, name
    if HAVE_FACES:  # the faces example's lighting strip is in its report
        report = (work / "runs/faces/report.html").read_text(encoding="utf-8")
        assert "Factor control" in report and "lighting" in report
