"""Documents for topic models: JSON lines, one-document-per-line text files, or a named
corpus (the bundled 20 Newsgroups sample, or the full corpus in the shared data folder).

Examples
--------
>>> data = load_texts("newsgroups", limit=2)
>>> len(data.texts), data.label_field
(2, 'newsgroup')
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._internal.files import read_text_lines
from . import find_shared_data

__all__ = [
    "BUNDLED_TEXTS",
    "SHARED_TEXTS",
    "TextData",
    "is_text_run",
    "load_texts",
    "resolve_text_source",
]

#: Data source names that mean a corpus shipped inside the package: 2,000 posts of the
#: 20 Newsgroups "bydate" training split, 100 per group (see scripts/make_newsgroups_sample.py).
BUNDLED_TEXTS = {"newsgroups": "newsgroups_2k.jsonl.gz"}


#: Names of the full corpora in the project's shared data folder (present in CI, not in clones).
SHARED_TEXTS = {"20newsgroups": "20newsgroups_train.jsonl.gz"}


#: The label field of the named corpora (documents are coloured by it in the report).
_NAMED_LABEL_FIELD = "newsgroup"


_JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")


_LINES_SUFFIXES = (".txt", ".txt.gz")


@dataclass
class TextData:
    """Raw documents with optional labels (e.g. the newsgroup of each post).

    Attributes
    ----------
    texts : list of str
        The documents.
    labels : list of str or None
        One label per document, or None.
    source : str
        Where they came from (a corpus name or an absolute path).
    text_field : str, default="text"
        The JSON field that held the text.
    label_field : str or None, default=None
        The JSON field that held the labels.

    Examples
    --------
    >>> data = TextData(["a cat", "a dog"], None, "mine")
    >>> len(data.texts), data.text_field
    (2, 'text')
    """

    texts: list[str]
    labels: list[str] | None
    source: str
    text_field: str = "text"
    label_field: str | None = None


def _key(source: str) -> str:
    return str(source).strip().lower().replace("-", "").replace("_", "")


def resolve_text_source(source: str) -> str:
    """A corpus name (``newsgroups``, ``20newsgroups``) stays a name; a path becomes absolute.

    Parameters
    ----------
    source : str
        A corpus name or a path.

    Returns
    -------
    str
        The normalised name, or the absolute path.

    Examples
    --------
    >>> resolve_text_source("newsgroups")
    'newsgroups'
    >>> resolve_text_source("20_Newsgroups")
    '20newsgroups'
    """
    key = _key(source)
    if key in BUNDLED_TEXTS or key in SHARED_TEXTS:
        return key
    return str(Path(source).expanduser().resolve())


def _open_text_source(source: str) -> Path:
    key = _key(source)
    if key in BUNDLED_TEXTS:
        from importlib import resources

        return Path(str(resources.files("latentmodels").joinpath("data", BUNDLED_TEXTS[key])))
    if key in SHARED_TEXTS:
        path = find_shared_data(SHARED_TEXTS[key])
        if path is None:
            raise FileNotFoundError(
                f"data: {source} means ../shared/data/{SHARED_TEXTS[key]}, which is not here "
                "(set LATENTMODELS_SHARED_DATA, or use 'newsgroups', the 2,000-post sample "
                "shipped with the package)"
            )
        return path
    return Path(source).expanduser()


def load_texts(
    source: str,
    *,
    text_field: str = "text",
    label_field: str | None = None,
    limit: int | None = None,
) -> TextData:
    r"""Read documents from JSON lines, a text file, or a named corpus.

    JSON lines (``.jsonl``, ``.ndjson``, ``.gz`` too) hold the text in ``text_field``; a text
    file (``.txt``) holds one document per line; ``newsgroups`` is the bundled sample and
    ``20newsgroups`` the full shared file.

    Parameters
    ----------
    source : str
        A path or a corpus name.
    text_field : str, default="text"
        The JSON field holding each document's text.
    label_field : str or None, default=None
        A JSON field holding each document's label (the named corpora use ``newsgroup``).
    limit : int or None, default=None
        Read only the first ``limit`` documents.

    Returns
    -------
    TextData
        The documents and labels.

    Examples
    --------
    >>> data = load_texts("newsgroups", limit=3)
    >>> len(data.texts), data.labels[0]
    (3, 'alt.atheism')
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "docs.jsonl"
    >>> _ = path.write_text('{"body": "hello", "tag": "x"}\n', encoding="utf-8")
    >>> data = load_texts(str(path), text_field="body", label_field="tag")
    >>> data.texts, data.labels
    (['hello'], ['x'])
    """
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    key = _key(source)
    named = key in BUNDLED_TEXTS or key in SHARED_TEXTS
    if named and label_field is None:
        label_field = _NAMED_LABEL_FIELD
    path = _open_text_source(source)
    if not path.exists():
        raise FileNotFoundError(f"data: {source}: no such file")
    name = path.name.lower()
    if not named and not name.endswith(_JSONL_SUFFIXES + _LINES_SUFFIXES):
        raise ValueError(
            f"data: {source}: expected JSON lines (.jsonl, .jsonl.gz) or one document per line "
            "(.txt, .txt.gz), or a corpus name (newsgroups, 20newsgroups)"
        )
    texts: list[str] = []
    labels: list[str] | None = [] if label_field is not None else None
    if name.endswith(_LINES_SUFFIXES):
        if label_field is not None:
            raise ValueError("label_field needs JSON lines; a .txt file holds only text")
        texts = [line.rstrip("\r\n") for line in read_text_lines(path, "utf-8")]
        texts = texts[:limit] if limit is not None else texts
        return TextData(texts, None, resolve_text_source(source), text_field, None)
    for number, line in enumerate(read_text_lines(path, "utf-8"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"data: line {number} of {source} is not JSON ({exc})") from None
        if not isinstance(record, dict) or text_field not in record:
            fields = sorted(record) if isinstance(record, dict) else type(record).__name__
            raise ValueError(f"text_field {text_field!r} is missing from line {number} of "
                             f"{source}; that line has fields {fields}")
        texts.append("" if record[text_field] is None else str(record[text_field]))
        if labels is not None:
            if label_field not in record:
                raise ValueError(f"label_field {label_field!r} is missing from line {number} "
                                 f"of {source}")
            labels.append(str(record[label_field]))
        if limit is not None and len(texts) >= limit:
            break
    if not texts:
        raise ValueError(f"data: {source} holds no documents")
    return TextData(texts, labels, resolve_text_source(source), text_field, label_field)


def is_text_run(run_info: Mapping[str, Any]) -> bool:
    """True when ``run.json`` describes a model fitted on text.

    Parameters
    ----------
    run_info : mapping
        The run's record.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_text_run({"data": {"kind": "text"}}), is_text_run({"data": {"source": "mnist"}})
    (True, False)
    """
    return (run_info.get("data") or {}).get("kind") == "text"
