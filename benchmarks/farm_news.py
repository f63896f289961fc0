"""The feed farm's news: deterministic, varied English stories, about 5% on-topic, as RSS
items and Atom entries."""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass
from email.utils import formatdate
from xml.sax.saxutils import escape

RELEVANT_SHARE = 0.05

SECTIONS = ("world", "business", "politics", "asia", "science", "sport", "culture", "climate")
FIRST = ("Harbor", "Capital", "Northern", "Pacific", "Morning", "Evening", "Global", "Metro")
FIRST += ("Coastal", "Valley")
LAST = ("Times", "Herald", "Post", "Courier", "Ledger", "Tribune", "Observer", "Gazette")
LAST += ("Review", "Chronicle")
PLACES = (
    "Seoul", "Tokyo", "Washington", "Brussels", "Jakarta", "Nairobi", "Lima", "Berlin", "Ottawa",
    "Canberra", "Hanoi", "Manila", "Delhi", "Cairo", "Warsaw", "Madrid", "Oslo", "Bangkok",
)  # fmt: skip
SUBJECTS = (
    "Central bank", "Finance ministry", "Opposition leader", "Port operator", "Regional assembly",
    "Tech giant", "Farmers' union", "City council", "Health ministry", "Energy regulator",
    "National airline", "Carmaker", "Teachers' union", "Supreme court", "Election commission",
    "Weather agency", "Chipmaker", "Football federation", "Research institute", "Shipping firm",
)  # fmt: skip
ACTIONS = (
    "raises interest rates to curb inflation", "unveils plan to cut emissions by {n}%",
    "warns of slower growth next year", "strikes over pay & pensions",
    "approves budget after marathon session", "reports record quarterly profit",
    "recalls {n},000 vehicles over brake fault", "delays vote on housing reform",
    "opens inquiry into procurement deal", "signs trade pact with {place}",
    "faces backlash over water prices", "plans {n} new rail lines by 2030",
    "scraps controversial visa rule", "braces for storm as flights are cancelled",
    "names new chief executive", "bans single-use plastics from {weekday}",
)  # fmt: skip
HEADLINES = (
    "{place}: {subject} {action}", "{subject} {action}", "{subject} in {place} {action}",
    "{subject} {action} as talks drag on", "Analysis: {subject} {action}",
    "{subject} {action}, sources say", "Live: {subject} {action}",
)  # fmt: skip
SENTENCES = (
    "The announcement came after weeks of <b>mounting pressure</b> from {group}.",
    "Officials in {place} said the measures would take effect within {n} days.",
    "&ldquo;We are watching the situation very closely,&rdquo; a spokesperson told reporters.",
    "Critics said the plan does too little, too late &mdash; and costs {n} million dollars.",
    "Markets in {place} were little changed, with the main index up 0.{m}%.",
    "The figures, published on {weekday}, were <i>weaker</i> than economists had expected.",
    "Residents said they had not been consulted &amp; called for a public hearing.",
    "Analysts at {group} said the outlook for {place} remained uncertain.",
    "A vote is expected before the end of the month, according to people familiar with it.",
    "It is the {nth} such decision this year, following a similar move in {place}.",
    "The company&#8217;s shares fell {n}% in early trading on the news.",
    "Our correspondent in {place} has <a href=\"{link}#analysis\">more analysis</a>.",
)  # fmt: skip
GROUPS = ("trade unions", "business groups", "environmental campaigners", "the IMF")
GROUPS += ("opposition parties", "local charities", "Capital Economics", "the World Bank")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
NTH = ("second", "third", "fourth", "fifth")
CN_PLACES = ("Dandong", "Yanji", "Shenyang", "Tumen", "Changbai", "Kunming", "Hunchun")
RIVERS = ("Tumen River", "Yalu River")
RELEVANT_HEADLINES = (
    "China forcibly repatriates {n} North Korean defectors held in {cn}",
    "North Korean escapees arrested near {cn} face forced return, activists say",
    "{n} North Korean defectors reach Seoul after journey through Laos",
    "UN rapporteur urges Beijing to halt repatriation of North Korean refugees",
    "North Korea tightens border along the {river} with new fences and guard posts",
    "Defector who crossed the {river} describes life under border crackdown",
    "Chinese police detain North Korean women hiding in {cn}",
    "Seoul protests China's deportation of North Korean escapees",
)  # fmt: skip
RELEVANT_SENTENCES = (
    "The group was detained by Chinese police in {cn} after crossing the {river} at night.",
    "Human rights groups warned that those sent back face <b>torture</b> and prison camps.",
    "South Korea&#8217;s unification ministry said it had raised the case with Beijing.",
    "North Korean border guards have been ordered to shoot anyone crossing without permission.",
    "China treats the escapees as illegal economic migrants, not refugees.",
    "Brokers say the cost of a crossing has risen to {n},000 dollars since the border closed.",
    "Read the <a href=\"{link}\">full report</a> on forced repatriation.",
)  # fmt: skip


