"""A faster ``TfidfVectorizer.transform`` for the fitted vectorisers TextFeatures uses.

Scoring articles was dominated by scikit-learn's transform, whose analyzers build every n-gram as
a Python string and look each one up in a Python loop. Here the n-grams never become strings:
each document is turned into integer symbols (characters for ``char_wb``, tokens for ``word``), a
window of n symbols becomes one base-B integer key, and the keys of a whole batch are looked up
with ``np.searchsorted`` in the sorted keys of the vocabulary.

The result is the matrix scikit-learn's ``transform`` returns for the same vectoriser, to the
last bit in practice (same operations in the same order): lowercasing per document; ``char_wb``
words split on whitespace and padded with one space each side, a padded word no longer than n
counted once and no larger n tried; ``word`` tokens from the default token pattern joined by
spaces into n-grams; out-of-vocabulary n-grams ignored; 1 + log(count) if ``sublinear_tf``, times
``idf_``, each row divided by its l2 norm (summed in column order), empty rows left at zero;
canonical CSR with sorted indices.

Only ``vocabulary_``, ``idf_`` and ``get_params()`` are read, so any object with them works: a
TfidfVectorizer, or a ``fitted.FittedView`` rebuilt from a saved model, and this module does not
import scikit-learn. Anything else (another analyzer, a callable, stop words, accent stripping,
binary, an l1 norm, no idf, a custom token pattern, non-str documents, an unfitted vectoriser, an
object without ``get_params``) goes to ``vec.transform``, so correctness never depends on the fast
path. Lookup tables are built once per vectoriser and rebuilt if its ``vocabulary_`` or ``idf_``
object is replaced or a parameter attribute (as scikit-learn estimators keep them) changes;
mutating them in place is not noticed.
"""

from __future__ import annotations

import re
import sys
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from typing import Any

import numpy as np
import scipy.sparse as sp

DEFAULT_TOKEN_PATTERN = r"(?u)\b\w\w+\b"
MAX_KEY = 2**63 - 1

# str.split() and sklearn's r"\s\s+" agree on what whitespace is, and none lies above U+3000.
WHITESPACE_LIMIT = 0x3000
IS_WHITESPACE = np.array([chr(c).isspace() for c in range(WHITESPACE_LIMIT + 1)])


# The parameters that decide how a fitted vectoriser transforms str documents: all are checked
# before the fast path is taken (fitted.TRANSFORM_PARAMS is the smaller set a saved view keeps).
DECIDING_PARAMS = (
    "input",
    "analyzer",
    "preprocessor",
    "tokenizer",
    "token_pattern",
    "stop_words",
    "strip_accents",
    "lowercase",
    "ngram_range",
    "binary",
    "norm",
    "use_idf",
    "sublinear_tf",
    "dtype",
)


@dataclass(frozen=True)
class Tables:
    """Vocabulary terms as integer keys, for one fitted vectoriser."""

    analyzer: str
    ngram_range: tuple[int, int]
    lowercase: bool
    sublinear_tf: bool
    norm: str | None
    idf: np.ndarray
    base: int  # symbols are 1..base-1; 0 stands for anything the vocabulary never uses
    symbols: dict[str, int]  # word: token -> symbol
    char_symbols: np.ndarray  # char_wb: code point -> symbol, for code points < len()
    space: int  # char_wb: the symbol of " ", or 0
    keys: dict[int, tuple[np.ndarray, np.ndarray]]  # length -> (sorted keys, column of each)


@dataclass(frozen=True)
class Cached:
    """Tables (None: unsupported) and what they were built from, to notice a change."""

    vocabulary: Any
    idf: Any
    params: tuple[Any, ...]
    tables: Tables | None


_cache: weakref.WeakKeyDictionary[Any, Cached] = weakref.WeakKeyDictionary()
_tokenize = re.compile(DEFAULT_TOKEN_PATTERN).findall


def supports(vec: Any) -> bool:
    """True if transform() computes vec's matrix itself rather than calling vec.transform."""
    return tables_for(vec) is not None


def transform(vec: Any, texts: Sequence[str]) -> sp.csr_matrix:
    """vec.transform(texts), computed faster when supports(vec); see the module docstring."""
    tables = tables_for(vec)
    if tables is None or isinstance(texts, str):
        return vec.transform(texts)
    texts = list(texts)
    if not texts or not all(isinstance(text, str) for text in texts):
        return vec.transform(texts)  # decodes bytes, raises for no documents or for nan
    docs = [text.lower() for text in texts] if tables.lowercase else texts
    if tables.analyzer == "word":
        rows, cols = word_hits(tables, docs)
    else:
        rows, cols = char_wb_hits(tables, docs)
    return tfidf_matrix(tables, rows, cols, len(docs))


