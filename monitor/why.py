"""Why an article was flagged: the terms behind each label, tidied for storage, formatted for
tables and CSV, and found in the text for highlighting. Pure functions; no model here."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

MAX_TERMS = 5  # per label
MIN_TERM_LENGTH = 2  # a lone character (告, 拘) explains little
# English function words carry weight in the model (personal stories say "she" and "who") but
# tell an analyst nothing about why a story matters; terms made only of them are not shown.
FUNCTION_WORDS = frozenset(
    """a about after along also an and are as at be been before but by can could did do does
    for from had has have he her hers him his i in into is it its me more my no not of on or
    our out over said say says she so than that the their them then there these they this
    those to up was we were what when where which while who whom whose will with would you
    your""".split()
)


def searchable(title: str, summary: str) -> str:
    """The text the features were computed on, as terms are compared with it: NFKC, lower case."""
    return unicodedata.normalize("NFKC", f"{title}\n{summary}").lower()


def tidy_terms(terms: Iterable[str], text: str, limit: int = MAX_TERMS) -> tuple[str, ...]:
    """The model's readable terms for one label (strongest first) as stored: lower case, each
    occurring in `text` (see `searchable`), none inside another, at most `limit`.

    A keyword match "north korea + repatriated" becomes its parts; lone characters (国, 告)
    explain little and are dropped unless nothing else is left; so are terms made only of
    English function words ("she", "of the").
    """
    kept: list[str] = []
    singles: list[str] = []
    for term in terms:
        for part in term.split(" + "):
            part = " ".join(part.lower().split())
            if not part or part not in text or any(part in other for other in kept):
                continue
            if all(word in FUNCTION_WORDS for word in part.split()):
                continue
            if len(part) < MIN_TERM_LENGTH:
                singles.append(part)
                continue
            kept = _merge(kept, part)
    return tuple(kept[:limit] if kept else singles[:1])


def _merge(kept: list[str], term: str) -> list[str]:
    """`kept` plus `term`, which takes the place of the kept terms it contains."""
    merged: list[str] = []
    for other in kept:
        if other not in term:
            merged.append(other)
        elif term not in merged:
            merged.append(term)
    return merged if term in merged else [*merged, term]


def format_why(why: Mapping[str, Sequence[str]]) -> str:
    """'defectors: 탈북민, defector; border: 국경' (labels in stored order)."""
    return "; ".join(f"{label}: {', '.join(terms)}" for label, terms in why.items() if terms)


def short_why(why: Mapping[str, Sequence[str]], per_label: int = 1) -> str:
    """The strongest term of each label, without repeats: '탈북민, 강제북송'."""
    terms: list[str] = []
    for label_terms in why.values():
        for term in label_terms[:per_label]:
            if term not in terms:
                terms.append(term)
    return ", ".join(terms)


def all_terms(why: Mapping[str, Sequence[str]]) -> list[str]:
    terms: list[str] = []
    for label_terms in why.values():
        terms.extend(t for t in label_terms if t and t not in terms)
    return terms


def term_spans(text: str, terms: Iterable[str]) -> list[tuple[int, int]]:
    """Non-overlapping (start, end) spans of `terms` in `text`, ignoring case; longer terms win
    where two start at the same place."""
    ordered = sorted({t for t in terms if t.strip()}, key=len, reverse=True)
    if not ordered:
        return []
    pattern = re.compile("|".join(re.escape(t) for t in ordered), re.IGNORECASE)
    return [match.span() for match in pattern.finditer(text)]
