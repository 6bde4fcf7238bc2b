"""The one distributed story: join the process group ``torchrun`` describes, reduce and
broadcast arrays over it, and leave it cleanly when the process ends.

Every family (deep models, HMMs, LDA) goes through these functions, so a user's script runs
unchanged under ``torchrun --nproc_per_node=N``.
"""

from __future__ import annotations

import atexit
import gc
import os

import numpy as np
import torch
import torch.distributed as dist

__all__ = [
    "allreduce_arrays",
    "broadcast_arrays",
    "distributed_info",
    "ensure_process_group",
    "is_active",
]


def is_active() -> bool:
    """Whether this process belongs to an initialised process group.

    Returns
    -------
    bool
        True inside a ``torch.distributed`` process group.

    Examples
    --------
    >>> is_active()  # a plain Python process
    False
    """
    return dist.is_available() and dist.is_initialized()


def distributed_info() -> tuple[int, int]:
    """Rank of this process and size of the process group.

    Returns
    -------
    rank : int
        This process's rank; 0 outside a distributed run.
    world_size : int
        Number of processes; 1 outside a distributed run.

    Examples
    --------
    >>> distributed_info()
    (0, 1)
    """
    if is_active():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _destroy_own_group() -> None:
    # Gloo keeps worker threads that hold tensors; if the group is still alive when the
    # interpreter finalises, tearing those threads down aborts the process with
    # "terminate called without an active exception". Destroying it first exits cleanly.
    if is_active():
        # Objects in reference cycles (a DistributedDataParallel wrapper and its reducer)
        # can keep the group's threads alive past destroy; free them first.
        gc.collect()
        dist.destroy_process_group()


def ensure_process_group(device: str | torch.device = "cpu") -> None:
    """Join the process group that ``torchrun`` describes in the environment.

    Does nothing outside ``torchrun`` (``WORLD_SIZE`` unset or 1) or when the user already
    created a group. A group created here is destroyed when the process exits.

    Parameters
    ----------
    device : str or torch.device
        The device the caller trains on: NCCL for CUDA devices, gloo otherwise.

    Examples
    --------
    >>> ensure_process_group("cpu")  # outside torchrun: nothing happens
    >>> distributed_info()
    (0, 1)
    """
    if not dist.is_available() or dist.is_initialized():
        return
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return
    use_nccl = torch.cuda.is_available() and str(device) != "cpu"
    dist.init_process_group(backend="nccl" if use_nccl else "gloo")
    atexit.register(_destroy_own_group)


def allreduce_arrays(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Sum every float array over the process group (identity outside one).

    The arrays travel as one flat float64 tensor: one collective per call.

    Parameters
    ----------
    arrays : dict of str to numpy.ndarray
        This process's arrays.

    Returns
    -------
    dict of str to numpy.ndarray
        The sums over all processes, same names and shapes (float64 inside a group).

    Examples
    --------
    >>> allreduce_arrays({"a": np.ones(2)})["a"]
    array([1., 1.])
    """
    if not is_active() or dist.get_world_size() == 1 or not arrays:
        return arrays
    names = sorted(arrays)  # the same order on every rank, whatever order the dict was built in
    flat = torch.from_numpy(
        np.concatenate([np.asarray(arrays[n], dtype=np.float64).ravel() for n in names])
    )
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    out: dict[str, np.ndarray] = {}
    offset = 0
    values = flat.numpy()
    for name in names:
        shape = np.shape(arrays[name])
        size = int(np.prod(shape))
        out[name] = values[offset : offset + size].reshape(shape).copy()
        offset += size
    return out


def broadcast_arrays(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Give every process rank 0's copy of each float array (identity outside a group).

    Parameters
    ----------
    arrays : dict of str to numpy.ndarray
        This process's arrays.

    Returns
    -------
    dict of str to numpy.ndarray
        Rank 0's arrays, in each array's own dtype.

    Examples
    --------
    >>> broadcast_arrays({"a": np.zeros(3)})["a"]
    array([0., 0., 0.])
    """
    if not is_active() or dist.get_world_size() == 1 or not arrays:
        return arrays
    out: dict[str, np.ndarray] = {}
    for name in sorted(arrays):
        value = arrays[name]
        tensor = torch.from_numpy(np.ascontiguousarray(value, dtype=np.float64).copy())
        dist.broadcast(tensor, src=0)
        out[name] = tensor.numpy().astype(np.asarray(value).dtype, copy=False)
    return out
