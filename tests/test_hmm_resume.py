"""A killed HMM fit resumes from its last checkpoint and ends exactly where an uninterrupted
fit with the same seed ends: parameters bit for bit and the monitor's history (Gaussian and
categorical emissions, several initialisations, a fit killed twice, an unseeded fit); wrong
or tampered checkpoints are refused; only rank 0 writes under torchrun."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from latentmodels._internal.io import ModelFileError, read_tensor_file, write_tensor_file
from latentmodels.hmm import BaseHMM, CategoricalHMM, GaussianHMM, MultinomialHMM

ROOT = Path(__file__).resolve().parents[1]


def sequences(kind: str) -> tuple[np.ndarray, list[int]]:
    """Four sequences from a planted 3-state chain (real features or symbols)."""
    rng = np.random.default_rng(7)
    trans = np.array([[0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.05, 0.15, 0.8]])
    states = [0]
    for _ in range(239):
        states.append(rng.choice(3, p=trans[states[-1]]))
    states = np.array(states)
    if kind == "gaussian":
        X = np.array([[0.0, 0.0], [3.0, 1.0], [0.0, 4.0]])[states] + rng.normal(size=(240, 2))
    else:
        probs = np.array([[0.7, 0.2, 0.05, 0.05], [0.1, 0.6, 0.2, 0.1], [0.05, 0.05, 0.3, 0.6]])
        X = np.array([[rng.choice(4, p=probs[s])] for s in states])
    return X, [60, 60, 60, 60]


SETTINGS = {
    "gaussian": dict(n_components=3, covariance_type="full", n_iter=10, tol=-np.inf),
    "gaussian-inits": dict(n_components=3, n_iter=6, tol=-np.inf, n_init=2),
    "categorical": dict(n_components=3, n_iter=15, tol=1e-6),
}
CLASS = {"gaussian": GaussianHMM, "gaussian-inits": GaussianHMM, "categorical": CategoricalHMM}

KILLED_FIT = textwrap.dedent(
    """
    import json, os, sys
    from latentmodels.hmm import BaseHMM
    from tests.test_hmm_resume import CLASS, SETTINGS, sequences

    which, kill_at, directory, seed, resume = sys.argv[1:6]
    m_step = BaseHMM._m_step
    calls = [0]

    def dying(self, stats):
        calls[0] += 1
        if calls[0] == int(kill_at):
            os._exit(17)  # no cleanup, no atexit: as if the machine went away
        return m_step(self, stats)

    BaseHMM._m_step = dying
    X, lengths = sequences(which.split("-")[0])
    CLASS[which](random_state=None if seed == "none" else int(seed), checkpoint_dir=directory,
                 checkpoint_every=3, **SETTINGS[which]).fit(X, lengths, resume=resume == "resume")
    os._exit(0)
    """
)


def killed_fit(which: str, kill_at: int, directory: Path, seed: int | None = 0,
               resume: bool = False) -> int:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", KILLED_FIT, which, str(kill_at), str(directory),
         "none" if seed is None else str(seed), "resume" if resume else "fresh"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode in (0, 17), result.stderr
    return result.returncode


def fitted(which: str, seed: int | None = 0, **extra) -> BaseHMM:
    X, lengths = sequences(which.split("-")[0])
    model = CLASS[which](random_state=seed, **SETTINGS[which], **extra)
    return model.fit(X, lengths, resume="checkpoint_dir" in extra)


@pytest.fixture(scope="module")
def reference():
    return {which: fitted(which) for which in SETTINGS}


def assert_identical(resumed: BaseHMM, reference: BaseHMM) -> None:
    """Bit for bit: every learned array, the monitor's history and iteration count."""
    ours, theirs = resumed._learned_arrays(), reference._learned_arrays()
    assert sorted(ours) == sorted(theirs)
    for name in ours:
        np.testing.assert_array_equal(ours[name], theirs[name], err_msg=name)
    assert resumed.monitor_.history == reference.monitor_.history
    assert (resumed.monitor_.iter, resumed.n_iter_) == (reference.monitor_.iter, reference.n_iter_)
    assert resumed.monitor_.converged == reference.monitor_.converged


