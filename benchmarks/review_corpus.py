"""The review benchmark's database: a generated corpus stored through the project's own
storage layer, and cached by size, seed, CORPUS_VERSION and schema.

About 300 feeds in English, Korean, Chinese and Japanese; a year of articles with generated
titles and ledes (word lists in benchmarks/review_words.py); about 4% flagged, with scores,
labels and why-terms; near-duplicate stories carried by several outlets; a few thousand
verdicts; an audit sample. Used by benchmarks/review_speed.py.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import random
import sqlite3
import string
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from review_words import LANGUAGES, Pools

import storage

CORPUS_VERSION = 2  # bump when the generated database changes: the cache key includes it
CACHE_DIR = Path(tempfile.gettempdir()) / "nk-monitor-bench"
END = datetime(2026, 11, 29, tzinfo=UTC).timestamp()
DAY_S = 86_400
MODEL = "bench-review-1"
THRESHOLDS = {"defectors": 0.5, "repatriation": 0.45, "border": 0.55}
LABELS = tuple(THRESHOLDS)
FEEDS = {"en": (50, 3), "ko": (25, 3), "zh": (15, 3), "ja": (10, 3)}  # outlets, sections each
SECTIONS = ("politics", "world", "economy", "society", "north-korea", "national")
POLL_SIZE = 400  # articles per stored poll, at most
GROUP_SHARE = 0.08  # of articles: members of stories that several outlets carry
GROUP_SIZES = (2, 2, 2, 3, 3, 4, 5, 6)
RELEVANT_SHARE = {"north-korea": 0.10, "other": 0.025, "group": 0.15}
REVIEW_SHARE = 0.015  # verdicts per article


# -- text: the word lists, filled at random -------------------------------------------------


@functools.cache
def _slots(template: str) -> tuple[str, ...]:
    return tuple(sorted({name for _, name, _, _ in string.Formatter().parse(template) if name}))


def fill(template: str, pools: Pools, rng: random.Random) -> str:
    """`template` with each {slot} replaced by a random word of its pool (slots may nest once)."""
    for _ in range(2):
        if "{" not in template:
            break
        template = template.format(**{k: rng.choice(pools[k]) for k in _slots(template)})
    return template


# -- the corpus ------------------------------------------------------------------------------


@dataclass
class Feed:
    spec: storage.FeedSpec
    lang: str
    section: str
    weight: float
    id: int = 0


@dataclass
class Planned:
    key: str
    feed: Feed
    time: float
    title: str
    summary: str
    topics: tuple[str, ...]  # what it is really about (empty: other news)
    group: int = -1  # stories carried by several outlets: members share a group number


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def make_feeds(rng: random.Random) -> list[Feed]:
    feeds = []
    for lang, (outlets, sections) in FEEDS.items():
        first, second = LANGUAGES[lang].outlets
        for i in range(outlets):
            name = f"{first[i % len(first)]}{' ' if lang == 'en' else ''}{second[i // len(first)]}"
            for section in rng.sample(SECTIONS, sections):
                slug = hashlib.sha1(name.encode()).hexdigest()[:8]
                spec = storage.FeedSpec(
                    name=f"{name} · {section}",
                    url=f"https://{lang}-{slug}.example/{section}/rss.xml",
                    interval_s=900,
                    language=lang,
                )
                feeds.append(Feed(spec, lang, section, rng.lognormvariate(0, 1)))
    return feeds


def topics_for(rng: random.Random, share: float) -> tuple[str, ...]:
    if rng.random() >= share:
        return ()
    first = rng.choices(LABELS, weights=(5, 3, 2))[0]
    second = rng.choice(LABELS) if rng.random() < 0.3 else first
    return (first,) if second == first else (first, second)


def write_text(rng: random.Random, lang: str, topics: tuple[str, ...]) -> tuple[str, str]:
    """A title and a lede (without its closing sentence) in `lang` on `topics`."""
    spec = LANGUAGES[lang]
    if not topics:
        title, lede = rng.choice(spec.titles), rng.choice(spec.ledes)
    else:
        title = rng.choice(spec.topics[topics[0]][0])
        lede = " ".join(rng.choice(spec.topics[topic][1]) for topic in topics)
    return fill(title, spec.pools, rng), fill(lede, spec.pools, rng)


def closing(rng: random.Random, lang: str) -> str:
    return fill(rng.choice(LANGUAGES[lang].pools["context"]), LANGUAGES[lang].pools, rng)


def plan_corpus(rng: random.Random, feeds: list[Feed], count: int) -> list[Planned]:
    """`count` articles over the year before END: singles, then stories of 2-6 outlets."""
    planned: list[Planned] = []
    by_lang = {lang: [f for f in feeds if f.lang == lang] for lang in FEEDS}
    members = int(count * GROUP_SHARE)
    group = 0
    while members > 0:
        size = min(rng.choice(GROUP_SIZES), max(members, 2))
        lang = rng.choices(list(FEEDS), weights=[o * s for o, s in FEEDS.values()])[0]
        outlets = rng.sample(by_lang[lang], size)
        topics = topics_for(rng, RELEVANT_SHARE["group"])
        title, lede = write_text(rng, lang, topics)
        start = END - rng.uniform(0, 365 * DAY_S)
        for i, feed in enumerate(outlets):
            retitled = title if i == 0 else rng.choice(LANGUAGES[lang].rewrites).format(title=title)
            at = min(END, start + (0 if i == 0 else rng.uniform(600, 1.5 * DAY_S)))
            text = f"{lede} {closing(rng, lang)}"
            planned.append(Planned("", feed, at, retitled, text, topics, group))
        members -= size
        group += 1
    weights = [f.weight for f in feeds]
    for feed in rng.choices(feeds, weights=weights, k=count - len(planned)):
        share = RELEVANT_SHARE["north-korea" if feed.section == "north-korea" else "other"]
        topics = topics_for(rng, share)
        title, lede = write_text(rng, feed.lang, topics)
        at = END - rng.uniform(0, 365 * DAY_S)
        planned.append(Planned("", feed, at, title, f"{lede} {closing(rng, feed.lang)}", topics))
    for i, article in enumerate(planned):
        article.key = f"https://{article.feed.spec.url.split('/')[2]}/{iso(article.time)[:10]}/{i}"
    return planned


def classify(rng: random.Random, article: Planned) -> storage.ClassificationIn:
    """Scores as the model gives them: most on-topic articles flagged, a few false positives,
    some articles near a threshold either side."""
    scores = {label: rng.betavariate(1.2, 14) for label in LABELS}
    if article.topics:
        hit = rng.random() < 0.92
        for label in article.topics:
            limit = THRESHOLDS[label]
            scores[label] = rng.uniform(limit + 0.01, 0.99) if hit else limit - rng.uniform(0, 0.2)
    elif rng.random() < 0.03:
        label = rng.choice(LABELS)
        limit = THRESHOLDS[label]
        scores[label] = limit + (
            rng.uniform(0.01, 0.12) if rng.random() < 0.1 else -rng.uniform(0.01, 0.2)
        )
    margins = {label: score - THRESHOLDS[label] for label, score in scores.items()}
    passed = tuple(label for label in LABELS if margins[label] >= 0)
    return storage.ClassificationIn(
        scores={k: round(v, 4) for k, v in scores.items()},
        labels=passed,
        flagged=bool(passed),
        why={label: why_terms(article, label) for label in passed},
        margin=round(max(margins.values()), 4),
    )


def why_terms(article: Planned, label: str) -> tuple[str, ...]:
    text = f"{article.title} {article.summary}"
    terms = tuple(t for t in LANGUAGES[article.feed.lang].topics[label][2] if t in text)
    return terms[:3] or (article.title.split()[0],)


# -- building the database -------------------------------------------------------------------


@dataclass
class Built:
    seconds: float
    polls: int
    joins: int
    reviews: int
    audit: int


def cache_path(args: argparse.Namespace) -> Path:
    """By size, seed, this generator's version and the schema (migrations.py, whose
    unreleased migrations may still change)."""
    if args.db:
        return Path(args.db)
    migrations = Path(storage.__file__).with_name("migrations.py")
    schema = hashlib.sha1(migrations.read_bytes()).hexdigest()[:8]
    name = f"review-{args.articles}-seed{args.seed}-v{CORPUS_VERSION}-schema-{schema}.db"
    return args.cache_dir / name


def catch_up_index(db: Any) -> int:
    """Index the articles the full-text index has not taken in yet, as the daemon does
    between polls (when storage indexes in batches rather than by trigger)."""
    index = getattr(storage, "index_pending", None)
    total = 0
    while index is not None and (count := index(db)):
        total += count
    return total


def build_db(path: Path, count: int, seed: int) -> Built:
    """Build into a temporary file and move it into place once complete."""
    from monitor.similarity import signatures  # the grouping step's signatures, as stored

    started = time.perf_counter()
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    rng = random.Random(seed)
    db = storage.open_db(partial)
    db.execute("PRAGMA synchronous = OFF")  # a benchmark fixture: a crash just means rebuild
    feeds = make_feeds(rng)
    storage.sync_feeds(db, [f.spec for f in feeds], iso(END - 366 * DAY_S))
    ids = {row["name"]: row["id"] for row in db.query("select id, name from feeds")}
    for feed in feeds:
        feed.id = ids[feed.spec.name]
    planned = plan_corpus(rng, feeds, count)
    stored: dict[str, int] = {}
    polls = list(chunk_polls(planned))
    for done, (feed, articles) in enumerate(polls, 1):
        save_one_poll(db, rng, feed, articles, stored, signatures)
        if done % 100 == 0 or done == len(polls):
            print(f"  stored {len(stored):,} articles in {done} polls", file=sys.stderr)
    joins = join_groups(db, planned, stored)
    catch_up_index(db)
    relevant = {stored[a.key] for a in planned if a.topics}
    reviews = add_reviews(db, rng, relevant, int(count * REVIEW_SHARE))
    audit = add_audit(db, rng, seed)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    partial.replace(path)
    return Built(time.perf_counter() - started, len(polls), joins, reviews, audit)


def chunk_polls(planned: list[Planned]) -> list[tuple[Feed, list[Planned]]]:
    """Each feed's articles in time order, up to POLL_SIZE a poll; polls in time order."""
    by_feed: dict[int, list[Planned]] = {}
    for article in sorted(planned, key=lambda a: a.time):
        by_feed.setdefault(article.feed.id, []).append(article)
    polls = [
        (articles[0].feed, articles[i : i + POLL_SIZE])
        for articles in by_feed.values()
        for i in range(0, len(articles), POLL_SIZE)
    ]
    return sorted(polls, key=lambda poll: poll[1][-1].time)


