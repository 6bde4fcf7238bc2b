"""The thread policy: free-core choice, explicit counts, restoring the user's settings, and the
switcher that keeps the faster of two thread counts."""

from __future__ import annotations

import re

import numba
import pytest
import torch

from latentmodels import GAN, LDA, VAE
from latentmodels._internal import threads
from latentmodels.cli._common import cpu_threads


def test_fewer_threads_when_the_cores_are_busy():
    assert threads.choose_threads(None, free=0.1, available=2) == 1
    assert threads.choose_threads(None, free=1.0, available=4) == 1
    assert threads.choose_threads(None, free=2.9, available=4) == 3
    assert threads.choose_threads(None, free=3.95, available=4) == 4
    assert threads.choose_threads(None, free=8.0, available=2) == 2  # never above the cores


def test_free_cores_reads_the_idle_share_of_the_window():
    samples = iter([(100.0, 1000.0), (150.0, 1200.0)])  # 50 of 200 jiffies idle
    free = threads.free_cores(window=0.0, sample=lambda: next(samples))
    assert free == pytest.approx(0.25 * (__import__("os").cpu_count() or 1))


def test_explicit_n_jobs_is_honoured_whatever_the_load():
    assert threads.choose_threads(3, free=0.0, available=2) == 3
    assert threads.choose_threads(-1, free=0.0, available=2) == threads.available_cores()
    with threads.requested_threads(2):
        assert threads.choose_threads(None, free=0.0, available=2) == 2
        assert threads.fit_switcher(None, free=0.0, available=2, apply=lambda n: None).counts == [2]
    assert threads.fit_switcher(None, free=0.0, available=2, apply=lambda n: None).counts == [1, 2]


@pytest.mark.parametrize("bad", [0, -2])
def test_bad_thread_counts_name_the_argument(bad):
    with pytest.raises(ValueError, match="n_jobs"):
        threads.choose_threads(bad)
    with pytest.raises(TypeError, match="n_jobs"):
        threads.choose_threads(1.5)


def _fake_steps(seconds_at: dict[int, float], switcher_options: dict, steps: int):
    now = [0.0]
    switcher = threads.ThreadSwitcher(list(seconds_at), apply=lambda n: None,
                                      clock=lambda: now[0], **switcher_options)
    used = []
    for _ in range(steps):
        with switcher.step():
            now[0] += seconds_at[switcher.current]
        used.append(switcher.current)
    return switcher, used


@pytest.mark.parametrize("seconds_at, faster", [({2: 1.0, 1: 3.0}, 2), ({2: 5.0, 1: 2.0}, 1)])
def test_switcher_converges_to_the_faster_count(seconds_at, faster):
    options = dict(window_steps=3, window_seconds=0.0, reprobe_seconds=50.0)
    switcher, used = _fake_steps(seconds_at, options, 200)
    assert switcher.best == faster
    # after probing, only one window (and its settling step) per re-probe period runs at the
    # slower count: 4 steps of 5 s in each 50 s period at worst here
    slower_steps = sum(n != faster for n in used[20:])
    elapsed = sum(seconds_at[n] for n in used[20:])
    assert slower_steps <= 4 * (elapsed / 50.0 + 1)
    assert slower_steps / len(used[20:]) < 0.25
    assert switcher.seconds_per_step == pytest.approx(seconds_at)


def test_switcher_follows_a_change_of_load():
    now = [0.0]
    cost = {2: 1.0, 1: 2.0}
    switcher = threads.ThreadSwitcher([2, 1], apply=lambda n: None, clock=lambda: now[0],
                                      window_steps=2, window_seconds=0.0, reprobe_seconds=30.0)
    used = []
    for step in range(300):
        if step == 100:
            cost = {2: 6.0, 1: 2.0}  # the other cores filled up
        with switcher.step():
            now[0] += cost[switcher.current]
        used.append(switcher.current)
    assert used[50:100].count(2) > 40  # two threads won while the cores were free
    assert switcher.best == 1 and used[200:].count(1) > 80


def _threads_seen_by_steps(monkeypatch) -> list[int]:
    """Torch's thread count at every training step, recorded by the step timer."""
    seen: list[int] = []
    record = threads.ThreadSwitcher.record

    def spy(self, seconds):
        seen.append(torch.get_num_threads())
        record(self, seconds)

    monkeypatch.setattr(threads.ThreadSwitcher, "record", spy)
    return seen


