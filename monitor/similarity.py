"""Near-duplicate signatures: MinHash over character shingles, for any language.

A wire story republished by several outlets, or a headline lightly edited, keeps most of its
character n-grams, whatever the script: Korean, Chinese and Japanese have no spaces to split
words on, so shingles are characters, not words. Letters and digits only, case-folded:
punctuation, spaces and markup left over from feeds do not count.

One-permutation hashing: each shingle is hashed once (a rolling hash, then a 64-bit mixer),
its top bits choose one of `BINS` bins and each bin keeps its smallest value. Empty bins take
the value of the next full one, so short titles still compare well. Two signatures agree in a
bin with probability equal to the Jaccard similarity of the two shingle sets. Everything is
integer arithmetic on NumPy arrays, so signatures are the same in every process and release
and can be stored.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np

BINS = 64
BYTES = BINS * 4  # a signature is BINS little-endian uint32 values
TEXT_CHARS = 400  # of the title and the start of the summary: outlets cut ledes differently
WIDE_SHINGLE = 3  # characters per shingle where one character is a syllable or a word
NARROW_SHINGLE = 5  # elsewhere (alphabets)
_DROP = re.compile(r"[\W_]+")
_WIDE = re.compile(r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u9fff\uac00-\ud7af]")
_BASE = np.uint64(1_000_003)
_EMPTY = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
_MASK58 = np.uint64((1 << 58) - 1)


def shingle_text(title: str, summary: str) -> str:
    """The letters and digits that a signature is computed from, case-folded."""
    text = unicodedata.normalize("NFKC", f"{title} {summary}")[: TEXT_CHARS * 2]
    return _DROP.sub("", text.casefold())[:TEXT_CHARS]


def shingle_size(text: str) -> int:
    wide = len(_WIDE.findall(text[:200]))
    return WIDE_SHINGLE if wide * 3 >= min(len(text), 200) else NARROW_SHINGLE


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every input bit moves every output bit."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def signatures(texts: Sequence[tuple[str, str]]) -> list[bytes]:
    """One signature per (title, summary), computed for all of them at once."""
    prepared = [shingle_text(title, summary) for title, summary in texts]
    if not prepared:
        return []
    joined = "".join(prepared)
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    lengths = np.fromiter((len(t) for t in prepared), dtype=np.int64, count=len(prepared))
    sizes = np.fromiter((shingle_size(t) for t in prepared), dtype=np.int64, count=len(prepared))
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    owner = np.repeat(np.arange(len(prepared)), lengths)
    table = np.full((len(prepared), BINS), _EMPTY, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for size in np.unique(sizes):
            _fill(table, codes, owner, starts, lengths, sizes == size, int(size))
    empty = (table == _EMPTY).all(axis=1)
    return [
        b"" if blank else row.tobytes() for blank, row in zip(empty, _densify(table), strict=True)
    ]


def _fill(
    table: np.ndarray,
    codes: np.ndarray,
    owner: np.ndarray,
    starts: np.ndarray,
    lengths: np.ndarray,
    chosen: np.ndarray,
    size: int,
) -> None:
    """Hash the `size`-character shingles of the texts in `chosen` into their rows of `table`."""
    count = max(len(codes) - size + 1, 0)
    rolling = np.zeros(count, dtype=np.uint64)
    for offset in range(size):
        rolling = rolling * _BASE + codes[offset : offset + count]
    first, last = owner[:count], owner[size - 1 : size - 1 + count]
    keep = (first == last) & chosen[first]
    # texts shorter than a shingle: the whole text is their one shingle
    short = np.flatnonzero(chosen & (lengths > 0) & (lengths < size))
    hashed = _mix(rolling[keep])
    rows = first[keep]
    if len(short):
        extra = [_whole_text_hash(codes[starts[i] : starts[i] + lengths[i]]) for i in short]
        hashed = np.concatenate((hashed, _mix(np.array(extra, dtype=np.uint64))))
        rows = np.concatenate((rows, short))
    bins = (hashed >> np.uint64(58)).astype(np.int64)
    np.minimum.at(table, (rows, bins), hashed & _MASK58)


def _whole_text_hash(codes: np.ndarray) -> np.uint64:
    value = np.uint64(0)
    for code in codes:
        value = value * _BASE + code
    return value


def _densify(table: np.ndarray) -> np.ndarray:
    """Empty bins borrow from the next full bin (cyclically), so that two short texts still
    compare bin by bin; rows with no shingle at all stay empty and match nothing."""
    filled = table != _EMPTY
    out = table.copy()
    for step in range(1, BINS):
        empty = out == _EMPTY
        if not empty.any():
            break
        donor = np.roll(filled, -step, axis=1) & empty
        rolled = np.roll(table, -step, axis=1)
        out[donor] = rolled[donor] ^ np.uint64(step)  # differ from the donor bin itself
    return (out >> np.uint64(26)).astype("<u4")


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of the two texts' shingle sets (0 for empty texts)."""
    left = np.frombuffer(a, dtype="<u4")
    right = np.frombuffer(b, dtype="<u4")
    if len(left) != BINS or len(right) != BINS:
        return 0.0
    return float(np.count_nonzero(left == right)) / BINS


def bands(signature: bytes, rows: int) -> list[bytes]:
    """The signature cut into bands of `rows` bins: texts that share a band are candidates."""
    step = rows * 4
    return [
        bytes([index]) + signature[start : start + step]
        for index, start in enumerate(range(0, BYTES - step + 1, step))
    ]
