"""The digest's queries: a week's stories, and the counts its summary is drawn from.

Every query picks stories by the time of their first article (`stories.first_time`) in
[start, end), ISO 8601 UTC bounds the caller computes (from its time zone), and by `status`:

- ``relevant``: the current verdict is relevant or escalated;
- ``unreviewed``: flagged by the model, no verdict yet;
- ``all``: flagged by the model or given a relevant/escalated verdict; stories marked not
  relevant are left out unless `include_rejected`.

A story is shown through its representative article, the one with the highest score
(`stories.best_article_id`): its title, link, why-terms and score. Its labels are the
analyst's when the verdict is relevant or escalated, else that same article's model labels
(not the union over the story's articles, so labels, why-terms and score always agree).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlite_utils

from storage.classifications import decode_why
from storage.reviews import CURRENT_LABELS, LATEST_STORY_REVIEW, RELEVANT_SQL

DIGEST_STATUSES = ("relevant", "unreviewed", "all")
RELEVANT_VERDICTS = ("relevant", "escalated")

_JOINS = f"""
    from stories s
    join articles b on b.id = coalesce(s.best_article_id, s.first_article_id)
    left join classifications c on c.id = b.classification_id
    left join feeds f on f.id = s.first_feed_id
    left join reviews r on r.id = {LATEST_STORY_REVIEW}
"""


def _where(status: str, include_rejected: bool) -> str:
    if status == "relevant":
        chosen = RELEVANT_SQL
    elif status == "unreviewed":
        chosen = "s.flagged = 1 and r.id is null"
    elif status == "all":
        chosen = f"(s.flagged = 1 or {RELEVANT_SQL})"
        if not include_rejected:
            chosen += " and (r.verdict is null or r.verdict != 'not-relevant')"
    else:
        raise ValueError(f"status must be one of {', '.join(DIGEST_STATUSES)}, got {status!r}")
    return f"where s.first_time >= ? and s.first_time < ? and {chosen}"


def _picked(status: str, include_rejected: bool) -> str:
    """SQL selecting (id, first_time, labels) of the chosen stories; takes start and end."""
    where = _where(status, include_rejected)
    return f"select s.id, s.first_time, {CURRENT_LABELS} as labels {_JOINS} {where}"


def week_stories(
    db: sqlite_utils.Database,
    start: str,
    end: str,
    *,
    status: str = "all",
    include_rejected: bool = False,
) -> list[dict[str, Any]]:
    """The chosen stories first seen in [start, end), earliest first: story_id, first_time,
    first_outlet, outlets, articles, article_id (the representative), title, url, score,
    labels (list), why ({label: [term]}), verdict (None: unreviewed), note."""
    sql = f"""
        select s.id as story_id, s.first_time, f.name as first_outlet, s.outlets, s.articles,
               b.id as article_id, b.title, b.url, s.score, {CURRENT_LABELS} as labels, c.why,
               r.verdict, r.note
        {_JOINS} {_where(status, include_rejected)}
        order by s.first_time, s.id
    """
    rows = []
    for row in db.query(sql, [start, end]):
        row["labels"] = _labels(row["labels"])
        row["why"] = decode_why(row["why"])
        rows.append(row)
    return rows


def _labels(text: str | None) -> list[str]:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return [str(label) for label in value] if isinstance(value, list) else []


def label_day_counts(
    db: sqlite_utils.Database,
    day_bounds: Sequence[str],
    *,
    status: str = "all",
    include_rejected: bool = False,
) -> list[dict[str, Any]]:
    """Stories per day: for each [day_bounds[i], day_bounds[i + 1]) (local days as UTC bounds),
    {"stories": n, "labels": {label: n}}; a story with two labels counts for both."""
    days = len(day_bounds) - 1
    if days < 1:
        return []
    values = ", ".join(f"({i}, ?, ?)" for i in range(days))
    bounds = [b for i in range(days) for b in (day_bounds[i], day_bounds[i + 1])]
    sql = f"""
        with days(day, day_start, day_end) as (values {values}),
        picked as ({_picked(status, include_rejected)}),
        dated as (select d.day, p.labels from picked p
                  join days d on p.first_time >= d.day_start and p.first_time < d.day_end)
        select day, null as label, count(*) as stories from dated group by day
        union all
        select day, j.value as label, count(*) as stories from dated,
            json_each(case when json_valid(dated.labels) and json_type(dated.labels) = 'array'
                      then dated.labels else '[]' end) j
        where j.type = 'text' group by day, j.value
    """
    counts: list[dict[str, Any]] = [{"stories": 0, "labels": {}} for _ in range(days)]
    for day, label, stories in db.execute(sql, [*bounds, day_bounds[0], day_bounds[-1]]):
        if label is None:
            counts[day]["stories"] = stories
        else:
            counts[day]["labels"][label] = stories
    return counts


def top_outlets(
    db: sqlite_utils.Database,
    start: str,
    end: str,
    *,
    status: str = "all",
    include_rejected: bool = False,
    limit: int = 5,
) -> list[tuple[str, int]]:
    """The outlets that carried the most of the chosen stories first seen in [start, end):
    (feed name, stories), most first; every outlet that carried a story counts, not only
    the first."""
    sql = f"""
        with picked as ({_picked(status, include_rejected)})
        select f.name, count(distinct p.id) as stories
        from picked p join articles a on a.story_id = p.id
        join sightings si on si.article_id = a.id join feeds f on f.id = si.feed_id
        group by f.id order by stories desc, f.name limit ?
        """
    return [(name, count) for name, count in db.execute(sql, [start, end, limit])]
