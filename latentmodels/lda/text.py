"""From raw text to a document-term matrix: tokenisation, a vocabulary, and a corpus.

:class:`Vocabulary` holds the words and the tokenisation rules, so a fitted topic model can
save it (as JSON) and turn new raw text into counts exactly as at training time. Words
unknown to the vocabulary are dropped and counted, never an error. :class:`~latentmodels.TextCorpus`
reads a list of strings, a one-document-per-line file, or JSON lines with a text field,
and keeps both the sparse counts and the token order (for sliding-window coherence).
Token patterns are limited to a safe subset (``check_token_pattern``), so that no
pattern, from a user or from a saved file, can make tokenising hang.

Examples
--------
>>> corpus = TextCorpus.from_texts(["Cats purr and cats sleep", "Dogs bark; dogs run"])
>>> corpus.vocabulary.words
['bark', 'cats', 'dogs', 'purr', 'run', 'sleep']
>>> corpus.counts.toarray()[0].tolist()
[0, 2, 0, 1, 0, 1]
"""

from __future__ import annotations

import json
import numbers
import os
import re
import re._parser as _re_parser
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._internal.files import read_text_lines

#: A word starts with a letter and continues with letters or digits (Unicode-aware).
DEFAULT_TOKEN_PATTERN = r"[^\W\d_][^\W_]*"

# Function words that carry no topic; written for this library (short on purpose).
ENGLISH_STOP_WORDS = frozenset(
    """
    a about above after again against all almost also although always am among an and any
    anyone anything are aren around as at away be became because been before being below
    between both but by can cannot could couldn did didn do does doesn doing don done down
    during each either else enough even ever every few for from further get gets getting go
    goes going got had hadn has hasn have haven having he her here hers herself him himself
    his how however i if in into is isn it its itself just least less let like ll made make
    many may me might mine more most much must my myself neither never no nor not now of off
    often on once one only or other others otherwise our ours ourselves out over own per
    perhaps put quite rather re really s same say says seem seemed seems several shall she
    should shouldn since so some someone something still such t than that the their theirs
    them themselves then there therefore these they thing things this those though through
    thus to too toward towards under until up upon us use used using ve very via was wasn
    way we well were weren what whatever when where whether which while who whom whose why
    will with within without won would wouldn yet you your yours yourself yourselves
    """.split()
)


#: Token patterns known to be safe, accepted from any source without further analysis.
KNOWN_TOKEN_PATTERNS = frozenset(
    {
        DEFAULT_TOKEN_PATTERN,
        r"(?u)\b\w\w+\b",  # scikit-learn's CountVectorizer
        r"(?u)\b\w+\b",
        r"\b\w\w+\b",
        r"\b\w+\b",
        r"\w+",
        r"\S+",
        r"[^\W\d_]+",
        r"[A-Za-z]+",
        r"[a-z]+",
    }
)
_MAX_PATTERN_LENGTH = 256
_MAX_REPEATS = 4
# a repeated item made of these opcodes matches exactly one character each time
_ONE_CHAR = {"LITERAL", "NOT_LITERAL", "ANY", "IN", "CATEGORY", "RANGE", "NEGATE"}


