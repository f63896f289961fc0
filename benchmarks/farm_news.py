"""The feed farm's news: deterministic English stories, about 5% on-topic, as RSS items and
Atom entries.

Two kinds of text. `varied` (the default) builds each sentence from parts drawn from pools of
20-50 (who, what they said, a clause with numbers, places and times), so that two unrelated
items share words but rarely whole phrases, as in real news; and 4% of items are wire copies:
the same story, lightly edited, carried by several outlets within a few hours. On the 689
items of the 24 real feeds in ../shared/realfeeds 4.5% join another item's story; of 9,000
items of this text 4.0% do (`python benchmarks/story_grouping.py --farm 200`). `stock` is
the first generator: ledes drawn from twelve stock sentences and headlines from seven
templates, so that 66% of items join a story although none is a copy (`--text stock`);
it is kept to compare with figures measured on it."""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass
from email.utils import formatdate
from xml.sax.saxutils import escape

RELEVANT_SHARE = 0.05
WIRE_SHARE = 0.04  # items that are one of a few wire stories of their hour
WIRE_STORIES_AN_HOUR = 3
TEXTS = ("varied", "stock")
LINK = "@link@"  # where an item's own link goes in its text, once the link is known

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

# -- varied text: sentences assembled from parts ----------------------------------------------

