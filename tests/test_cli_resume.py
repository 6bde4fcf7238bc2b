"""`train hmm` and `train lda` checkpoint into OUT/checkpoints (--checkpoint-every N) and a
run killed mid-fit continues with --resume to the very model an uninterrupted run ends with."""

from __future__ import annotations

import json

import numpy as np
import pytest

from latentmodels._internal.checkpoints import Checkpointer
from latentmodels._internal.io import read_tensor_file
from tests.cli_helpers import invoke

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

HMM = ["train", "hmm", "--data", "geyser", "--columns", "waiting,duration", "--seed", 0,
       "--n-iter", 30, "--threads", 1, "--no-report"]
LDA = ["train", "lda", "--data", "newsgroups", "--limit", 80, "--topics", 3, "--n-iter", 8,
       "--threads", 1, "--no-report"]


class Killed(BaseException):
    """Stands for os._exit: not an Exception, so nothing on the way up handles it."""


def kill_after_save(monkeypatch, when):
    """Make a fit die right after writing the checkpoint for which ``when(path, iteration)``
    holds; returns the list of (folder name, iteration) of every checkpoint written."""
    original = Checkpointer.save
    written = []

    def save(self, iteration, arrays, extra):
        original(self, iteration, arrays, extra)
        written.append((self.path.parent.name, iteration))
        if when(self.path, iteration):
            raise Killed

    monkeypatch.setattr(Checkpointer, "save", save)
    return written


def model_tensors(out):
    document, tensors = read_tensor_file(out / "model.lm")
    return {name: tensor.numpy() for name, tensor in tensors.items()}


def assert_same_model(a, b):
    first, second = model_tensors(a), model_tensors(b)
    assert sorted(first) == sorted(second)
    for name in first:
        np.testing.assert_array_equal(first[name], second[name], err_msg=name)
    metrics = [json.loads((out / "run.json").read_text())["metrics"] for out in (a, b)]
    for metrics_of_run in metrics:
        metrics_of_run.pop("train_seconds")
    assert metrics[0] == metrics[1]


@pytest.mark.parametrize(
    "family, options, kill_at",
    [
        ("hmm", [*HMM, "--states", 2, "--checkpoint-every", 2], lambda path, it: it == 3),
        # --states auto: each candidate has its own folder; die inside the second one.
        ("hmm", [*HMM, "--states", "auto", "--max-states", 2, "--checkpoint-every", 2],
         lambda path, it: path.parent.name == "states-2" and it == 3),
        ("lda", [*LDA, "--checkpoint-every", 2], lambda path, it: it == 3),
    ],
    ids=["hmm", "hmm-auto", "lda"],
)
def test_a_killed_train_resumes_to_the_uninterrupted_model(
    family, options, kill_at, tmp_path, monkeypatch
):
    whole = invoke(*options, "--out", tmp_path / "whole")
    assert whole.exit_code == 0, whole.output
    assert (tmp_path / "whole" / "checkpoints").is_dir()

    out = tmp_path / "killed"
    kill_after_save(monkeypatch, kill_at)
    with pytest.raises(Killed):
        invoke(*options, "--out", out)
    assert not (out / "model.lm").exists()
    monkeypatch.undo()

    written = kill_after_save(monkeypatch, lambda path, it: False)
    resumed = invoke(*options, "--out", out, "--resume")
    assert resumed.exit_code == 0, resumed.output
    # It continued: no checkpoint of an iteration up to the kill was written again.
    killed_folder = "states-2" if family == "hmm" and "auto" in options else "checkpoints"
    assert [it for folder, it in written if folder == killed_folder][0] > 3
    assert_same_model(tmp_path / "whole", out)


def test_checkpoints_are_off_by_default_and_negative_every_is_refused(tmp_path):
    out = tmp_path / "plain"
    result = invoke(*HMM, "--states", 2, "--out", out)
    assert result.exit_code == 0, result.output
    assert not (out / "checkpoints").exists()
    result = invoke(*LDA, "--checkpoint-every", -1, "--out", tmp_path / "bad")
    assert result.exit_code == 2 and "--checkpoint-every must be >= 0" in result.stderr
