"""Near-duplicate signatures: MinHash over character shingles, for any language.

A wire story republished by several outlets, or a headline lightly edited, keeps most of its
character n-grams, whatever the script: Korean, Chinese and Japanese have no spaces to split
words on, so shingles are characters, not words. Letters and digits only, case-folded:
punctuation, spaces and markup left over from feeds do not count.

A signature has two halves, the title's and the summary's, compared separately: outlets share
boilerplate ledes ("Read more…", stock sentences) more often than headlines, and a copy keeps
both. Each half is one-permutation MinHash: each shingle is hashed once (a rolling hash, then
a 64-bit mixer), its top bits choose one of `HALF` bins and each bin keeps its smallest value;
empty bins take the value of the next full one. Two halves agree in a bin with probability
equal to the Jaccard similarity of their shingle sets. All integer arithmetic on NumPy
arrays, so signatures are the same in every process and release and can be stored.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np

HALF = 32  # bins per half
BINS = 2 * HALF  # title bins, then summary bins
BYTES = BINS * 4  # a signature is BINS little-endian uint32 values
SUMMARY_CHARS = 300  # of the summary: outlets cut ledes at different lengths
WIDE_SHINGLE = 3  # characters per shingle where one character is a syllable or a word
NARROW_SHINGLE = 5  # elsewhere (alphabets)
EMPTY = 0xFFFF_FFFF  # every bin of a half with no text
_DROP = re.compile(r"[\W_]+")
_WIDE = re.compile(r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u9fff\uac00-\ud7af]")
_BASE = np.uint64(1_000_003)
_UNSET = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
_BIN_SHIFT = np.uint64(64 - 5)  # top 5 bits: one of 32 bins
_VALUE_MASK = np.uint64((1 << 59) - 1)


def shingle_text(text: str, limit: int) -> str:
    """The letters and digits of `text` that a signature is computed from, case-folded."""
    text = unicodedata.normalize("NFKC", text[: limit * 2])
    return _DROP.sub("", text.casefold())[:limit]


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
    """One signature per (title, summary), computed for all of them at once; b"" for a text
    with no letters or digits at all (it matches nothing)."""
    if not texts:
        return []
    titles = _halves([shingle_text(title, SUMMARY_CHARS) for title, _ in texts])
    bodies = _halves([shingle_text(summary, SUMMARY_CHARS) for _, summary in texts])
    table = np.concatenate((titles, bodies), axis=1)
    blank = (table == EMPTY).all(axis=1)
    return [b"" if empty else row.tobytes() for empty, row in zip(blank, table, strict=True)]


def _halves(prepared: list[str]) -> np.ndarray:
    """HALF MinHash bins (uint32) per text."""
    table = np.full((len(prepared), HALF), _UNSET, dtype=np.uint64)
    joined = "".join(prepared)
    if joined:
        codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        lengths = np.fromiter((len(t) for t in prepared), dtype=np.int64, count=len(prepared))
        sizes = np.fromiter(
            (shingle_size(t) for t in prepared), dtype=np.int64, count=len(prepared)
        )
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        owner = np.repeat(np.arange(len(prepared)), lengths)
        with np.errstate(over="ignore"):
            for size in np.unique(sizes):
                _fill(table, codes, owner, starts, lengths, sizes == size, int(size))
    return _densify(table)


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
    hashed = _mix(rolling[keep])
    rows = first[keep]
    # texts shorter than a shingle: the whole text is their one shingle
    short = np.flatnonzero(chosen & (lengths > 0) & (lengths < size))
    if len(short):
        extra = [_whole_text_hash(codes[starts[i] : starts[i] + lengths[i]]) for i in short]
        hashed = np.concatenate((hashed, _mix(np.array(extra, dtype=np.uint64))))
        rows = np.concatenate((rows, short))
    bins = (hashed >> _BIN_SHIFT).astype(np.int64)
    np.minimum.at(table, (rows, bins), hashed & _VALUE_MASK)


def _whole_text_hash(codes: np.ndarray) -> np.uint64:
    value = np.uint64(0)
    for code in codes:
        value = value * _BASE + code
    return value


def _densify(table: np.ndarray) -> np.ndarray:
    """Empty bins borrow from the next full bin (cyclically), so that two short texts still
    compare bin by bin; rows with no shingle at all become EMPTY throughout."""
    filled = table != _UNSET
    out = table.copy()
    for step in range(1, HALF):
        empty = out == _UNSET
        if not empty.any():
            break
        donor = np.roll(filled, -step, axis=1) & empty
        rolled = np.roll(table, -step, axis=1)
        out[donor] = rolled[donor] ^ np.uint64(step)  # differ from the donor bin itself
    values = (out >> np.uint64(27)).astype(np.uint32)  # 32 of the 59 value bits
    values[values == EMPTY] = EMPTY - 1
    values[~filled.any(axis=1)] = EMPTY
    return values


def as_array(signature: bytes) -> np.ndarray:
    return np.frombuffer(signature, dtype="<u4")


def similarities(signature: bytes, others: np.ndarray) -> np.ndarray:
    """Estimated similarity of `signature` to each row of `others` (n x BINS uint32): the
    mean of the title and summary halves' Jaccard estimates, or the title's alone when either
    summary is empty."""
    mine = as_array(signature)
    same = others == mine
    # np.add.reduce, not .mean(): this runs once for every article stored, on a few rows.
    title = np.add.reduce(same[:, :HALF], axis=1, dtype=np.float64) / HALF
    body = np.add.reduce(same[:, HALF:], axis=1, dtype=np.float64) / HALF
    bodies = (others[:, HALF] != EMPTY) & (mine[HALF] != EMPTY)
    titles = (others[:, 0] != EMPTY) & (mine[0] != EMPTY)
    return np.where(bodies & titles, (title + body) / 2, np.where(titles, title, body))


def similarity(a: bytes, b: bytes) -> float:
    """Estimated similarity of two texts (see `similarities`); 0 if either has no signature."""
    if len(a) != BYTES or len(b) != BYTES:
        return 0.0
    return float(similarities(a, as_array(b)[None, :])[0])


_BAND_SALT = (np.arange(BINS // 2, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)).astype("<u8")


def bands(signature: bytes) -> list[int]:
    """The signature's bands of two bins, as 64-bit keys (salted by position, so equal bins in
    different places differ): texts sharing a band are candidates. Halves with no text have
    none."""
    keys = (np.frombuffer(signature, dtype="<u8") ^ _BAND_SALT).tolist()
    title, body = keys[: HALF // 2], keys[HALF // 2 :]
    return (title if signature[:4] != b"\xff\xff\xff\xff" else []) + (
        body if signature[HALF * 4 : HALF * 4 + 4] != b"\xff\xff\xff\xff" else []
    )