def save_one_poll(
    db: Any,
    rng: random.Random,
    feed: Feed,
    articles: list[Planned],
    stored: dict[str, int],
    signatures: Callable[[Sequence[tuple[str, str]]], list[bytes]],
) -> None:
    started = iso(min(END, articles[-1].time + 300))
    signed = signatures([(a.title, a.summary) for a in articles])
    items = [
        storage.ArticleIn(
            key=a.key,
            guid=a.key,
            url=a.key,
            canonical_url=a.key,
            title=a.title,
            summary=a.summary,
            published=None if rng.random() < 0.02 else iso(a.time),
            language=feed.lang,
            content_hash=hashlib.sha256(f"{a.title}\n{a.summary}".encode()).hexdigest(),
            signature=signature,
        )
        for a, signature in zip(articles, signed, strict=True)
    ]
    poll = storage.PollRecord(
        feed_id=feed.id, started=started, http_status=200, next_poll=started, duration_ms=120,
        ok=True,
    )  # fmt: skip
    scores = {a.key: classify(rng, a) for a in articles}
    matches = {a.key: None for a in articles}  # every article is new: nothing to look up
    saved = storage.save_poll(db, poll, items, scores, MODEL, matches)
    stored.update(saved.new)


def join_groups(db: Any, planned: list[Planned], stored: dict[str, int]) -> int:
    """Move each group's later articles into the story of its first, as the grouping step does."""
    groups: dict[int, list[Planned]] = {}
    for article in planned:
        if article.group >= 0:
            groups.setdefault(article.group, []).append(article)
    joins = 0
    with db.atomic():
        for members in groups.values():
            story = storage.story_of(db, stored[members[0].key])
            for member in members[1:]:
                storage.join_story(db, stored[member.key], story, iso(member.time))
                joins += 1
    return joins


