"""Checkpoints of an HMM fit, so that ``fit(X, lengths, resume=True)`` continues exactly.

A checkpoint is written after an EM iteration (every ``checkpoint_every`` and after the last
of each initialisation) and holds what the next iteration needs: the learned arrays, the
monitor's history, which initialisation (``n_init``) is running and the best finished one so
far. Its signature (hyper-parameters, seed, the monitor, hand-set parameters that
initialisation keeps, and a digest of the training data of every ``torch.distributed`` rank)
must match for a resume; anything else is refused with a ``ValueError`` naming what differs.

The state after M-step ``i`` determines iteration ``i + 1`` completely, so a resumed fit
repeats the uninterrupted one bit for bit, on the same machine and thread count: numba's
thread count sets how sequences are grouped into blocks, whose sums round differently, so a
resume on another thread count ends equal to rounding instead (measured: 9e-15 relative after
10 iterations, 2 threads against 4).

Under ``torch.distributed`` the parameters are the same on every rank after the all-reduce,
so only rank 0 writes; on resume every rank reads that file (``checkpoint_dir`` must be a
folder all ranks see, as on one machine) and the ranks check that they resume from the same
point before the first E-step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numba
import numpy as np

from .._internal import io
from .._internal.checkpoints import (
    Checkpointer,
    array_digest,
    expect,
    expect_count,
    expect_floats,
)
from .._internal.distributed import allreduce_arrays, distributed_info
from ..base import jsonable_params

if TYPE_CHECKING:
    from .base import BaseHMM, ConvergenceMonitor

#: Hyper-parameters that may change between a killed fit and its resume.
RESUMABLE_CHANGES = frozenset({"verbose", "checkpoint_dir", "checkpoint_every"})
#: Checkpoint every this many EM iterations when ``checkpoint_every`` is None.
DEFAULT_EVERY = 10
KIND = "hmm-checkpoint"
STEM = "hmm_checkpoint"
_BEST = "best:"


@dataclass
class Restored:
    """The state a checkpoint holds (checked): where the fit stopped and what it had."""

    run: int
    iterations: int
    done: bool
    arrays: dict[str, np.ndarray]
    history: list[float]
    monitor_iter: int
    fortran: frozenset[str]
    best: tuple[float, dict[str, np.ndarray], list[float], int] | None


def _data_digest(data: np.ndarray, offsets: np.ndarray) -> str:
    """Digest of the training data of all ranks (each rank's digest, gathered by a sum)."""
    local = array_digest(data, offsets)
    rank, world = distributed_info()
    if world == 1:
        return local
    table = np.zeros((world, 32))
    table[rank] = np.frombuffer(bytes.fromhex(local), dtype=np.uint8)
    return array_digest(allreduce_arrays({"digests": table})["digests"])


def _letters(model: BaseHMM) -> dict[str, str]:
    letters = {"startprob_": "s", "transmat_": "t"}
    letters.update({p.attribute: p.letter for p in model._emission_class.parameters})
    return letters


class FitCheckpoints:
    """One fit's checkpoints: writes them and, on resume, reads and checks the last one.

    Parameters
    ----------
    model : BaseHMM
        The estimator being fitted.
    data, offsets : numpy.ndarray
        The validated training data and its sequence offsets.
    seed : int
        The fit's seed (replaced by the stored one on resuming an unseeded fit).
    given : dict
        Parameters set before ``fit``.
    monitor : ConvergenceMonitor
        The monitor the fit uses.
    """

    def __init__(
        self, model: BaseHMM, data: np.ndarray, offsets: np.ndarray, seed: int,
        given: dict[str, Any], monitor: ConvergenceMonitor,
    ) -> None:
        self.model = model
        rank, world = distributed_info()
        params = jsonable_params(model.get_params(deep=False))
        letters = _letters(model)
        kept = sorted(n for n in given if letters.get(n, "?") not in model.init_params)
        self.base_signature = {
            **{k: v for k, v in params.items() if k not in RESUMABLE_CHANGES},
            "class": type(model).__name__,
            "world_size": int(world),
            "data": _data_digest(data, offsets),
            "kept_parameters": array_digest(
                *(np.asarray(given[n], dtype=np.float64) for n in kept)
            ) + ":" + ",".join(kept),
            "monitor": f"{type(monitor).__qualname__}(tol={float(monitor.tol)!r})",
        }
        self.every = int(model.checkpoint_every or DEFAULT_EVERY)
        self.writer = rank == 0
        self.seed = int(seed)
        self.checkpointer = self._make()

    def _make(self) -> Checkpointer:
        return Checkpointer(
            self.model.checkpoint_dir, self.every, {**self.base_signature, "seed": self.seed},
            kind=KIND, stem=STEM, writer=self.writer,
        )

    # ---------------------------------------------------------------------- writing
    def save(
        self, run: int, iteration: int, done: bool, monitor: ConvergenceMonitor,
        best: tuple[float, dict[str, np.ndarray], dict[str, Any]] | None,
    ) -> None:
        """Write the state after EM ``iteration`` of initialisation ``run`` when due."""
        if not self.checkpointer.due(iteration, done):
            return
        model = self.model
        arrays = model._learned_arrays()
        fortran = sorted(
            n for n in arrays
            if np.asarray(getattr(model, n)).flags.f_contiguous
            and not np.asarray(getattr(model, n)).flags.c_contiguous
        )
        extra: dict[str, Any] = {
            "run": int(run),
            "done": bool(done),
            "history": [float(v) for v in monitor.history],
            "monitor_iter": int(monitor.iter),
            "fortran": fortran,
            "numba_threads": int(numba.get_num_threads()),
            "best_objective": None,
        }
        if best is not None:
            arrays.update({_BEST + n: v for n, v in best[1].items()})
            extra.update(
                best_objective=float(best[0]),
                best_history=[float(v) for v in best[2]["history"]],
                best_iter=int(best[2]["iter"]),
            )
        self.checkpointer.save(iteration, arrays, extra)

    # ---------------------------------------------------------------------- reading
    def load(self) -> Restored | None:
        """Read the last checkpoint (None if there is none) and check it is whole and from
        these settings; with ``random_state=None`` the stored seed is taken over.

        Shapes are checked later, against the initialised model (:meth:`apply`).
        """
        if self.model.random_state is None:
            stored = self.checkpointer.stored_seed()
            if stored is not None:
                self.seed = stored
                self.checkpointer = self._make()
        loaded = self.checkpointer.load()
        restored = None if loaded is None else self._parse(*loaded)
        self._check_ranks_agree(restored)
        return restored

    def _parse(self, iteration: int, arrays: dict[str, np.ndarray],
               extra: dict[str, Any]) -> Restored:
        model = self.model
        path = self.checkpointer.path
        if iteration >= model.n_iter:
            raise io.ModelFileError(f"resume: {path} records iteration {iteration}, beyond "
                                    f"n_iter={model.n_iter}")
        run = expect_count(extra, "run", model.n_init - 1)
        done = extra.get("done")
        if not isinstance(done, bool):
            raise io.ModelFileError("resume: checkpoint field 'done' is not true or false")
        history = expect_floats(extra, "history")
        monitor_iter = expect_count(extra, "monitor_iter", model.n_iter)
        if len(history) != iteration + 1:
            raise io.ModelFileError(f"resume: {path} holds {len(history)} objective values for "
                                    f"{iteration + 1} iterations")
        fortran = extra.get("fortran")
        if not isinstance(fortran, list) or not all(isinstance(n, str) for n in fortran):
            raise io.ModelFileError("resume: checkpoint field 'fortran' is not a list of names")
        best = None
        if run > 0:
            objective = extra.get("best_objective")
            if isinstance(objective, bool) or not isinstance(objective, (int, float)) \
                    or not np.isfinite(objective):
                raise io.ModelFileError("resume: checkpoint field 'best_objective' is not a "
                                        "number")
            best_arrays = {n[len(_BEST):]: v for n, v in arrays.items() if n.startswith(_BEST)}
            best = (float(objective), best_arrays, expect_floats(extra, "best_history"),
                    expect_count(extra, "best_iter", model.n_iter))
        current = {n: v for n, v in arrays.items() if not n.startswith(_BEST)}
        return Restored(run, iteration + 1, done, current, history, monitor_iter,
                        frozenset(fortran), best)

    def _check_ranks_agree(self, restored: Restored | None) -> None:
        _, world = distributed_info()
        if world == 1:
            return
        code = -1 if restored is None else restored.run * (self.model.n_iter + 1) + \
            restored.iterations
        sums = allreduce_arrays({"low": np.array([float(code)]), "high": np.array([-float(code)])})
        if sums["low"][0] != code * world or sums["high"][0] != -code * world:
            raise ValueError(
                "resume: the ranks found different checkpoints in checkpoint_dir (is it a "
                "folder every rank sees?); remove its files to start over"
            )

    def apply(self, restored: Restored, monitor: ConvergenceMonitor) -> None:
        """Put the checkpoint's parameters and history on the freshly initialised model,
        each array checked against the initialised one's shape first."""
        model = self.model
        template = model._learned_arrays()
        current = self._checked(restored.arrays, template, restored.fortran)
        if restored.best is not None:
            best = self._checked(restored.best[1], template, restored.fortran)
            self._validate(best)
            restored.best = (restored.best[0], best, restored.best[2], restored.best[3])
        self._validate(current)
        monitor.history = list(restored.history)
        monitor.iter = restored.monitor_iter

    @staticmethod
    def _checked(arrays: dict[str, np.ndarray], template: dict[str, np.ndarray],
                 fortran: frozenset[str]) -> dict[str, np.ndarray]:
        extra_names = sorted(set(arrays) - set(template))
        if extra_names:
            raise io.ModelFileError(f"resume: the checkpoint holds unknown fields {extra_names}")
        out = {}
        for name, like in template.items():
            value = expect(arrays, name, like.shape, np.float64)
            # the M-step may leave an array in Fortran order; sums over it must see the same
            # memory order to round the same way
            out[name] = np.asfortranarray(value) if name in fortran else value
        return out

    def _validate(self, arrays: dict[str, np.ndarray]) -> None:
        model = self.model
        model._restore_arrays(arrays)
        for name, value in arrays.items():  # _restore_arrays copies in C order
            setattr(model, name, value)
        try:
            model._check_parameters()
        except ValueError as exc:
            raise io.ModelFileError(f"resume: the checkpoint's parameters are not valid: "
                                    f"{exc}") from exc
        for name, value in arrays.items():  # _check_parameters may convert; keep the layout
            setattr(model, name, value)