@pytest.mark.slow
@pytest.mark.parametrize(
    "which, kill_at",
    [
        ("gaussian", 5),  # between checkpoints (written after iterations 3, 6, 9, 10)
        ("gaussian", 10),  # in the very last iteration
        ("gaussian-inits", 9),  # second initialisation, before its first checkpoint
        ("gaussian-inits", 11),  # second initialisation, after one: the best of the first kept
        ("categorical", 8),
    ],
)
def test_a_killed_fit_resumes_to_the_uninterrupted_result(which, kill_at, reference, tmp_path):
    assert killed_fit(which, kill_at, tmp_path) == 17
    assert (tmp_path / "hmm_checkpoint.safetensors").is_file()
    assert not list(tmp_path.glob(".*.tmp")), "a checkpoint was left half-written"
    resumed = fitted(which, checkpoint_dir=tmp_path, checkpoint_every=3)
    assert_identical(resumed, reference[which])


@pytest.mark.slow
def test_a_fit_killed_twice_and_unseeded_still_ends_identically(tmp_path):
    assert killed_fit("gaussian", 4, tmp_path, seed=None) == 17
    assert killed_fit("gaussian", 3, tmp_path, seed=None, resume=True) == 17  # dies again
    resumed = fitted("gaussian", seed=None, checkpoint_dir=tmp_path, checkpoint_every=3)
    seed = read_tensor_file(tmp_path / "hmm_checkpoint.safetensors")[0]["signature"]["seed"]
    assert_identical(resumed, fitted("gaussian", seed=seed))


def test_checkpointing_does_not_change_the_fit_and_writes_safetensors(reference, tmp_path):
    for which in ("gaussian", "categorical"):
        checkpointed = fitted(which, checkpoint_dir=tmp_path / which, checkpoint_every=4)
        assert_identical(checkpointed, reference[which])
        files = sorted(p.name for p in (tmp_path / which).iterdir())
        assert files == ["hmm_checkpoint.safetensors"]  # no temporary file left behind
        document, tensors = read_tensor_file(tmp_path / which / "hmm_checkpoint.safetensors")
        assert document["kind"] == "hmm-checkpoint"
        assert document["extra"]["done"] is True
        assert document["extra"]["history"] == reference[which].monitor_.history
        np.testing.assert_array_equal(tensors["transmat_"].numpy(), reference[which].transmat_)


def test_resuming_a_finished_fit_runs_no_em_iteration(reference, tmp_path, monkeypatch):
    fitted("gaussian-inits", checkpoint_dir=tmp_path)
    calls = []
    m_step = BaseHMM._m_step
    monkeypatch.setattr(BaseHMM, "_m_step", lambda self, s: calls.append(1) or m_step(self, s))
    assert_identical(fitted("gaussian-inits", checkpoint_dir=tmp_path), reference["gaussian-inits"])
    assert calls == []


def test_resume_without_a_checkpoint_starts_afresh(reference, tmp_path):
    assert_identical(fitted("categorical", checkpoint_dir=tmp_path / "empty"),
                     reference["categorical"])


def test_resume_needs_a_checkpoint_dir_and_the_same_data_and_settings(tmp_path):
    X, lengths = sequences("gaussian")
    with pytest.raises(ValueError, match=r"^resume: resume=True needs checkpoint_dir"):
        GaussianHMM(2, n_iter=3).fit(X, lengths, resume=True)
    with pytest.raises(ValueError, match=r"checkpoint_every needs checkpoint_dir"):
        GaussianHMM(2, n_iter=3, checkpoint_every=2).fit(X, lengths)
    with pytest.raises(TypeError, match=r"^resume must be True or False"):
        GaussianHMM(2, n_iter=3, checkpoint_dir=tmp_path).fit(X, lengths, resume="yes")
    with pytest.raises(ValueError, match=r"^checkpoint_every must be None or an integer >= 1"):
        GaussianHMM(2, checkpoint_dir=tmp_path, checkpoint_every=0).fit(X, lengths)
    (tmp_path / "a_file").write_text("")
    with pytest.raises(ValueError, match=r"^checkpoint_dir: .*a_file exists and is not a folder"):
        GaussianHMM(2, n_iter=3, checkpoint_dir=tmp_path / "a_file").fit(X, lengths)
    GaussianHMM(2, n_iter=3, random_state=0, checkpoint_dir=tmp_path).fit(X, lengths)
    settings = dict(n_iter=3, random_state=0, checkpoint_dir=tmp_path)
    with pytest.raises(ValueError, match=r"^resume: .*different settings or data \(n_components"):
        GaussianHMM(3, **settings).fit(X, lengths, resume=True)
    with pytest.raises(ValueError, match=r"^resume: .*different settings or data \(data\)"):
        GaussianHMM(2, **settings).fit(X[:200], [50, 50, 50, 50], resume=True)
    with pytest.raises(ValueError, match=r"^resume: .*different settings or data \(data\)"):
        GaussianHMM(2, **settings).fit(X, [120, 120], resume=True)  # same rows, other lengths
    with pytest.raises(ValueError, match=r"^resume: .*settings or data \(random_state, seed\)"):
        GaussianHMM(2, **{**settings, "random_state": 1}).fit(X, lengths, resume=True)
    with pytest.raises(ValueError, match=r"^resume: .*\(class, covars_prior, .*n_mix"):
        from latentmodels.hmm import GMMHMM

        GMMHMM(2, **settings).fit(X, lengths, resume=True)
    # what may change: verbosity, checkpoint frequency
    GaussianHMM(2, **settings, verbose=True, checkpoint_every=2).fit(X, lengths, resume=True)