def host_address(host: int) -> str:
    """The loopback address of host number `host` (0-based): 127.0.0.2, 127.0.0.3, ..."""
    return f"127.0.0.{2 + host}"


def site_name(host: int) -> str:
    return f"{FIRST[host % 10]} {LAST[(host // 10 + host) % 10]}" + (
        f" {host // 100 + 1}" if host >= 100 else ""
    )


def site_domain(host: int) -> str:
    """A domain-like name for article links (.example never resolves; links are not fetched)."""
    return site_name(host).lower().replace(" ", "-") + ".example"


def http_date(ts: float) -> str:
    return formatdate(ts, usegmt=True)


def iso_time(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


@dataclass(frozen=True)
class Story:
    guid: str
    link: str
    title: str
    html: str
    section: str
    author: str
    published: float
    relevant: bool


def _fill(template: str, rng: random.Random, link: str) -> str:
    return template.format(
        place=rng.choice(PLACES),
        subject=rng.choice(SUBJECTS),
        action=rng.choice(ACTIONS).format(
            n=rng.randint(2, 90), place=rng.choice(PLACES), weekday=rng.choice(WEEKDAYS)
        ),
        n=rng.randint(2, 90),
        m=rng.randint(0, 9),
        group=rng.choice(GROUPS),
        weekday=rng.choice(WEEKDAYS),
        nth=rng.choice(NTH),
        cn=rng.choice(CN_PLACES),
        river=rng.choice(RIVERS),
        link=link,
    )


def _description(rng: random.Random, link: str, relevant: bool, site: str) -> str:
    pool = RELEVANT_SENTENCES if relevant else SENTENCES
    sentences = [_fill(s, rng, link) for s in rng.sample(pool, rng.randint(2, 4))]
    cut = rng.randint(1, len(sentences) - 1)
    html = f"<p>{' '.join(sentences[:cut])}</p><p>{' '.join(sentences[cut:])}</p>"
    tail = rng.random()
    if tail < 0.5:
        html += f'<p><a href="{link}">Read more&hellip;</a></p>'
    elif tail < 0.7:
        html += f'<p>The post <a href="{link}">appeared first</a> on <b>{site}</b>.</p>'
    return html


def make_story(seed: int, feed: int, n: int, hosts: int, published: float) -> Story:
    """Item n of feed `feed`: the same text for the same seed, whenever it is generated."""
    rng = random.Random(f"{seed}:{feed}:{n}")
    host = feed % hosts
    section = SECTIONS[(feed // hosts) % len(SECTIONS)]
    relevant = rng.random() < RELEVANT_SHARE
    template = rng.choice(RELEVANT_HEADLINES if relevant else HEADLINES)
    title = _fill(template, rng, "")
    slug = "-".join(re.findall(r"[a-z0-9]+", title.lower())[:8])
    day = time.strftime("%Y/%m/%d", time.gmtime(published))
    link = f"https://www.{site_domain(host)}/{section}/{day}/{slug}-{feed}-{n}"
    return Story(
        guid=f"tag:farm.example,2026:{seed}/{feed}/{n}",
        link=link,
        title=title,
        html=_description(rng, link, relevant, site_name(host)),
        section=section,
        author=f"{rng.choice(('Kim', 'Lee', 'Park', 'Smith', 'Garcia', 'Chen'))} {feed % 97}",
        published=published,
        relevant=relevant,
    )


def rss_item(story: Story, cdata: bool) -> str:
    description = f"<![CDATA[{story.html}]]>" if cdata else escape(story.html)
    return (
        f"<item><title>{escape(story.title)}</title><link>{escape(story.link)}</link>"
        f'<guid isPermaLink="false">{story.guid}</guid>'
        f"<pubDate>{http_date(story.published)}</pubDate>"
        f"<category>{story.section}</category><dc:creator>{story.author}</dc:creator>"
        f"<description>{description}</description></item>\n"
    )


def atom_entry(story: Story) -> str:
    stamp = iso_time(story.published)
    return (
        f'<entry><title type="text">{escape(story.title)}</title>'
        f'<link rel="alternate" type="text/html" href="{escape(story.link)}"/>'
        f"<id>{story.guid}</id><published>{stamp}</published><updated>{stamp}</updated>"
        f"<author><name>{story.author}</name></author>"
        f'<category term="{story.section}"/>'
        f'<summary type="html">{escape(story.html)}</summary></entry>\n'
    )