def test_fit_uses_the_requested_count_and_restores_torch_threads(mnist_small, monkeypatch):
    X = mnist_small[0][:128]
    seen = _threads_seen_by_steps(monkeypatch)
    torch.set_num_threads(2)
    try:
        model = VAE(latent_dim=2, hidden_dims=(16,), epochs=1, batch_size=16, verbose=0,
                    random_state=0, device="cpu")
        with cpu_threads(1):
            model.fit(X)
        assert seen and set(seen) == {1}
        assert torch.get_num_threads() == 2
        seen.clear()
        model.fit(X)  # automatic: one thread or torch's two, and torch's two afterwards
        assert seen and set(seen) <= {1, 2}
        assert torch.get_num_threads() == 2
        seen.clear()
        torch.set_num_threads(1)  # the user's count is the most the policy tries
        model.fit(X)
        assert seen and set(seen) == {1}
    finally:
        torch.set_num_threads(1)


@pytest.mark.parametrize("n_jobs, expected", [(1, {1}), (2, {2}), (-1, None)])
def test_a_deep_models_n_jobs_is_the_count_its_steps_run_at(mnist_small, monkeypatch, n_jobs,
                                                           expected):
    X = mnist_small[0][:128]
    seen = _threads_seen_by_steps(monkeypatch)
    torch.set_num_threads(2)
    try:
        VAE(latent_dim=2, hidden_dims=(16,), epochs=1, batch_size=16, verbose=0, random_state=0,
            device="cpu", n_jobs=n_jobs).fit(X)
        assert seen and set(seen) == (expected or {threads.available_cores()})
        assert torch.get_num_threads() == 2  # the user's count is put back
        seen.clear()
        with cpu_threads(2 if n_jobs == 1 else 1):  # the model's own n_jobs wins over --threads
            VAE(latent_dim=2, hidden_dims=(16,), epochs=1, batch_size=16, verbose=0,
                random_state=0, device="cpu", n_jobs=n_jobs).fit(X)
        assert set(seen) == (expected or {threads.available_cores()})
    finally:
        torch.set_num_threads(1)


@pytest.mark.parametrize("bad, message", [
    (0, "n_jobs must be >= 1 or -1, got 0"), (-2, "n_jobs must be >= 1 or -1, got -2"),
    (1.5, "n_jobs must be an integer or None, got 1.5"),
    ("2", "n_jobs must be an integer or None, got '2'")])
