"""Plain records handed to storage; importing them loads nothing else (parse workers build them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ArticleIn:
    """A normalised article ready to store. `key` identifies it within its feed."""

    key: str
    guid: str | None
    url: str | None
    canonical_url: str | None
    title: str
    summary: str
    published: str | None
    language: str | None
    content_hash: str
    signature: bytes | None = None  # MinHash of the text, for grouping into stories


@dataclass(frozen=True)
class ClassificationIn:
    scores: Mapping[str, float]
    labels: tuple[str, ...]
    flagged: bool
    # label -> the terms of the text that raised that label's score most (flagged articles)
    why: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # max over labels of (score - that label's threshold): >= 0 flagged; near 0 unsure.
    # None when unknown (scored before margins were stored, or by a model without thresholds)
    margin: float | None = None