OPENERS = (
    "", "", "", "On {weekday}, ", "Late on {weekday}, ", "In a statement, ",
    "Speaking in {place}, ", "Earlier this month, ", "For the first time since {year}, ",
    "After a tense meeting, ", "In an interview, ", "Despite the objections of {group}, ",
    "Under pressure from {group}, ", "Two days after the vote, ", "In a rare move, ",
)  # fmt: skip
ACTORS = SUBJECTS + (
    "the mayor of {place}", "a senior official", "the prime minister", "dock workers",
    "regulators in {place}", "investors", "the governing coalition", "rescue teams",
    "hospital staff", "the transport minister", "a spokeswoman for the ministry",
    "economists at {group}", "the state broadcaster", "lawmakers in {place}", "organisers",
    "the airport authority", "a coalition of landlords", "police in {place}",
    "the country's largest bank", "a parliamentary committee", "the fire service",
    "a group of pensioners", "the national statistics office", "two former ministers",
)  # fmt: skip
VERBS = (
    "said", "warned", "announced", "confirmed", "denied", "argued", "estimated", "promised",
    "revealed", "insisted", "conceded", "predicted", "disclosed", "suggested", "complained",
)  # fmt: skip
THINGS = (
    "the new stadium", "the bridge repair", "a fuel subsidy", "the school meals scheme",
    "the pension reform", "a desalination plant", "the tram extension", "a data centre",
    "the flood barrier", "the wage deal", "the census", "a tax on sugary drinks",
    "the metro fare rise", "a wind farm", "the museum expansion", "the port dredging",
    "a rent freeze", "the vaccine campaign", "the border tariff", "the broadband rollout",
    "a ban on night flights", "the hospital merger", "the coal phase-out", "a bond sale",
)  # fmt: skip
GOODS = (
    "rice", "diesel", "cement", "coffee", "copper", "eggs", "rents", "train tickets",
    "electricity", "fertiliser", "timber", "milk powder", "cooking oil", "steel", "cocoa",
)  # fmt: skip
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
CLAUSES = (
    "{thing} would cost {n} million dollars more than planned",
    "{thing} had been delayed until {month} {year}",
    "prices of {goods} rose {n}% in {month}",
    "{n} jobs could go by the end of {year}",
    "{thing} was &ldquo;not negotiable&rdquo;",
    "nobody had been hurt when part of {thing} collapsed",
    "the shortage of {goods} would last until {month}",
    "{thing} would be put to a referendum",
    "imports of {goods} from {place} had halved since {year}",
    "it had no plans to revisit {thing}",
    "{thing} was <b>years behind schedule</b>",
    "the cost of {goods} had doubled in {n} months",
    "talks on {thing} would resume on {weekday}",
    "{n} people had signed a petition against {thing}",
    "a review of {thing} would report by {month}",
    "the {nth} round of cuts would spare {thing}",
    "exports of {goods} to {place} fell {n}% last quarter",
    "{thing} had &#8216;exceeded every forecast&#8217;",
    "a court in {place} had suspended {thing}",
    "contractors were owed {n} million dollars for {thing}",
    "demand for {goods} had <i>never been higher</i>",
    "{thing} would create about {n},000 jobs",
    "inspectors found {n} safety breaches at {thing}",
    "the deadline for {thing} &mdash; already missed twice &mdash; would slip again",
    "stocks of {goods} would run out within {n} days",
    "it would sue over {thing}",
    "{thing} had won the backing of {group}",
    "turnout in {place} had been the lowest since {year}",
)  # fmt: skip
TAILS = (
    "", "", "", "", ", according to local media", ", without giving details",
    ", citing figures from {group}", ", a claim {group} disputed", " on {weekday}",
    ", in remarks broadcast in {place}", ", adding that more details would follow",
)  # fmt: skip
HEAD_VERBS = (
    "says", "warns", "confirms", "denies", "predicts", "insists", "admits", "claims",
    "reveals", "fears",
)  # fmt: skip
RELEVANT_ACTORS = (
    "activists in Seoul", "a UN human rights rapporteur", "South Korea's unification ministry",
    "a defector who reached Seoul last year", "relatives of the detainees",
    "a broker who works the {river}", "a researcher who interviews escapees",
    "a church group that shelters escapees", "Chinese police in {cn}", "the refugee agency",
    "a former border guard", "lawyers for the detainees", "a North Korean monitoring group",
    "Japan's foreign ministry", "a mother who escaped in {year}", "residents of {cn}",
)  # fmt: skip
RELEVANT_CLAUSES = (
    "{n} North Koreans held in {cn} could be sent back within days",
    "the group crossed the {river} at night and hid in {cn} for {n} weeks",
    "those returned to the North face interrogation and labour camps",
    "border guards on the {river} now have orders to shoot anyone crossing",
    "new fences and cameras had been installed along the {river}",
    "the price of a crossing had risen to {n},000 dollars",
    "China treats the escapees as illegal migrants, not refugees",
    "{n} women detained in {cn} were <b>at risk of forced return</b>",
    "the escapees travelled through Laos and Thailand before reaching Seoul",
    "Beijing should halt the repatriation of North Koreans held in {cn}",
    "a family of {n} was caught at a checkpoint outside {cn}",
    "smugglers on the {river} were sentenced to {n} years",
    "the detainees had been moved from {cn} to a centre near Dandong",
    "{n} escapees reached the South in {month}, the fewest since {year}",
    "phone calls to relatives across the {river} had become too dangerous",
    "a defector-run school in Seoul had taken in {n} new pupils",
    "guards who accepted bribes from crossers had been purged",
    "returnees were held for {n} months before any trial",
    "Laos had detained {n} North Koreans near the Chinese border",
    "Russia sent back {n} North Koreans who had fled a logging camp",
)  # fmt: skip
RELEVANT_HEADS = (
    "China forcibly repatriates {n} North Koreans held in {cn}",
    "North Korean escapees arrested near {cn} face forced return",
    "{n} North Korean defectors reach Seoul after journey through Laos",
    "UN rapporteur urges Beijing to halt repatriation of North Korean refugees",
    "North Korea tightens controls along the {river}",
    "Defector who crossed the {river} describes life under the border crackdown",
    "Chinese police detain North Korean women hiding in {cn}",
    "Seoul protests China's deportation of North Korean escapees",
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


def _slots(rng: random.Random, link: str) -> dict[str, object]:
    return {
        "place": rng.choice(PLACES),
        "subject": rng.choice(SUBJECTS),
        "n": rng.randint(2, 90),
        "m": rng.randint(0, 9),
        "group": rng.choice(GROUPS),
        "weekday": rng.choice(WEEKDAYS),
        "nth": rng.choice(NTH),
        "cn": rng.choice(CN_PLACES),
        "river": rng.choice(RIVERS),
        "link": link,
        "year": rng.randint(1995, 2025),
        "month": rng.choice(MONTHS),
        "thing": rng.choice(THINGS),
        "goods": rng.choice(GOODS),
    }


def _fill(template: str, rng: random.Random, link: str) -> str:
    slots = _slots(rng, link)
    slots["action"] = rng.choice(ACTIONS).format(**_slots(rng, link))
    return template.format(**slots)


def _sentence(rng: random.Random, link: str, relevant: bool) -> str:
    actors, clauses = (RELEVANT_ACTORS, RELEVANT_CLAUSES) if relevant else (ACTORS, CLAUSES)
    opener, actor = rng.choice(OPENERS), rng.choice(actors)
    if opener and actor in SUBJECTS:
        actor = "the " + actor.lower()
    parts = (opener, actor, " ", rng.choice(VERBS), " that ")
    text = "".join(parts) + rng.choice(clauses) + rng.choice(TAILS) + "."
    text = text.format(**_slots(rng, link))
    return text[0].upper() + text[1:]


def _paragraphs(sentences: list[str], rng: random.Random, link: str, site: str) -> str:
    cut = rng.randint(1, len(sentences) - 1)
    html = f"<p>{' '.join(sentences[:cut])}</p><p>{' '.join(sentences[cut:])}</p>"
    tail = rng.random()
    if tail < 0.5:
        html += f'<p><a href="{link}">Read more&hellip;</a></p>'
    elif tail < 0.7:
        html += f'<p>The post <a href="{link}">appeared first</a> on <b>{site}</b>.</p>'
    return html


def _stock_text(rng: random.Random, link: str, relevant: bool, site: str) -> tuple[str, str]:
    template = rng.choice(RELEVANT_HEADLINES if relevant else HEADLINES)
    title = _fill(template, rng, "")
    pool = RELEVANT_SENTENCES if relevant else SENTENCES
    sentences = [_fill(s, rng, link) for s in rng.sample(pool, rng.randint(2, 4))]
    return title, _paragraphs(sentences, rng, link, site)


def _headline(rng: random.Random, relevant: bool) -> str:
    """What one sentence of the story says, said shorter: '<who> <says> <what>'."""
    if relevant and rng.random() < 0.3:
        return _fill(rng.choice(RELEVANT_HEADS), rng, "")
    actor = rng.choice(RELEVANT_ACTORS if relevant else ACTORS)
    clause = rng.choice(RELEVANT_CLAUSES if relevant else CLAUSES)
    text = f"{actor} {rng.choice(HEAD_VERBS)} {clause}".format(**_slots(rng, ""))
    text = re.sub(r"&[a-z]+;|&#\d+;|<[^>]+>", "", text).removeprefix("the ")
    return text[0].upper() + text[1:]


def _varied_text(rng: random.Random, link: str, relevant: bool, site: str) -> tuple[str, str]:
    title = _headline(rng, relevant)
    sentences = [_sentence(rng, link, relevant) for _ in range(rng.randint(2, 4))]
    if relevant and rng.random() < 0.5:  # some on-topic items have ordinary context too
        sentences.append(_sentence(rng, link, False))
    return title, _paragraphs(sentences, rng, link, site)


def _wire_copy(seed: int, published: float, rng: random.Random, site: str) -> tuple[str, str, bool]:
    """One of the hour's few wire stories, as this outlet runs it: the same headline and
    sentences, sometimes with a prefix, a sentence dropped or the outlet's own tail."""
    pick = rng.randrange(WIRE_STORIES_AN_HOUR)
    wire = random.Random(f"{seed}:wire:{int(published // 3600)}:{pick}")
    relevant = wire.random() < RELEVANT_SHARE
    title, _ = _varied_text(wire, LINK, relevant, "")
    sentences = [_sentence(wire, LINK, relevant) for _ in range(4)]
    if rng.random() < 0.3:
        title = rng.choice(("UPDATE 1-", "UPDATE 2-", "WRAPUP ")) + title
    if rng.random() < 0.5:
        del sentences[rng.randrange(len(sentences))]
    return title, _paragraphs(sentences, rng, LINK, site), relevant


def make_story(
    seed: int, feed: int, n: int, hosts: int, published: float, text: str = "varied"
) -> Story:
    """Item n of feed `feed`: the same text for the same seed, whenever it is generated."""
    rng = random.Random(f"{seed}:{feed}:{n}")
    host = feed % hosts
    section = SECTIONS[(feed // hosts) % len(SECTIONS)]
    relevant = rng.random() < RELEVANT_SHARE
    site = site_name(host)
    if text == "stock":
        title, html = _stock_text(rng, LINK, relevant, site)
    elif rng.random() < WIRE_SHARE:
        title, html, relevant = _wire_copy(seed, published, rng, site)
    else:
        title, html = _varied_text(rng, LINK, relevant, site)
    slug = "-".join(re.findall(r"[a-z0-9]+", title.lower())[:8])
    day = time.strftime("%Y/%m/%d", time.gmtime(published))
    link = f"https://www.{site_domain(host)}/{section}/{day}/{slug}-{feed}-{n}"
    return Story(
        guid=f"tag:farm.example,2026:{seed}/{feed}/{n}",
        link=link,
        title=title,
        html=html.replace(LINK, link),
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