def add_reviews(db: Any, rng: random.Random, relevant: set[int], count: int) -> int:
    """Verdicts on flagged articles older than two weeks (mostly) and a few unflagged ones."""
    old = iso(END - 14 * DAY_S)
    sql = (
        "select a.id, coalesce(a.published, a.fetched) from articles a"
        " join classifications c on c.id = a.classification_id where c.flagged = ?"
        " and coalesce(a.published, a.fetched) < ? order by a.id"
    )
    flagged = db.execute(sql, [1, old]).fetchall()
    unflagged = db.execute(sql + " limit 20000", [0, old]).fetchall()
    chosen = rng.sample(flagged, min(len(flagged), int(count * 0.85)))
    chosen += rng.sample(unflagged, min(len(unflagged), count - len(chosen)))
    for article_id, when in sorted(chosen, key=lambda row: row[1]):
        verdict = "relevant" if article_id in relevant else "not-relevant"
        at = datetime.strptime(when, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
        storage.add_review(
            db, article_id, verdict, iso(min(END, at + rng.uniform(3600, 3 * DAY_S)))
        )
    return len(chosen)


def add_audit(db: Any, rng: random.Random, seed: int) -> int:
    start, end = iso(END - 7 * DAY_S), iso(END)
    population = storage.audit_population(db, start, end)
    sample = rng.sample([article_id for article_id, _ in population], min(100, len(population)))
    year, week, _ = datetime.fromtimestamp(END - DAY_S, UTC).isocalendar()
    storage.record_audit(
        db, sample, sampled_at=end, week=f"{year}-W{week:02d}", window=(start, end),
        unflagged=len(population), share=len(sample) / max(1, len(population)), seed=seed,
    )  # fmt: skip
    return len(sample)


def describe_db(path: Path) -> str:
    counts = {
        "articles": "select count(*) from articles",
        "feeds": "select count(*) from feeds",
        "stories": "select count(*) from stories",
        "several": "select count(*) from stories where articles > 1",
        "largest": "select max(articles) from stories",
        "flagged": "select count(*) from articles a join classifications c"
        " on c.id = a.classification_id where c.flagged = 1",
        "flagged_stories": "select count(*) from stories where flagged = 1",
        "reviews": "select count(*) from reviews",
    }
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        n = {name: conn.execute(sql).fetchone()[0] for name, sql in counts.items()}
    finally:
        conn.close()
    return (
        f"{n['articles']:,} articles in {n['feeds']} feeds; {n['stories']:,} stories"
        f" ({n['several']:,} of several articles, up to {n['largest']}); flagged:"
        f" {n['flagged']:,} articles, {n['flagged_stories']:,} stories; {n['reviews']:,}"
        f" verdicts; {path.stat().st_size / 2**20:,.0f} MB"
    )