def test_parameters_set_by_hand_and_kept_are_part_of_the_signature(tmp_path):
    X, lengths = sequences("gaussian")
    model = GaussianHMM(2, n_iter=3, random_state=0, init_params="mc", checkpoint_dir=tmp_path)
    model.startprob_, model.transmat_ = np.array([0.5, 0.5]), np.array([[0.9, 0.1], [0.2, 0.8]])
    model.fit(X, lengths)
    again = GaussianHMM(2, n_iter=3, random_state=0, init_params="mc", checkpoint_dir=tmp_path)
    again.startprob_, again.transmat_ = np.array([0.5, 0.5]), np.array([[0.8, 0.2], [0.2, 0.8]])
    with pytest.raises(ValueError, match=r"\(kept_parameters\)"):
        again.fit(X, lengths, resume=True)


@pytest.mark.parametrize(
    "tamper, message",
    [
        (lambda t, d: t.update(transmat_=t["transmat_"][:1]), "'transmat_' has shape"),
        (lambda t, d: t["means_"].fill_(float("nan")), "'means_' holds non-finite values"),
        (lambda t, d: t["transmat_"].mul_(2.0), "parameters are not valid: transmat_"),
        (lambda t, d: d["extra"].update(history=[1.0]), "objective values for 3 iterations"),
        (lambda t, d: d["extra"].update(run=5), "'run' must be an integer in \\[0, 0\\]"),
        (lambda t, d: t.update(evil=t["means_"].clone()), "unknown fields \\['evil'\\]"),
        (lambda t, d: d.update(kind="lda-checkpoint"), "is not a hmm-checkpoint file"),
    ],
)
def test_a_tampered_checkpoint_is_refused(tamper, message, tmp_path):
    X, lengths = sequences("gaussian")
    settings = dict(n_iter=3, random_state=0, checkpoint_dir=tmp_path)
    GaussianHMM(2, **settings).fit(X, lengths)
    path = tmp_path / "hmm_checkpoint.safetensors"
    document, tensors = read_tensor_file(path)
    tamper(tensors, document)
    document = {k: v for k, v in document.items() if k not in ("format", "format_version")}
    write_tensor_file(path, tensors, document)
    with pytest.raises(ModelFileError, match=message):
        GaussianHMM(2, **settings).fit(X, lengths, resume=True)


def test_a_pickle_in_place_of_a_checkpoint_is_never_loaded(tmp_path):
    X, lengths = sequences("gaussian")
    (tmp_path / "hmm_checkpoint.safetensors").write_bytes(b"\x80\x04\x95 not a checkpoint")
    with pytest.raises(ModelFileError, match="is a Python pickle"):
        GaussianHMM(2, n_iter=2, checkpoint_dir=tmp_path).fit(X, lengths, resume=True)


def test_a_rank_other_than_0_writes_no_checkpoint(tmp_path, monkeypatch):
    from latentmodels.hmm import _resume

    monkeypatch.setattr(_resume, "distributed_info", lambda: (1, 2))
    X, lengths = sequences("gaussian")
    GaussianHMM(2, n_iter=3, random_state=0, checkpoint_dir=tmp_path).fit(X, lengths)
    assert list(tmp_path.iterdir()) == []


def test_new_hyperparameters_keep_the_estimator_contract(tmp_path):
    from sklearn.base import clone

    model = GaussianHMM(2, checkpoint_dir=tmp_path, checkpoint_every=5)
    assert clone(model).get_params()["checkpoint_every"] == 5
    assert GaussianHMM().get_params()["checkpoint_dir"] is None
    path = GaussianHMM(2, n_iter=2, random_state=0, checkpoint_dir=tmp_path).fit(
        sequences("gaussian")[0]).save(tmp_path / "model.lm")
    assert GaussianHMM.load(path).checkpoint_dir == str(tmp_path)


