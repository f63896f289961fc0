"""Auditing what the classifier misses: draw unflagged articles at random for review, and from
the verdicts estimate how many relevant stories a week go unflagged.

An audit samples the unflagged articles dated in the 7 days before it runs (default 2%, at
least 10 when there are that many). Verdicts on the samples are ordinary reviews. For each
audit week (the ISO week most of the sampled window falls in; several audits in one week pool
their samples), missed stories a week = (relevant share of the reviewed samples) x (unflagged
articles in the window), with a Wilson 95% interval on the share.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import sqlite_utils

import storage
from monitor.normalise import iso
from monitor.weeks import week_label

WINDOW = timedelta(days=7)
DEFAULT_SHARE = 0.02
MIN_SAMPLE = 10
Z_95 = 1.959963984540054


@dataclass(frozen=True)
class AuditDraw:
    week: str
    window_start: str
    window_end: str
    unflagged: int  # unflagged articles dated in the window
    available: int  # of those, not drawn by an earlier audit
    seed: int
    article_ids: tuple[int, ...]  # drawn now, in id order


def sample_size(unflagged: int, available: int, share: float, count: int | None) -> int:
    """`count` if given, else `share` of the unflagged articles (rounded up) but at least
    MIN_SAMPLE; never more than are available."""
    wanted = count if count is not None else max(math.ceil(share * unflagged), MIN_SAMPLE)
    return max(0, min(wanted, available))


def audit_week(window_start: datetime, window_end: datetime, tz: tzinfo = UTC) -> str:
    """The ISO week, in `tz`, most of the window falls in: the week of its midpoint."""
    return week_label(window_start + (window_end - window_start) / 2, tz)


def draw_audit(
    db: sqlite_utils.Database,
    now: datetime,
    *,
    share: float = DEFAULT_SHARE,
    count: int | None = None,
    seed: int | None = None,
    tz: tzinfo = UTC,
) -> AuditDraw:
    """Draw unflagged articles from the 7 days before `now` and mark them for review. The same
    seed on the same database draws the same articles; without one, a seed is chosen and kept
    with the audit. The audit's week is an ISO week in `tz`, as the digest's are."""
    start, end = now - WINDOW, now
    population = storage.audit_population(db, iso(start), iso(end))
    available = [article_id for article_id, sampled in population if not sampled]
    size = sample_size(len(population), len(available), share, count)
    if seed is None:
        seed = random.SystemRandom().randrange(2**31)
    chosen = tuple(sorted(random.Random(seed).sample(available, size)))
    week = audit_week(start, end, tz)
    if chosen:
        storage.record_audit(
            db,
            chosen,
            sampled_at=iso(now),
            week=week,
            window=(iso(start), iso(end)),
            unflagged=len(population),
            share=share,
            seed=seed,
        )
    return AuditDraw(week, iso(start), iso(end), len(population), len(available), seed, chosen)


def wilson(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for a proportion; (0, 1) without trials."""
    if trials <= 0:
        return 0.0, 1.0
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class MissedEstimate:
    """Relevant stories a week the classifier left unflagged, from one audit week's samples."""

    week: str
    unflagged: int
    sampled: int
    reviewed: int
    relevant: int

    @property
    def share(self) -> float | None:
        return self.relevant / self.reviewed if self.reviewed else None

    @property
    def estimate(self) -> float | None:
        return None if self.share is None else self.share * self.unflagged

    @property
    def interval(self) -> tuple[float, float] | None:
        if not self.reviewed:
            return None
        low, high = wilson(self.relevant, self.reviewed)
        return low * self.unflagged, high * self.unflagged

    def as_dict(self) -> dict[str, Any]:
        interval = self.interval
        return {
            **asdict(self),
            "share": _round(self.share, 4),
            "missed_per_week": _round(self.estimate, 1),
            "low": _round(interval[0], 1) if interval else None,
            "high": _round(interval[1], 1) if interval else None,
            "confidence": 0.95,
        }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def missed_estimates(db: sqlite_utils.Database) -> list[MissedEstimate]:
    """One estimate per audit week, newest first."""
    return [
        MissedEstimate(
            week=row["week"],
            unflagged=int(row["unflagged"] or 0),
            sampled=int(row["sampled"]),
            reviewed=int(row["reviewed"]),
            relevant=int(row["relevant"]),
        )
        for row in storage.audit_weeks(db)
    ]


def current_estimate(estimates: list[MissedEstimate]) -> MissedEstimate | None:
    """The newest audit week with reviewed samples, else the newest audit week (if any)."""
    reviewed = [e for e in estimates if e.reviewed]
    return reviewed[0] if reviewed else (estimates[0] if estimates else None)


def estimate_for_week(estimates: list[MissedEstimate], week: str) -> MissedEstimate | None:
    return next((e for e in estimates if e.week == week), None)


def format_estimate(estimate: MissedEstimate | None, week: str | None = None) -> str:
    """One line for `monitor status` and the digest (`week`: the one asked about)."""
    if estimate is None:
        where = f" of {week}" if week else " yet"
        return f"missed stories: no audit{where} (`monitor audit` draws unflagged articles)"
    head = f"missed stories, audit {estimate.week}:"
    sample = (
        f"{estimate.relevant} relevant of {estimate.reviewed} reviewed audit samples"
        f" ({estimate.sampled} drawn) among {estimate.unflagged:,} unflagged articles"
    )
    if estimate.estimate is None or estimate.interval is None:
        return f"{head} none of {estimate.sampled} samples reviewed yet (`monitor review --audit`)"
    low, high = estimate.interval
    return f"{head} about {estimate.estimate:,.0f} a week (95% CI {low:,.0f}–{high:,.0f}); {sample}"


def format_draw(draw: AuditDraw) -> str:
    if not draw.article_ids:
        if not draw.unflagged:
            return f"no unflagged articles dated {draw.window_start} – {draw.window_end}"
        return f"all {draw.unflagged} unflagged articles of the window were drawn before"
    return (
        f"audit {draw.week}: drew {len(draw.article_ids)} of {draw.unflagged:,} unflagged"
        f" articles dated {draw.window_start} – {draw.window_end} (seed {draw.seed});"
        " review them with `monitor review --audit`"
    )
