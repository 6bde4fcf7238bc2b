"""Every code block of README.md runs as typed: Python blocks in a fresh interpreter, bash
blocks in bash with ``latentmodels`` on the PATH, one command at a time, in one scratch
folder (later blocks use what earlier ones wrote). A block is left out only when the line
before it is a ``<!-- readme-test: skip (reason) -->`` comment.

Commands that share no file or run folder run two at a time (most of their time is the
interpreter's start-up, one core each); a command waits for every earlier one that names a
path it names, and a Python block waits for everything before it and holds back everything
after it, since it may read or write anything."""

from __future__ import annotations

import os
import re
import shlex
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
# Commands run side by side at most; one core is enough for an interpreter's start-up.
WORKERS = 2
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


@dataclass
class Step:
    line: int  # the README line the command (or Python block) starts at
    language: str
    command: list[str]
    paths: frozenset[str]  # the files and run folders it names (none for a Python block)

    @property
    def barrier(self) -> bool:
        """A Python block may touch any file: it waits for all before it, all after wait."""
        return self.language == "python"


def _named_paths(command: str) -> frozenset[str]:
    """The files and run folders a command line names: words with a ``/`` or an extension,
    ``runs/NAME/...`` folded to ``runs/NAME`` (the run folder is what later commands use)."""
    words = shlex.split(command, comments=True)
    paths = set()
    for word in words:
        if word.startswith("-") or not ("/" in word or re.search(r"\.\w+$", word)):
            continue
        parts = Path(word).parts
        paths.add("/".join(parts[:2]) if parts[0] == "runs" and len(parts) > 1 else parts[0])
    return frozenset(paths)


def readme_steps(blocks: list[Block]) -> list[Step]:
    """The blocks as steps: a Python block is one step, a shell block one per command."""
    steps = []
    for block in blocks:
        if block.language == "python":
            steps.append(Step(block.line, "python", [sys.executable, "-c", block.code],
                              frozenset()))
            continue
        code = _console_commands(block.code) if block.language == "console" else block.code
        for offset, line in enumerate(code.splitlines()):
            if line.strip() and not line.lstrip().startswith("#"):
                steps.append(Step(block.line + 1 + offset, block.language,
                                  ["bash", "-e", "-o", "pipefail", "-c", line],
                                  _named_paths(line)))
    return steps


def step_dependencies(steps: list[Step]) -> list[set[int]]:
    """For each step, the earlier steps it must wait for (indices into ``steps``)."""
    dependencies: list[set[int]] = []
    last_barrier = 0  # nothing before the latest barrier needs naming: it waited for all
    for index, step in enumerate(steps):
        if step.barrier:
            waits, last_barrier = set(range(index)), index
        else:
            waits = {earlier for earlier in range(last_barrier, index)
                     if steps[earlier].barrier or steps[earlier].paths & step.paths}
        dependencies.append(waits)
    return dependencies


def test_steps_wait_for_the_commands_whose_files_they_use():
    text = ("```python\nopen('a.csv', 'w')\n```\n```bash\n"
            "latentmodels train vae --data a.csv --out runs/vae  # comment with b.png\n"
            "latentmodels train lda --data newsgroups --out runs/lda\n"
            "latentmodels sample runs/vae -n 4 --out s.png\n"
            "latentmodels report runs/vae/report.html\n"
            "```\n```python\nprint(1)\n```\n```bash\nlatentmodels topics runs/lda\n```\n")
    steps = readme_steps(readme_blocks(text))
    assert [s.line for s in steps] == [1, 5, 6, 7, 8, 10, 14]
    assert steps[1].paths == {"a.csv", "runs/vae"}
    assert steps[2].paths == {"runs/lda"}
    assert steps[4].paths == {"runs/vae"}
    assert step_dependencies(steps) == [set(), {0}, {0}, {0, 1}, {0, 1, 3},
                                        {0, 1, 2, 3, 4}, {5}]


@pytest.mark.slow
def test_every_readme_block_runs_as_typed(tmp_path):
    blocks = [b for b in readme_blocks(README.read_text(encoding="utf-8"))
              if b.language in RUN_LANGUAGES and b.skip_reason is None]
    steps = readme_steps(blocks)
    if not HAVE_FACES:  # the photos are not bundled; CI has them in ../shared/data
        steps = [step for step in steps if "faces" not in step.command[-1]]
    dependencies = step_dependencies(steps)
    work = tmp_path / "work"
    work.mkdir()
    logs = tmp_path / "logs"
    logs.mkdir()
    env = dict(os.environ)
    env["PATH"] = f"{_latentmodels_on_path(tmp_path / 'bin')}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["MPLBACKEND"] = "Agg"
    timings = {}
    running: dict[int, tuple[subprocess.Popen, float]] = {}
    pending = list(range(len(steps)))
    done: set[int] = set()
    try:
        while pending or running:
            # a barrier is ready only when all before it are done, and all after wait for it
            for index in [i for i in pending if dependencies[i] <= done]:
                if len(running) >= WORKERS:
                    break
                pending.remove(index)
                with open(logs / f"{steps[index].line}.out", "w") as out:
                    process = subprocess.Popen(steps[index].command, cwd=work, env=env,
                                               stdout=out, stderr=subprocess.STDOUT, text=True)
                running[index] = (process, time.perf_counter())
            time.sleep(0.05)
            for index, (process, started) in list(running.items()):
                step, elapsed = steps[index], time.perf_counter() - started
                if process.poll() is None:
                    if elapsed > BLOCK_BUDGET_S:
                        pytest.fail(f"README.md line {step.line} ({step.language}) ran over "
                                    f"{BLOCK_BUDGET_S} s; README examples must be quick")
                    continue
                del running[index]
                timings[step.line] = round(elapsed, 1)
                output = (logs / f"{step.line}.out").read_text(errors="replace")
                assert process.returncode == 0, (
                    f"README.md line {step.line} ({step.language}) failed with exit code "
                    f"{process.returncode}:\n{output[-6000:]}")
                done.add(index)
    finally:
        for process, _ in running.values():
            process.kill()
            process.wait()
    print("README block timings (line, seconds):", sorted(timings.items()))
    # What the blocks claim to write is there.
    for name in ("vae.lm", "map.png", "samples.png", "codes.npy", "recon.png", "strip.png",
                 "states.csv", "topics.csv", "theta.npy", "runs/vae/report.html",
                 "runs/lda/report.html", "runs/posts/report.html"):
        assert (work / name).stat().st_size > 0, name
    if HAVE_FACES:  # the faces example's lighting strip is in its report
        report = (work / "runs/faces/report.html").read_text(encoding="utf-8")
        assert "Factor control" in report and "lighting" in report
