"""Reading text files the same way everywhere: gzip detected by its magic bytes, encoding
errors that say which byte and what to do."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

__all__ = ["check_regular_file", "read_text_lines", "user_cache_dir"]


def read_text_lines(path: str | os.PathLike, encoding: str) -> list[str]:
    r"""The lines of a text file, ``.gz`` read transparently, with clear errors.

    Gzip is detected by its magic bytes, not by the file name.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    encoding : str
        Its text encoding.

    Returns
    -------
    list of str
        The lines, without their newlines (no empty last line for a final newline).

    Raises
    ------
    FileNotFoundError
        For a missing file.
    ValueError
        For a corrupt gzip file, text not valid in ``encoding``, or an unknown encoding.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = p.write_text("one\ntwo\n", encoding="utf-8")
    >>> read_text_lines(p, "utf-8")
    ['one', 'two']
    """
    path = check_regular_file(path, "path")
    if not path.is_file():
        raise FileNotFoundError(f"path: no such file: {path}")
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError) as exc:  # truncated or corrupt archive
            raise ValueError(f"{path} is a truncated or corrupt gzip file ({exc})") from None
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{path} is not valid {encoding} (byte {exc.start}: {raw[exc.start:exc.start + 1]!r}); "
            f"pass encoding='latin-1' (or the file's real encoding) to read it"
        ) from exc
    except LookupError as exc:
        raise ValueError(f"encoding {encoding!r} is not a known text encoding") from exc
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def check_regular_file(path: str | os.PathLike, name: str) -> Path:
    """``path`` as a Path; a FIFO, socket or device there is refused at once.

    Reading a FIFO blocks until some other process writes to it, which would hang a fit or
    a command with no word of why.

    Examples
    --------
    >>> try:
    ...     check_regular_file("/dev/null", "data")
    ... except ValueError as error:
    ...     print(str(error).split(";")[0])
    data: /dev/null is not a regular file (a FIFO, socket or device)
    """
    path = Path(path).expanduser()
    if path.exists() and not (path.is_file() or path.is_dir()):
        raise ValueError(f"{name}: {path} is not a regular file (a FIFO, socket or device); "
                         "pass a file or a folder")
    return path


def user_cache_dir() -> Path:
    """The library's cache folder: ``$XDG_CACHE_HOME/latentmodels``, ``~/.cache/latentmodels``
    when the variable is unset or empty. Downloads and GAN runs' judges are kept there.

    Examples
    --------
    >>> user_cache_dir().name
    'latentmodels'
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    return Path(base).expanduser() / "latentmodels"