def tables_for(vec: Any) -> Tables | None:
    """vec's lookup tables, built on first use and again if it was refitted or reconfigured."""
    get_params = getattr(vec, "get_params", None)
    if not callable(get_params):
        return None
    # NotFittedError is an AttributeError, so an unfitted vectoriser gives None here.
    vocabulary, idf = getattr(vec, "vocabulary_", None), getattr(vec, "idf_", None)
    params = tuple(getattr(vec, name, None) for name in DECIDING_PARAMS)
    try:
        cached = _cache.get(vec)
    except TypeError:  # cannot be weakly referenced: build the tables every time
        return build_tables(get_params(), vocabulary, idf)
    if (
        cached is None
        or cached.vocabulary is not vocabulary
        or cached.idf is not idf
        or cached.params != params
    ):
        tables = build_tables(get_params(), vocabulary, idf)
        cached = Cached(vocabulary, idf, params, tables)
        _cache[vec] = cached
    return cached.tables


def supported_params(params: Any) -> bool:
    if not isinstance(params, dict) or not all(name in params for name in DECIDING_PARAMS):
        return False
    ngram_range = params["ngram_range"]
    if not isinstance(ngram_range, (tuple, list)) or len(ngram_range) != 2:
        return False
    low, high = ngram_range
    return (
        params["analyzer"] in ("word", "char_wb")
        and params["input"] == "content"
        and params["preprocessor"] is None
        and params["tokenizer"] is None
        and params["stop_words"] is None
        and not params["strip_accents"]
        and not params["binary"]
        and params["use_idf"] is True
        and params["norm"] in ("l2", None)
        and isinstance(params["lowercase"], bool)
        and isinstance(params["sublinear_tf"], bool)
        and params["dtype"] in (np.float64, np.dtype(np.float64), "float64")
        and (params["analyzer"] != "word" or params["token_pattern"] == DEFAULT_TOKEN_PATTERN)
        and type(low) is int
        and type(high) is int
        and 1 <= low <= high
    )


def build_tables(params: dict[str, Any], vocabulary: Any, idf: Any) -> Tables | None:
    if not supported_params(params) or not isinstance(vocabulary, dict) or not vocabulary:
        return None
    idf = np.asarray(idf)
    if idf.dtype != np.float64 or idf.shape != (len(vocabulary),):
        return None
    analyzer = params["analyzer"]
    low, high = params["ngram_range"]
    # A term's symbols: its tokens for word n-grams (default-pattern tokens never contain a
    # space, so this split is the only one), its characters for char_wb.
    if analyzer == "word":
        spelled = {term: term.split(" ") for term in vocabulary if term.count(" ") < high}
    else:
        spelled = {term: list(term) for term in vocabulary if 0 < len(term) <= high}
    alphabet = sorted(set(chain.from_iterable(spelled.values())))
    symbols = {symbol: i for i, symbol in enumerate(alphabet, start=1)}
    base = len(alphabet) + 1
    if base**high > MAX_KEY:
        return None
    by_length: dict[int, list[tuple[int, int]]] = {}
    for term, parts in spelled.items():
        key = 0
        for part in parts:
            key = key * base + symbols[part]
        by_length.setdefault(len(parts), []).append((key, vocabulary[term]))
    keys = {}
    for length, pairs in by_length.items():
        pairs.sort()
        keys[length] = (
            np.array([key for key, _ in pairs], dtype=np.int64),
            np.array([column for _, column in pairs], dtype=np.int64),
        )
    char_symbols = np.zeros(0, dtype=np.int32)
    if analyzer == "char_wb" and alphabet:
        char_symbols = np.zeros(max(map(ord, alphabet)) + 1, dtype=np.int32)
        char_symbols[[ord(c) for c in alphabet]] = np.arange(1, base)
    return Tables(
        analyzer=analyzer,
        ngram_range=(low, high),
        lowercase=params["lowercase"],
        sublinear_tf=params["sublinear_tf"],
        norm=params["norm"],
        idf=idf,
        base=base,
        symbols=symbols if analyzer == "word" else {},
        char_symbols=char_symbols,
        space=symbols.get(" ", 0) if analyzer == "char_wb" else 0,
        keys=keys,
    )