def test_a_multinomial_hmm_fitted_without_n_trials_samples_after_reloading(tmp_path):
    rng = np.random.default_rng(0)
    X = np.r_[rng.multinomial(6, [0.8, 0.1, 0.1], 40), rng.multinomial(6, [0.1, 0.1, 0.8], 40)]
    model = MultinomialHMM(2, n_iter=10, random_state=0).fit(X)
    assert model.n_trials_ == 6
    loaded = MultinomialHMM.load(model.save(tmp_path / "multinomial.lm"))
    assert loaded.n_trials_ == 6
    sample, states = loaded.sample(20, random_state=0)
    assert sample.shape == (20, 3) and (sample.sum(axis=1) == 6).all()
    np.testing.assert_array_equal(sample, model.sample(20, random_state=0)[0])
    # rows with different totals: nothing to sample with, and loading keeps that
    uneven = np.r_[X[:40], X[40:] * 2]
    model = MultinomialHMM(2, n_iter=3, random_state=0).fit(uneven)
    loaded = MultinomialHMM.load(model.save(tmp_path / "uneven.lm"))
    assert loaded.n_trials_ is None
    with pytest.raises(ValueError, match="n_trials must be one integer"):
        loaded.sample(3)


def test_a_saved_n_trials_that_is_not_a_count_is_refused(tmp_path):
    X = np.random.default_rng(0).multinomial(4, [0.5, 0.5], 30)
    path = MultinomialHMM(2, n_iter=2, random_state=0).fit(X).save(tmp_path / "m.lm")
    document, tensors = read_tensor_file(path)
    document["attributes"]["n_trials_"] = -3
    document = {k: v for k, v in document.items() if k not in ("format", "format_version")}
    write_tensor_file(path, tensors, document)
    with pytest.raises(ModelFileError, match="n_trials_"):
        MultinomialHMM.load(path)


TORCHRUN_SCRIPT = textwrap.dedent(
    """
    import os, sys
    import numpy as np
    from latentmodels._internal import io
    from latentmodels.hmm import BaseHMM, GaussianHMM
    from tests.test_hmm_resume import sequences

    rank = int(os.environ["RANK"])
    folder = sys.argv[1]
    writes = []
    write = io.write_tensor_file
    io.write_tensor_file = lambda *a, **k: writes.append(1) or write(*a, **k)
    X, lengths = sequences("gaussian")
    part = slice(0, 120) if rank == 0 else slice(120, 240)
    settings = dict(n_components=3, n_iter=8, tol=-np.inf, random_state=0)
    reference = GaussianHMM(**settings).fit(X[part], [60, 60])

    m_step, calls = BaseHMM._m_step, [0]

    def failing(self, stats):  # every rank stops in the same M-step, as a killed job does
        calls[0] += 1
        if calls[0] == 5:
            raise KeyboardInterrupt
        return m_step(self, stats)

    BaseHMM._m_step = failing
    try:
        GaussianHMM(**settings, checkpoint_dir=folder, checkpoint_every=3).fit(X[part], [60, 60])
    except KeyboardInterrupt:
        pass
    BaseHMM._m_step = m_step
    resumed = GaussianHMM(**settings, checkpoint_dir=folder, checkpoint_every=3).fit(
        X[part], [60, 60], resume=True)
    np.savez(os.path.join(folder, f"rank{rank}.npz"), writes=len(writes),
             same=all((a == b).all() for a, b in zip(
                 resumed._learned_arrays().values(), reference._learned_arrays().values())),
             same_history=resumed.monitor_.history == reference.monitor_.history)
    """
)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="torchrun with gloo on Linux/macOS")
def test_under_torchrun_rank_0_writes_and_every_rank_resumes_exactly(tmp_path):
    (tmp_path / "fit.py").write_text(TORCHRUN_SCRIPT)
    torchrun = Path(sys.executable).with_name("torchrun")
    command = (
        [str(torchrun)] if torchrun.exists() else [sys.executable, "-m", "torch.distributed.run"]
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1",
           "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [*command, "--standalone", "--nproc_per_node=2", str(tmp_path / "fit.py"),
         str(tmp_path)],
        capture_output=True, text=True, timeout=300, env=env, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [np.load(tmp_path / f"rank{r}.npz") for r in (0, 1)]
    # written after iterations 3 (killed run), then 6 and 8 (resumed run): rank 0 only
    assert [int(r["writes"]) for r in ranks] == [3, 0]
    assert all(bool(r["same"]) and bool(r["same_history"]) for r in ranks)
    document = read_tensor_file(tmp_path / "hmm_checkpoint.safetensors")[0]
    assert document["signature"]["world_size"] == 2
    assert json.dumps(document["extra"]["done"]) == "true"
