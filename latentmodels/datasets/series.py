"""Sequences read from CSV columns (for HMMs): what was modelled,
how it was transformed, and how to read it again from what ``run.json`` recorded."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._internal.files import check_regular_file
from . import GEYSER_FILE, load_csv_columns

__all__ = ["SeriesData", "load_series", "load_run_series", "series_spec"]

#: Data source names that mean a CSV shipped inside the package.
BUNDLED_SERIES = {"geyser": GEYSER_FILE, "old_faithful_geyser": GEYSER_FILE}


@dataclass
class SeriesData:
    """Observations ready for an HMM, with where each row came from.

    Attributes
    ----------
    X : numpy.ndarray
        What the model sees (after ``log_returns``).
    lengths : numpy.ndarray or None
        The sequence lengths (None for one sequence).
    columns : list of str
        The CSV columns read.
    rows : numpy.ndarray
        The 0-based data row of the CSV behind each observation.
    sequence_ids : list of str
        The value of the lengths column (or the sequence number) per observation.
    source : str
        A bundled name or an absolute path.
    categorical : bool, default=False
        Whether ``X`` holds symbol codes.
    log_returns : bool, default=False
        Whether ``X`` holds log returns of the columns.
    lengths_column : str or None, default=None
        The column that split the rows into sequences.
    categories : list of str or None, default=None
        The label of each symbol code, for categorical data.
    feature_names : list of str
        A name per column of ``X``.

    Examples
    --------
    >>> data = load_series("geyser", ["waiting"])
    >>> data.X.shape, data.rows[:3].tolist(), data.n_sequences
    ((299, 1), [0, 1, 2], 1)
    """

    X: np.ndarray
    lengths: np.ndarray | None
    columns: list[str]
    rows: np.ndarray
    sequence_ids: list[str]
    source: str
    categorical: bool = False
    log_returns: bool = False
    lengths_column: str | None = None
    categories: list[str] | None = None
    feature_names: list[str] = field(default_factory=list)

    @property
    def n_sequences(self) -> int:
        """Number of sequences.

        Examples
        --------
        >>> load_series("geyser", ["waiting"]).n_sequences
        1
        """
        return 1 if self.lengths is None else len(self.lengths)


def resolve_source(source: str) -> str:
    """A bundled name (``geyser``) stays a name; a path becomes absolute.

    Parameters
    ----------
    source : str
        A bundled series name or a path.

    Returns
    -------
    str
        The name, or the absolute path.

    Examples
    --------
    >>> resolve_source("geyser")
    'geyser'
    """
    key = str(source).strip().lower().replace("-", "_")
    if key in BUNDLED_SERIES:
        return key
    return str(Path(source).expanduser().resolve())


def _open_source(source: str) -> Path | str:
    key = str(source).strip().lower().replace("-", "_")
    if key in BUNDLED_SERIES:
        from importlib import resources

        return str(resources.files("latentmodels").joinpath("data", BUNDLED_SERIES[key]))
    return check_regular_file(source, "source")


def load_series(
    source: str | os.PathLike,
    columns: Sequence[str],
    *,
    categorical: bool = False,
    log_returns: bool = False,
    lengths_column: str | None = None,
    categories: Sequence[str] | None = None,
) -> SeriesData:
    """Read ``columns`` of a CSV (``"geyser"`` names the bundled Old Faithful series).

    Parameters
    ----------
    source : str or os.PathLike
        A CSV file with a header row, or a bundled name.
    columns : sequence of str
        The columns to read.
    categorical : bool, default=False
        Read one column of labels as symbol codes.
    log_returns : bool, default=False
        Replace each numeric series by ``100 * diff(log(x))`` within its sequence (one row
        fewer per sequence).
    lengths_column : str or None, default=None
        A column whose changes of value start a new sequence.
    categories : sequence of str or None, default=None
        The ``categories`` of a fitted model, to code new data the same way.

    Returns
    -------
    SeriesData
        The observations and where they came from.

    Examples
    --------
    >>> data = load_series("geyser", ["waiting", "duration"])
    >>> data.X.shape, data.n_sequences
    ((299, 2), 1)
    >>> load_series("geyser", ["waiting"], log_returns=True).X.shape
    (298, 1)
    """
    if categorical and log_returns:
        raise ValueError("log_returns: categorical labels have no log returns")
    path = _open_source(os.fspath(source))
    X, lengths, found = load_csv_columns(
        path, list(columns), categorical=categorical, lengths_column=lengths_column
    )
    n = len(X)
    rows = np.arange(n)
    if lengths is None:
        bounds = np.array([0, n])
        ids = ["0"] * n
    else:
        bounds = np.concatenate([[0], np.cumsum(lengths)])
        ids = _column_values(path, lengths_column)
    if categorical:
        if categories is not None:
            known = {label: code for code, label in enumerate(categories)}
            unknown = sorted(set(found) - set(known))
            if unknown:
                raise ValueError(
                    f"columns: label(s) {', '.join(map(repr, unknown))} were not seen when the "
                    f"model was fitted (known: {', '.join(categories)})"
                )
            remap = np.array([known[label] for label in found], dtype=np.int64)
            X = remap[X]
            found = list(categories)
    if log_returns:
        if np.any(X <= 0):
            bad = np.argwhere(X <= 0)[0]
            raise ValueError(
                f"log_returns: column {columns[bad[1]]!r} holds a value <= 0 (data row "
                f"{bad[0] + 1}: {X[bad[0], bad[1]]:g}); log returns need positive prices"
            )
        keep_X, keep_rows, keep_ids, new_lengths = [], [], [], []
        for s in range(len(bounds) - 1):
            lo, hi = int(bounds[s]), int(bounds[s + 1])
            if hi - lo < 2:
                raise ValueError(
                    f"log_returns: sequence {ids[lo]!r} has a single row; log returns need two"
                )
            keep_X.append(100.0 * np.diff(np.log(X[lo:hi]), axis=0))
            keep_rows.append(rows[lo + 1 : hi])
            keep_ids.extend(ids[lo + 1 : hi])
            new_lengths.append(hi - lo - 1)
        X = np.concatenate(keep_X)
        rows = np.concatenate(keep_rows)
        ids = keep_ids
        lengths = None if lengths is None else np.asarray(new_lengths, dtype=np.int64)
    if lengths is not None and len(lengths) == 1:
        lengths = None
    names = list(columns)
    if log_returns:
        names = [f"{c} log return (%)" for c in names]
    return SeriesData(
        X=X, lengths=lengths, columns=list(columns), rows=rows, sequence_ids=ids,
        source=resolve_source(os.fspath(source)), categorical=categorical,
        log_returns=log_returns, lengths_column=lengths_column,
        categories=found if categorical else None, feature_names=names,
    )


def _column_values(path: Path | str, name: str) -> list[str]:
    import csv

    with open(path, newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.reader(handle) if row and any(c.strip() for c in row)]
    index = [c.strip() for c in rows[0]].index(name)
    return [row[index].strip() for row in rows[1:]]


def series_spec(data: SeriesData) -> dict[str, Any]:
    """What ``run.json`` records so that :func:`load_run_series` reads the same series.

    Parameters
    ----------
    data : SeriesData
        The series a model was fitted on.

    Returns
    -------
    dict
        The source, columns and reading options, with ``kind="sequences"`` and the sizes.

    Examples
    --------
    >>> series_spec(load_series("geyser", ["waiting"]))["columns"]
    ['waiting']
    """
    return {
        "source": data.source,
        "kind": "sequences",
        "columns": list(data.columns),
        "categorical": data.categorical,
        "log_returns": data.log_returns,
        "lengths_column": data.lengths_column,
        "categories": data.categories,
        "n_samples": int(len(data.X)),
        "n_sequences": data.n_sequences,
    }


def is_series_run(run_info: Mapping[str, Any]) -> bool:
    """True when ``run.json`` describes sequences read by :func:`load_series`.

    Parameters
    ----------
    run_info : mapping
        The run's record.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_series_run({"data": series_spec(load_series("geyser", ["waiting"]))})
    True
    >>> is_series_run({"data": {"source": "mnist"}})
    False
    """
    data = run_info.get("data")
    return isinstance(data, Mapping) and data.get("kind") == "sequences"


def load_run_series(run_info: Mapping[str, Any]) -> SeriesData:
    """Read the series a run was fitted on, from its ``run.json`` contents.

    Parameters
    ----------
    run_info : mapping
        The run's record; ``data`` as written by :func:`series_spec`.

    Returns
    -------
    SeriesData
        The same series, read again.

    Examples
    --------
    >>> info = {"data": series_spec(load_series("geyser", ["duration"]))}
    >>> load_run_series(info).X.shape
    (299, 1)
    """
    data = run_info.get("data")
    if not isinstance(data, Mapping) or not data.get("source") or not data.get("columns"):
        raise ValueError("run.json records no sequence data (data.source and data.columns)")
    return load_series(
        data["source"], data["columns"], categorical=bool(data.get("categorical")),
        log_returns=bool(data.get("log_returns")), lengths_column=data.get("lengths_column"),
        categories=data.get("categories"),
    )
