"""Near-duplicate grouping on real feeds: which items join a story, and what a join costs.

Parses every feed file in ../shared/realfeeds (when present) with the monitor's own parser
and normaliser, runs the items through one StoryIndex in file order, and prints each item
that joined another item's story with its similarity, then the count and the time per item.

    python benchmarks/story_grouping.py [--folder ../shared/realfeeds] [--similarity 0.5]

With `--farm N`, the items are instead those of N feeds of the feed farm's generated news
(`--text varied` or `stock`, see benchmarks/farm_news.py), 45 items each over 14 days, with
the default three-day window, and only the count of joins is printed.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.errors import ParseError  # noqa: E402
from monitor.normalise import normalise_entries  # noqa: E402
from monitor.parser import parse_feed  # noqa: E402
from monitor.similarity import similarity  # noqa: E402
from monitor.stories import StoryIndex, StorySettings  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from farm_news import TEXTS, make_story, rss_item  # noqa: E402

NOW = datetime(2026, 11, 29, tzinfo=UTC)
UNDATED = "2026-11-29T00:00:00Z"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=ROOT.parent / "shared" / "realfeeds")
    parser.add_argument("--similarity", type=float, default=StorySettings().similarity)
    parser.add_argument("--farm", type=int, metavar="FEEDS", help="the farm's text instead")
    parser.add_argument("--text", choices=TEXTS, default=TEXTS[0], help="with --farm")
    args = parser.parse_args()
    if args.farm:
        feeds = [(f"farm-{i}", farm_feed(i, args.text)) for i in range(args.farm)]
        # items span 14 days: the daemon's window
        settings = StorySettings(similarity=args.similarity)
    else:
        files = sorted(args.folder.glob("*"))
        feeds = [(p.name, p.read_bytes()) for p in files if p.suffix in {".xml", ".atom", ".rss"}]
        if not feeds:
            sys.exit(f"{args.folder}: no feed files")
        # Every item of these old files is compared with every other: a ten-year window.
        settings = StorySettings(window=timedelta(days=3650), similarity=args.similarity)
    items = []
    for feed_id, (name, body) in enumerate(feeds):
        try:
            parsed = parse_feed(body, {})
        except ParseError as exc:
            print(f"skipped {name}: {exc}")
            continue
        for article in normalise_entries(parsed.entries, None, NOW, parsed.language):
            items.append((feed_id, name, article))
    items.sort(key=lambda item: item[2].published or UNDATED)  # as if polled as they came
    index = StoryIndex(settings)  # find and add only: nothing is loaded from a database
    first: dict[int, tuple[str, str, bytes]] = {}  # story -> its first item
    joined = 0
    started = time.perf_counter()
    for number, (feed_id, name, article) in enumerate(items):
        when = article.published or UNDATED
        story = index.find(article.signature, feed_id, when)
        if story is not None:
            joined += 1
            other_name, other_title, other_signature = first[story]
            score = similarity(article.signature or b"", other_signature)
            if not args.farm:
                print(f"{score:.2f}  {name}: {article.title[:50]!r}")
                print(f"      ~ {other_name}: {other_title[:50]!r}")
        story = number if story is None else story
        index.add(number, story, feed_id, when, article.signature)
        first.setdefault(story, (name, article.title, article.signature or b""))
    elapsed = time.perf_counter() - started
    print(
        f"\n{len(items)} items from {len(feeds)} feeds; {joined} joined a story"
        f" (similarity >= {settings.similarity}, {settings.same_outlet_similarity} within a"
        f" feed); {elapsed / max(len(items), 1) * 1e6:.0f} us an item"
    )


def farm_feed(feed: int, text: str) -> bytes:
    """45 items of farm feed `feed` as an RSS document, published over the 14 days to NOW."""
    end = NOW.timestamp()
    times = [end - (45 - n) * 14 * 86400 / 45 for n in range(45)]
    stories = [make_story(1, feed, n, 25, when, text) for n, when in enumerate(times)]
    items = "".join(rss_item(story, cdata=False) for story in stories)
    head = '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
    return f"{head}<title>farm {feed}</title>{items}</channel></rss>".encode()


if __name__ == "__main__":
    main()