def word_hits(tables: Tables, docs: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of every in-vocabulary word n-gram occurrence."""
    tokens = [_tokenize(doc) for doc in docs]
    counts = np.fromiter(map(len, tokens), dtype=np.int64, count=len(docs))
    flat = chain.from_iterable(tokens)
    total = int(counts.sum())
    ids = np.fromiter(map(tables.symbols.get, flat, repeat(0)), dtype=np.int64, count=total)
    doc_of = np.repeat(np.arange(len(docs)), counts)
    low, high = tables.ngram_range
    found_rows, found_cols = [], []
    key = ids
    for n in range(1, high + 1):
        if n > 1:
            key = key[:-1] * tables.base + ids[n - 1 :]
        if n < low or n not in tables.keys:
            continue
        starts = np.flatnonzero(doc_of[: len(key)] == doc_of[n - 1 :])
        rows, cols = lookup(tables.keys[n], key[starts], doc_of[starts])
        found_rows.append(rows)
        found_cols.append(cols)
    return concatenate(found_rows), concatenate(found_cols)


def char_wb_hits(tables: Tables, docs: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of every in-vocabulary char_wb n-gram occurrence.

    The documents are joined with spaces and a space put at each end, so every word has
    whitespace on both sides, which stands for its padding. A window of the joined text is an
    n-gram of a padded word when no whitespace lies strictly inside it (and for n = 2, not both
    characters are whitespace); each window then has the same characters as sklearn's n-gram.
    The 1-gram " " is the exception: sklearn counts the two pads of every word, so it is counted
    from the word starts rather than from the whitespace.
    """
    text = " " + " ".join(docs) + " "
    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    is_space = np.zeros(len(points), dtype=bool)
    low_points = points <= WHITESPACE_LIMIT
    is_space[low_points] = IS_WHITESPACE[points[low_points]]
    table = tables.char_symbols
    known = points < len(table)
    ids = np.zeros(len(points), dtype=np.int64)
    ids[known] = table[points[known]]
    ids[is_space] = tables.space
    lengths = np.fromiter(map(len, docs), dtype=np.int64, count=len(docs))
    # The position of each character's document; a separator belongs to the document before it.
    doc_of = np.concatenate(([0], np.repeat(np.arange(len(docs)), lengths + 1)))
    spaces_before = np.concatenate(([0], np.cumsum(is_space)))
    low, high = tables.ngram_range
    found_rows, found_cols = [], []
    if low == 1 and 1 in tables.keys:
        word_starts = np.flatnonzero(~is_space[1:] & is_space[:-1]) + 1
        pads = np.repeat(doc_of[word_starts], 2)
        rows, cols = lookup(tables.keys[1], np.full(len(pads), tables.space), pads)
        found_rows.append(rows)
        found_cols.append(cols)
    key = ids
    for n in range(1, high + 1):
        if n > 1:
            key = key[:-1] * tables.base + ids[n - 1 :]
        if n not in tables.keys or (n < low and n < 3):
            continue
        count = len(key)
        if n == 1:
            valid = ~is_space
        elif n == 2:
            valid = ~(is_space[:-1] & is_space[1:])
        else:
            valid = spaces_before[n - 1 : n - 1 + count] == spaces_before[1 : 1 + count]
        if n < low:  # a whole padded word shorter than the smallest n
            valid &= is_space[:count] & is_space[n - 1 :]
        starts = np.flatnonzero(valid)
        # A window starting with padding belongs to the document of the character after it.
        rows, cols = lookup(tables.keys[n], key[starts], doc_of[starts + is_space[starts]])
        found_rows.append(rows)
        found_cols.append(cols)
    return concatenate(found_rows), concatenate(found_cols)


def lookup(
    terms: tuple[np.ndarray, np.ndarray], keys: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The rows and vocabulary columns of the keys that are vocabulary terms, in no set order."""
    sorted_keys, columns = terms
    # Sorted needles make searchsorted several times faster than the sort costs.
    order = np.argsort(keys)
    keys = keys[order]
    at = np.searchsorted(sorted_keys, keys)
    at[at == len(sorted_keys)] = 0
    hit = sorted_keys[at] == keys
    return rows[order[hit]], columns[at[hit]]


def concatenate(arrays: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int64)


def tfidf_matrix(tables: Tables, rows: np.ndarray, cols: np.ndarray, n_docs: int) -> sp.csr_matrix:
    """Counts of (row, column) occurrences weighted and normalised as TfidfTransformer does."""
    n_features = len(tables.idf)
    cells, counts = np.unique(rows * n_features + cols, return_counts=True)
    rows, cols = np.divmod(cells, n_features)
    data = counts.astype(np.float64)
    if tables.sublinear_tf:
        np.log(data, out=data)
        data += 1.0
    data *= tables.idf[cols]
    if tables.norm == "l2":
        # bincount adds in order, as sklearn's loop does, so the sums agree to the last bit.
        norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=n_docs))
        norms[norms == 0.0] = 1.0  # sklearn leaves a zero row (only with a zero idf) alone
        data /= norms[rows]
    index = np.int32 if max(len(data), n_features) <= np.iinfo(np.int32).max else np.int64
    indptr = np.zeros(n_docs + 1, dtype=index)
    np.cumsum(np.bincount(rows, minlength=n_docs), out=indptr[1:])
    matrix = sp.csr_matrix(
        (data, cols.astype(index), indptr), shape=(n_docs, n_features), dtype=np.float64
    )
    if sparse_interface() == "sparray":
        return sp.csr_array(matrix)
    return matrix


def sparse_interface() -> str:
    """scikit-learn's ``sparse_interface`` setting; it cannot be set unless sklearn is imported."""
    sklearn = sys.modules.get("sklearn")
    get_config = getattr(sklearn, "get_config", None)
    if get_config is None:
        return "spmatrix"
    return get_config().get("sparse_interface", "spmatrix")