def check_token_pattern(pattern: Any) -> str:
    """Return ``pattern`` if it is a regular expression that cannot backtrack badly.

    Accepted: the patterns in :data:`KNOWN_TOKEN_PATTERNS`, and patterns of at most 256
    characters whose repeated items (``*``, ``+``, ``{m,n}`` with n > 1) each match one
    character (a literal, ``.``, a class such as ``\\w`` or ``[a-z]``), with no
    back-references and at most four such repeats. That rules out nested quantifiers such as
    ``(a+)+$`` and ``(a|aa)*$``, whose matching time grows exponentially with the text.

    Parameters
    ----------
    pattern : str
        The regular expression.

    Returns
    -------
    str
        ``pattern`` itself.

    Raises
    ------
    ValueError
        Naming ``token_pattern`` and the construct that is not allowed.

    Examples
    --------
    >>> check_token_pattern(r"[a-z]+(?:'[a-z]+)?")
    "[a-z]+(?:'[a-z]+)?"
    >>> check_token_pattern("(a+)+$")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: token_pattern '(a+)+$' is not allowed: a repeated group holds another ...
    """
    if not isinstance(pattern, str):
        raise TypeError(f"token_pattern must be a str, got {type(pattern).__name__}")
    if pattern in KNOWN_TOKEN_PATTERNS:
        return pattern
    if len(pattern) > _MAX_PATTERN_LENGTH:
        raise ValueError(
            f"token_pattern is not allowed: longer than {_MAX_PATTERN_LENGTH} characters"
        )
    try:
        parsed = _re_parser.parse(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        raise ValueError(f"token_pattern is not a valid regular expression: {exc}") from exc
    repeats = [0]

    def visit(items: Any, inside_repeat: bool) -> None:
        for op, arg in items:
            name = str(op)
            if name in ("GROUPREF", "GROUPREF_EXISTS"):
                raise ValueError(
                    f"token_pattern {pattern!r} is not allowed: back-references can take "
                    "exponential time"
                )
            if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                low, high, body = arg
                many = high is _re_parser.MAXREPEAT or high > 1
                if many:
                    repeats[0] += 1
                    single = len(body) == 1 and str(body[0][0]) in _ONE_CHAR
                    if inside_repeat or not single:
                        raise ValueError(
                            f"token_pattern {pattern!r} is not allowed: a repeated group holds "
                            "another repeat or an alternation (nested quantifiers can take "
                            "exponential time)"
                        )
                visit(body, inside_repeat or many)
            elif name == "SUBPATTERN":
                visit(arg[-1], inside_repeat)
            elif name in ("ATOMIC_GROUP",):
                visit(arg, inside_repeat)
            elif name in ("ASSERT", "ASSERT_NOT"):
                visit(arg[1], inside_repeat)
            elif name == "BRANCH":
                for branch in arg[1]:
                    visit(branch, inside_repeat)
    visit(parsed, False)
    if repeats[0] > _MAX_REPEATS:
        raise ValueError(
            f"token_pattern {pattern!r} is not allowed: more than {_MAX_REPEATS} repeats "
            "(their matching time multiplies)"
        )
    return pattern


def _normalise(text: str, lowercase: bool) -> str:
    # NFKC folds compatibility forms (ligatures, full-width letters) into plain letters
    text = unicodedata.normalize("NFKC", text)
    return text.lower() if lowercase else text


class Vocabulary:
    """Words with integer ids, plus the tokenisation rules that produced them.

    Parameters
    ----------
    words : sequence of str
        The words, in id order (no duplicates).
    lowercase : bool, default=True
        Lower-case text before tokenising.
    token_pattern : str, default=DEFAULT_TOKEN_PATTERN
        Regular expression matching one token; must pass ``check_token_pattern``.
    stop_words : "english", iterable of str or None, default="english"
        Words dropped after tokenising.
    min_length : int, default=2
        Shortest token kept, in characters.

    Examples
    --------
    >>> vocab = Vocabulary(["apple", "pear"])
    >>> vocab.encode("Apple, PEAR and apple pie")  # "and" is a stop word, "pie" unknown
    (array([0, 1, 0]), 1)
    """

    def __init__(
        self,
        words: Sequence[str],
        *,
        lowercase: bool = True,
        token_pattern: str = DEFAULT_TOKEN_PATTERN,
        stop_words: str | Iterable[str] | None = "english",
        min_length: int = 2,
    ) -> None:
        words = [str(w) for w in words]
        index = {w: i for i, w in enumerate(words)}
        if len(index) != len(words):
            dup = next(w for w, c in Counter(words).items() if c > 1)
            raise ValueError(f"words must be unique; {dup!r} appears more than once")
        if isinstance(stop_words, str):
            if stop_words != "english":
                raise ValueError(
                    f"stop_words must be 'english', a list of words or None; got {stop_words!r}"
                )
            stop = ENGLISH_STOP_WORDS
        elif stop_words is None:
            stop = frozenset()
        else:
            stop = frozenset(_normalise(str(w), lowercase) for w in stop_words)
        check_token_pattern(token_pattern)
        try:
            self._regex = re.compile(token_pattern)
        except (re.error, TypeError) as exc:
            raise ValueError(f"token_pattern is not a valid regular expression: {exc}") from exc
        if isinstance(min_length, bool) or not isinstance(min_length, numbers.Integral):
            raise TypeError(f"min_length must be an integer, got {min_length!r}")
        self.words = words
        self.index = index
        self.lowercase = bool(lowercase)
        self.token_pattern = token_pattern
        self.stop_words = stop
        self.min_length = int(min_length)

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self.index

    def __getitem__(self, i: int) -> str:
        return self.words[i]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        head = ", ".join(self.words[:5])
        return f"Vocabulary({len(self)} words: {head}{', ...' if len(self) > 5 else ''})"

    def tokenize(self, text: str) -> list[str]:
        """Split ``text`` into tokens with this vocabulary's rules (known or not).

        Parameters
        ----------
        text : str

        Returns
        -------
        list of str

        Examples
        --------
        >>> Vocabulary([]).tokenize("The cat sat on 2 mats")
        ['cat', 'sat', 'mats']
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        tokens = self._regex.findall(_normalise(text, self.lowercase))
        return [t for t in tokens if len(t) >= self.min_length and t not in self.stop_words]

    def encode(self, text: str) -> tuple[np.ndarray, int]:
        """Token ids of ``text`` in order, and the number of unknown tokens dropped.

        Parameters
        ----------
        text : str

        Returns
        -------
        ids : ndarray of int64
        unknown : int

        Examples
        --------
        >>> Vocabulary(["cat", "mat"]).encode("cat on the mat, cat hat")
        (array([0, 1, 0]), 1)
        """
        tokens = self.tokenize(text)
        ids = [self.index[t] for t in tokens if t in self.index]
        return np.asarray(ids, dtype=np.int64), len(tokens) - len(ids)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able description (words and tokenisation rules).

        Returns
        -------
        dict
            Fields ``words``, ``lowercase``, ``token_pattern``, ``stop_words``, ``min_length``.

        Examples
        --------
        >>> Vocabulary(["cat"], stop_words=None).to_dict()["words"]
        ['cat']
        """
        return {
            "words": list(self.words),
            "lowercase": self.lowercase,
            "token_pattern": self.token_pattern,
            "stop_words": sorted(self.stop_words),
            "min_length": self.min_length,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Vocabulary:
        """Rebuild a vocabulary written by :meth:`to_dict`, trusting nothing in ``data``.

        Parameters
        ----------
        data : dict
            Fields as :meth:`to_dict` writes them.

        Returns
        -------
        Vocabulary

        Raises
        ------
        ValueError
            Naming the field (``vocabulary.<field>``) that has the wrong type or value: words
            must be unique non-empty strings, lowercase a bool, token_pattern a safe pattern
            (``check_token_pattern``), stop_words strings, min_length an int >= 0.

        Examples
        --------
        >>> Vocabulary.from_dict(Vocabulary(["a", "b"]).to_dict()).words
        ['a', 'b']
        """
        if not isinstance(data, dict) or not isinstance(data.get("words"), list):
            raise ValueError("vocabulary: expected a dict with a 'words' list")
        unknown = sorted(set(data) - {"words", "lowercase", "token_pattern", "stop_words",
                                      "min_length"})
        if unknown:
            raise ValueError(f"vocabulary: unknown fields {unknown}")
        words = data["words"]
        if not all(isinstance(w, str) and w for w in words):
            raise ValueError("vocabulary.words: every word must be a non-empty string")
        lowercase = data.get("lowercase", True)
        if not isinstance(lowercase, bool):
            raise ValueError(f"vocabulary.lowercase must be true or false, got {lowercase!r}")
        pattern = data.get("token_pattern", DEFAULT_TOKEN_PATTERN)
        try:
            check_token_pattern(pattern)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"vocabulary.token_pattern: {exc}") from exc
        stop_words = data.get("stop_words", [])
        if not isinstance(stop_words, list) or not all(isinstance(w, str) for w in stop_words):
            raise ValueError("vocabulary.stop_words must be a list of strings")
        min_length = data.get("min_length", 1)
        if isinstance(min_length, bool) or not isinstance(min_length, int) or min_length < 0:
            raise ValueError(f"vocabulary.min_length must be an int >= 0, got {min_length!r}")
        try:
            return cls(
                words, lowercase=lowercase, token_pattern=pattern, stop_words=stop_words,
                min_length=min_length,
            )
        except (TypeError, ValueError) as exc:
            raise ValueError(f"vocabulary.words: {exc}") from exc


def _df_threshold(value: Any, name: str, n_docs: int, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be an int (documents) or a float in [0, 1], got {value!r}")
    if isinstance(value, numbers.Integral):
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
        return int(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} as a fraction must lie in [0, 1], got {value}")
    return int(np.ceil(value * n_docs)) if name == "min_df" else int(np.floor(value * n_docs))


class TextCorpus:
    """Documents as token ids, with their :class:`Vocabulary` and sparse counts.

    Build one with :meth:`from_texts`, :meth:`from_file`, :meth:`from_jsonl` or
    :meth:`from_sklearn`; pass it to ``LDA.fit``.

    Parameters
    ----------
    tokens : ndarray of int
        Token ids in reading order (document ``d`` is ``tokens[doc_ptr[d]:doc_ptr[d + 1]]``).
    doc_ptr : ndarray of int of shape (n_docs + 1,)
        Where each document starts.
    vocabulary : Vocabulary
        The words the ids refer to.
    n_unknown : int, default=0
        Tokens dropped because the vocabulary lacks them (pruned words or a given
        vocabulary).
    counts : scipy.sparse.csr_matrix or None, default=None
        The ``(n_docs, n_words)`` document-term matrix (built from the tokens if None).

    Examples
    --------
    >>> corpus = TextCorpus.from_texts(["red green", "green blue"], stop_words=None)
    >>> len(corpus), corpus.n_tokens, corpus.vocabulary.words
    (2, 4, ['blue', 'green', 'red'])
    """

    def __init__(
        self,
        tokens: np.ndarray,
        doc_ptr: np.ndarray,
        vocabulary: Vocabulary,
        *,
        n_unknown: int = 0,
        counts: sp.csr_matrix | None = None,
    ) -> None:
        self.tokens = np.asarray(tokens, dtype=np.int64)
        self.doc_ptr = np.asarray(doc_ptr, dtype=np.int64)
        self.vocabulary = vocabulary
        self.n_unknown = int(n_unknown)
        if counts is None:
            n_docs = len(self.doc_ptr) - 1
            rows = np.repeat(np.arange(n_docs), np.diff(self.doc_ptr))
            counts = sp.csr_matrix(
                (np.ones(len(self.tokens), dtype=np.int64), (rows, self.tokens)),
                shape=(n_docs, len(vocabulary)),
            )
            counts.sum_duplicates()
        self.counts = counts

    def __len__(self) -> int:
        return self.counts.shape[0]

    def __repr__(self) -> str:
        return (
            f"TextCorpus({len(self)} documents, {self.n_tokens} tokens, "
            f"{len(self.vocabulary)} words)"
        )

    @property
    def n_tokens(self) -> int:
        """Total number of (known) tokens.

        Examples
        --------
        >>> TextCorpus.from_texts(["red green red"], stop_words=None).n_tokens
        3
        """
        return int(self.counts.sum())

    def documents(self) -> list[list[str]]:
        """Each document as its list of known words, in reading order.

        Returns
        -------
        list of list of str

        Examples
        --------
        >>> TextCorpus.from_texts(["red green red"], stop_words=None).documents()
        [['red', 'green', 'red']]
        """
        words = self.vocabulary.words
        return [
            [words[i] for i in self.tokens[self.doc_ptr[d] : self.doc_ptr[d + 1]]]
            for d in range(len(self))
        ]

    def subset(self, index: Sequence[int] | np.ndarray) -> TextCorpus:
        """The documents at ``index`` (same vocabulary).

        Parameters
        ----------
        index : sequence of int

        Returns
        -------
        TextCorpus

        Examples
        --------
        >>> corpus = TextCorpus.from_texts(["red", "green", "blue"], stop_words=None)
        >>> corpus.subset([2, 0]).documents()
        [['blue'], ['red']]
        """
        index = np.asarray(index, dtype=np.int64)
        pieces = [self.tokens[self.doc_ptr[d] : self.doc_ptr[d + 1]] for d in index]
        lengths = np.asarray([len(p) for p in pieces], dtype=np.int64)
        tokens = np.concatenate(pieces) if pieces else np.zeros(0, np.int64)
        return TextCorpus(
            tokens, np.concatenate([[0], np.cumsum(lengths)]), self.vocabulary,
            counts=self.counts[index],
        )

    # -- constructors ------------------------------------------------------------------
    @classmethod
    def from_texts(
        cls,
        texts: Iterable[str],
        *,
        vocabulary: Vocabulary | None = None,
        lowercase: bool = True,
        stop_words: str | Iterable[str] | None = "english",
        token_pattern: str = DEFAULT_TOKEN_PATTERN,
        min_length: int = 2,
        min_df: int | float = 1,
        max_df: int | float = 1.0,
        max_features: int | None = None,
    ) -> TextCorpus:
        """Tokenise ``texts`` and build (or apply) a vocabulary.

        Parameters
        ----------
        texts : iterable of str
            The documents, one string each.
        vocabulary : Vocabulary or None, default=None
            Use this vocabulary (and its tokenisation rules) instead of building one; unknown
            words are dropped and counted in ``n_unknown``.
        lowercase, stop_words, token_pattern, min_length
            Tokenisation rules, as for :class:`Vocabulary`.
        min_df : int or float, default=1
            Drop words in fewer documents than this (int) or fraction (float).
        max_df : int or float, default=1.0
            Drop words in more documents than this (int) or fraction (float).
        max_features : int or None, default=None
            Keep only this many most frequent words.

        Returns
        -------
        TextCorpus

        Examples
        --------
        >>> TextCorpus.from_texts(["a cat", "a cat and a dog"], min_df=2).vocabulary.words
        ['cat']
        """
        if isinstance(texts, (str, bytes)):
            raise TypeError("texts must be a list of strings, not a single string")
        texts = list(texts)
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"texts[{i}] must be a str, got {type(text).__name__}")
        if vocabulary is not None:
            if not isinstance(vocabulary, Vocabulary):
                raise TypeError(f"vocabulary must be a Vocabulary, got {type(vocabulary).__name__}")
            return cls._encode(texts, vocabulary)
        rules = Vocabulary(
            [], lowercase=lowercase, token_pattern=token_pattern, stop_words=stop_words,
            min_length=min_length,
        )
        token_lists = [rules.tokenize(t) for t in texts]
        n_docs = len(token_lists)
        low = _df_threshold(min_df, "min_df", n_docs, 1)
        high = _df_threshold(max_df, "max_df", n_docs, n_docs)
        df: Counter[str] = Counter()
        tf: Counter[str] = Counter()
        for tokens in token_lists:
            tf.update(tokens)
            df.update(set(tokens))
        kept = [w for w, c in df.items() if low <= c <= high]
        if max_features is not None:
            if isinstance(max_features, bool) or not isinstance(max_features, numbers.Integral):
                raise TypeError(f"max_features must be an integer or None, got {max_features!r}")
            if max_features < 1:
                raise ValueError(f"max_features must be >= 1, got {max_features}")
            kept.sort(key=lambda w: (-tf[w], w))
            kept = kept[: int(max_features)]
        if not kept:
            raise ValueError(
                f"texts: no word is left after tokenising and pruning ({n_docs} documents, "
                f"min_df={min_df}, max_df={max_df}); lower min_df or check the texts"
            )
        vocab = Vocabulary(
            sorted(kept), lowercase=lowercase, token_pattern=token_pattern,
            stop_words=sorted(rules.stop_words), min_length=min_length,
        )
        index = vocab.index
        lengths = np.empty(n_docs, dtype=np.int64)
        ids: list[int] = []
        n_unknown = 0
        for d, tokens in enumerate(token_lists):
            known = [index[t] for t in tokens if t in index]
            n_unknown += len(tokens) - len(known)
            lengths[d] = len(known)
            ids.extend(known)
        return cls(
            np.asarray(ids, dtype=np.int64), np.concatenate([[0], np.cumsum(lengths)]), vocab,
            n_unknown=n_unknown,
        )

    @classmethod
    def _encode(cls, texts: list[str], vocabulary: Vocabulary) -> TextCorpus:
        pieces, n_unknown = [], 0
        for text in texts:
            ids, unknown = vocabulary.encode(text)
            pieces.append(ids)
            n_unknown += unknown
        lengths = np.asarray([len(p) for p in pieces], dtype=np.int64)
        tokens = np.concatenate(pieces) if pieces else np.zeros(0, np.int64)
        return cls(
            tokens, np.concatenate([[0], np.cumsum(lengths)]), vocabulary, n_unknown=n_unknown
        )

    @classmethod
    def from_file(
        cls, path: str | os.PathLike, *, encoding: str = "utf-8", **options: Any
    ) -> TextCorpus:
        """One document per line of a text file (``.gz`` read transparently).

        Parameters
        ----------
        path : str or path
        encoding : str, default="utf-8"
            The file's text encoding.
        **options
            Passed to :meth:`from_texts`.

        Returns
        -------
        TextCorpus

        Examples
        --------
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "docs.txt"
        >>> _ = p.write_text("first document\\nsecond document\\n", encoding="utf-8")
        >>> len(TextCorpus.from_file(p))
        2
        """
        lines = [line.rstrip("\r\n") for line in read_text_lines(path, encoding)]
        return cls.from_texts(lines, **options)

    @classmethod
    def from_jsonl(
        cls,
        path: str | os.PathLike,
        *,
        text_field: str = "text",
        encoding: str = "utf-8",
        max_docs: int | None = None,
        **options: Any,
    ) -> TextCorpus:
        """JSON lines (``.gz`` read transparently), the document text in ``text_field``.

        A line without ``text_field`` is an error naming the line and the fields it has.

        Parameters
        ----------
        path : str or path
        text_field : str, default="text"
        encoding : str, default="utf-8"
        max_docs : int or None, default=None
            Read only the first documents.
        **options
            Passed to :meth:`from_texts`.

        Returns
        -------
        TextCorpus

        Examples
        --------
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "docs.jsonl"
        >>> _ = p.write_text('{"body": "hello world"}\\n', encoding="utf-8")
        >>> TextCorpus.from_jsonl(p, text_field="body").vocabulary.words
        ['hello', 'world']
        """
        if not isinstance(text_field, str):
            raise TypeError(f"text_field must be a str, got {type(text_field).__name__}")
        texts = []
        for number, line in enumerate(read_text_lines(path, encoding), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"path: line {number} of {path} is not JSON: {exc}") from exc
            if not isinstance(record, dict) or text_field not in record:
                fields = sorted(record) if isinstance(record, dict) else type(record).__name__
                raise ValueError(
                    f"text_field {text_field!r} is missing from line {number} of {path}; "
                    f"that line has fields {fields}"
                )
            value = record[text_field]
            texts.append("" if value is None else str(value))
            if max_docs is not None and len(texts) >= max_docs:
                break
        return cls.from_texts(texts, **options)

    @classmethod
    def from_sklearn(cls, X: Any, vectorizer_or_words: Any) -> TextCorpus:
        """Wrap scikit-learn ``CountVectorizer`` output (``X``) with its feature names.

        Token order inside a document is not known, so ``tokens`` lists each document's words
        grouped by id (window coherence then treats a document as one window).

        Parameters
        ----------
        X : sparse matrix of shape (n_documents, n_words)
            Word counts.
        vectorizer_or_words : CountVectorizer or sequence of str
            The fitted vectorizer, or the column words.

        Returns
        -------
        TextCorpus

        Examples
        --------
        >>> from sklearn.feature_extraction.text import CountVectorizer
        >>> cv = CountVectorizer()
        >>> X = cv.fit_transform(["apples and pears", "pears"])
        >>> TextCorpus.from_sklearn(X, cv).vocabulary.words
        ['and', 'apples', 'pears']
        """
        if hasattr(vectorizer_or_words, "get_feature_names_out"):
            words = list(vectorizer_or_words.get_feature_names_out())
            lowercase = bool(getattr(vectorizer_or_words, "lowercase", True))
        else:
            words, lowercase = list(vectorizer_or_words), True
        counts = sp.csr_matrix(X)
        if counts.shape[1] != len(words):
            raise ValueError(
                f"X has {counts.shape[1]} columns but vectorizer_or_words names {len(words)} words"
            )
        counts.sum_duplicates()
        if counts.nnz and (counts.data < 0).any():
            raise ValueError("X contains negative counts")
        reps = np.rint(counts.data).astype(np.int64)
        tokens = np.repeat(counts.indices.astype(np.int64), reps)
        row_tokens = np.add.reduceat(reps, counts.indptr[:-1]) if counts.nnz else None
        lengths = np.zeros(counts.shape[0], dtype=np.int64)
        if row_tokens is not None:
            nonempty = np.diff(counts.indptr) > 0
            lengths[nonempty] = row_tokens[nonempty]
        vocab = Vocabulary(words, lowercase=lowercase, stop_words=None, min_length=1)
        return cls(
            tokens, np.concatenate([[0], np.cumsum(lengths)]), vocab,
            counts=counts.astype(np.int64),
        )