@pytest.mark.parametrize("model_class", [VAE, GAN])
def test_a_bad_deep_n_jobs_is_refused_naming_it(mnist_small, model_class, bad, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        model_class(latent_dim=2, epochs=1, verbose=0, n_jobs=bad).fit(mnist_small[0][:32])


def test_a_gans_n_jobs_is_the_count_its_steps_run_at(mnist_small, monkeypatch):
    seen = _threads_seen_by_steps(monkeypatch)
    torch.set_num_threads(2)
    try:
        GAN(latent_dim=2, architecture="mlp", hidden_dims=(8,), epochs=1, batch_size=16,
            verbose=0, random_state=0, device="cpu", n_jobs=1).fit(mnist_small[0][:64])
        assert seen and set(seen) == {1}
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(1)


def test_fit_restores_threads_after_an_exception(mnist_small):
    torch.set_num_threads(2)
    try:
        bad = VAE(latent_dim=2, epochs=1, verbose=0, device="cpu")
        X = mnist_small[0][:64].reshape(64, -1).copy()
        X[0, 0] = float("nan")
        with pytest.raises(ValueError, match="X"):
            bad.fit(X)
        assert torch.get_num_threads() == 2
        with pytest.raises(RuntimeError), threads.thread_limit(1):
            assert torch.get_num_threads() == 1
            raise RuntimeError("inside")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(1)


def test_lda_restores_numba_threads_and_its_result_ignores_the_switch():
    import numpy as np

    X = np.random.default_rng(0).poisson(0.3, size=(60, 40))
    before = numba.get_num_threads()
    all_threads = numba.config.NUMBA_NUM_THREADS
    fits = {}
    for n_jobs in (None, all_threads):
        fits[n_jobs] = LDA(3, n_jobs=n_jobs, max_iter=6, random_state=0).fit(X).components_
        assert numba.get_num_threads() == before
    # automatic mode lays the work out for every thread and only runs fewer: same bits
    np.testing.assert_array_equal(fits[None], fits[all_threads])


def test_passive_waiting_is_set_on_import_unless_the_user_chose():
    import os

    assert os.environ.get("OMP_WAIT_POLICY") in {"PASSIVE", "passive"} or \
        "OMP_WAIT_POLICY" in os.environ
    env = {"KMP_BLOCKTIME": "200"}
    threads.prefer_passive_waiting(env)
    assert env == {"KMP_BLOCKTIME": "200", "OMP_WAIT_POLICY": "PASSIVE"}


def test_hmm_fit_runs_on_the_requested_thread_count(monkeypatch):
    import numpy as np

    from latentmodels.hmm import GaussianHMM, base

    seen = []
    schedule = base._schedule

    def spy(*args, **kwargs):
        seen.append(numba.get_num_threads())
        return schedule(*args, **kwargs)

    monkeypatch.setattr(base, "_schedule", spy)
    X = np.random.default_rng(0).normal(size=(200, 2))
    before = numba.get_num_threads()
    with cpu_threads(1):
        GaussianHMM(2, n_iter=3, random_state=0).fit(X, [100, 100])
    assert seen and set(seen) == {1}
    assert numba.get_num_threads() == before


def test_free_cores_measures_the_machine_once_a_second_at_most(monkeypatch):
    monkeypatch.setattr(threads, "_LAST_MEASURED", [])
    calls = []

    def measure(window, sample):
        calls.append(window)
        return 1.5

    monkeypatch.setattr(threads, "_measure_free_cores", measure)
    assert threads.free_cores() == 1.5 and threads.free_cores() == 1.5
    assert len(calls) == 1
    threads._LAST_MEASURED[0] = (threads._LAST_MEASURED[0][0] - 2.0, 1.5)  # a stale reading
    threads.free_cores()
    assert len(calls) == 2


def test_a_plainly_losing_probe_ends_after_three_steps():
    options = dict(window_steps=50, window_seconds=0.0, reprobe_seconds=1e9)
    switcher, used = _fake_steps({1: 1.0, 2: 3.0}, options, 60)
    # (``used``: the count in force after each step) warm-up + 50 timed steps at one
    # thread; then the probe at two: a settling step and 3 timed steps, then back
    assert used[:50] == [1] * 50
    assert used[50:54] == [2] * 4 and set(used[54:]) == {1}
    assert switcher.best == 1


def test_a_hopeless_probe_ends_after_one_step():
    # spinning OpenMP workers on taken cores: one step at two threads costs 30 at one
    options = dict(window_steps=50, window_seconds=0.0, reprobe_seconds=1e9)
    switcher, used = _fake_steps({1: 0.010, 2: 0.300}, options, 60)
    assert used[:50] == [1] * 50
    assert used[50] == 2 and set(used[51:]) == {1}  # its settling step was enough
    assert switcher.seconds_per_step[2] == pytest.approx(0.300)
    # a step 8 times slower but only a few milliseconds longer may be a hiccup: no verdict
    switcher, used = _fake_steps({1: 0.0005, 2: 0.005}, options, 60)
    assert used[50:54] == [2] * 4


def test_each_lost_probe_doubles_the_wait_before_the_next():
    options = dict(window_steps=2, window_seconds=0.0, reprobe_seconds=10.0)
    switcher, used = _fake_steps({1: 1.0, 2: 3.0}, options, 400)
    # the steps at which a probe of two threads started, and the gaps between them
    starts = [i for i in range(1, len(used)) if used[i] == 2 and used[i - 1] == 1]
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert len(starts) >= 5
    assert gaps[0] < gaps[1] < gaps[2]  # 10, 20, 40 s of one-thread steps, plus the probes
    assert max(gaps) < 8 * 10.0 + 10  # then capped at 8 times the period
    assert switcher.lost_probes == len(starts)
    # a probe that wins resets the wait
    switcher.seconds_per_step = {1: 5.0, 2: 3.0}
    switcher.lost_probes, switcher._probing = 3, True
    switcher.current = 2
    switcher._window_steps, switcher._window_time = 2, 6.0
    switcher._close_window()
    assert switcher.lost_probes == 0 and switcher.reprobe_wait() == 10.0


def test_hmm_tuner_probes_less_often_while_the_other_mode_loses_and_follows_a_change():
    from latentmodels.hmm.base import _ThreadTuner

    tuner = _ThreadTuner()
    tuner.active = True
    cost = {True: 1.0, False: 3.0}  # serial wins: the cores are taken
    modes = []
    for step in range(200):
        if step == 100:
            cost = {True: 3.0, False: 1.0}  # the cores came free
        serial = tuner._serial_now()
        modes.append(serial)
        tuner.record(serial, cost[serial])
    parallel_steps = [i for i in range(4, 100) if not modes[i]]
    assert parallel_steps[:3] == [8, 24, 56]  # gaps 16, 32, 64: each lost probe doubles it
    assert len(parallel_steps) <= 4
    # the next probe after the change wins, and parallel E-steps run from then on
    switched = next(i for i in range(100, 200) if not modes[i])
    assert switched <= 100 + _ThreadTuner.MAX_PROBE_GAP
    assert all(not serial for serial in modes[switched:switched + 8])
    assert sum(modes[switched:]) <= 4  # and serial probes back off in their turn
