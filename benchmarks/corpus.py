"""A deterministic corpus of realistic news articles, for tests and benchmarks.

Words are drawn by their real English frequency (`wordfreq`'s offline lists), among proper
names, places, organisations, numbers and money, possessives and quotes. Each article has
300-2,000 words, subheadings, three to five links (to other articles and outside), and now
and then a table, a list or a code block; articles spread over 6 sections, ten years, a pool
of authors and tags. The same count and seed give the same files, byte for byte.
"""

from __future__ import annotations

import functools
import itertools
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

SECTIONS = ("asia", "america", "europe", "africa", "middle-east", "oceania")
FIRST = (
    "Amina Bruno Chen Dara Elena Farid Grace Hiro Ines Jonas Kofi Lena Mateo Nadia Omar Priya "
    "Rafael Sofia Tomasz Yuki Zanele Arjun Beatriz Dmitri Fatima Gustavo Hana Ibrahim Joon Kwame"
).split()
LAST = (
    "Okafor Petrov Quinn Rahimi Sato Torres Umar Varga Wang Xu Yilmaz Zhou Abubakar Bianchi "
    "Castillo Dlamini Eriksen Fernandes Gupta Haddad Ivanova Jaramillo Kowalski Lindqvist Mensah "
    "Nakamura O'Brien Park Rossi Suleiman"
).split()
PLACES = (
    "Jakarta Manila Hanoi Bangkok Dhaka Karachi Seoul Osaka Taipei Mumbai Chennai Colombo "
    "Kathmandu Ulaanbaatar Lagos Nairobi Accra Dakar Kigali Kinshasa Luanda Harare Cairo "
    "Tunis Casablanca Beirut Amman Baghdad Tehran Riyadh Doha Muscat Ankara Istanbul Warsaw "
    "Lisbon Madrid Marseille Rotterdam Hamburg Vienna Prague Budapest Bucharest Kyiv Vilnius "
    "Oslo Helsinki Dublin Glasgow Lima Quito Bogota Caracas Santiago Montevideo Recife Monterrey "
    "Havana Toronto Winnipeg Chicago Houston Seattle Auckland Brisbane Perth Suva Hobart"
).split()
COUNTRIES = (
    "Indonesia Vietnam Thailand Bangladesh Pakistan Nigeria Kenya Ghana Senegal Ethiopia Egypt "
    "Morocco Lebanon Jordan Iraq Turkey Poland Portugal Spain Hungary Romania Ukraine Norway "
    "Finland Ireland Peru Ecuador Colombia Chile Uruguay Brazil Mexico Cuba Canada Fiji Samoa"
).split()
BODIES = (
    "the central bank",
    "the finance ministry",
    "the electoral commission",
    "the supreme court",
    "the port authority",
    "the World Bank",
    "the International Monetary Fund",
    "the United Nations",
    "the African Union",
    "the European Commission",
    "the opposition party",
    "the ruling coalition",
    "the national statistics office",
    "the health ministry",
)
ROLES = (
    "a minister",
    "an economist",
    "a senior official",
    "an opposition lawmaker",
    "a union leader",
    "a farmer",
    "a diplomat",
    "an analyst at a local bank",
    "the mayor",
    "a spokesperson",
)
TOPICS = (
    "trade energy security elections climate migration technology health diplomacy "
    "economy defence water agriculture media courts transport"
).split()
VERBS = "said warned announced argued noted suggested reported confirmed denied expected".split()
OUTSIDE = (
    "https://www.imf.org/en/Publications/WEO",
    "https://data.worldbank.org/indicator/NY.GDP.MKTP.CD",
    "https://www.un.org/en/climatechange/reports",
    "https://www.who.int/news-room/fact-sheets",
    "https://en.wikipedia.org/wiki/Monsoon",
    "https://www.iea.org/reports/world-energy-outlook-2024",
    "https://www.wto.org/english/res_e/statis_e/statis_e.htm",
    "https://ourworldindata.org/co2-emissions",
)
LANGUAGES = ("python", "json", "sql", "text")
START = datetime(2015, 1, 1, 6, 0)
SPAN_DAYS = 3650
VOCABULARY_SIZE = 25_000
_WORD = re.compile(r"[a-z]{2,}|a|i")
# Words a newspaper would not print, which frequency lists of web text rank high.
_UNPRINTABLE = frozenset(
    "shit fuck fucking fucked fucker fuckin motherfucker bullshit bitch bitches ass asshole "
    "damn dick cock pussy cunt nigga niggas nigger whore slut faggot fag tits boobs porn porno "
    "sex sexy horny nude naked piss pissed crap bastard dumb retarded rape hoe hoes lmao lol "
    "wtf omg xxx".split()
)


@dataclass(frozen=True)
class Article:
    section: str
    slug: str
    text: str


@functools.cache
def vocabulary() -> tuple[tuple[str, ...], tuple[float, ...]]:
    """English words and their cumulative frequencies, most frequent first."""
    import wordfreq

    words = [
        w
        for w in wordfreq.top_n_list("en", VOCABULARY_SIZE)
        if _WORD.fullmatch(w) and w not in _UNPRINTABLE
    ]
    words = [w if w != "i" else "I" for w in words]
    weights = [wordfreq.word_frequency(w, "en") for w in words]
    return tuple(words), tuple(itertools.accumulate(weights))


def name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def number(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.25:
        return f"{rng.uniform(0.1, 12):.1f} per cent"
    if roll < 0.45:
        return f"{rng.choice('$€£')}{rng.uniform(1, 900):.1f}{rng.choice(('m', 'bn'))}"
    if roll < 0.65:
        return f"{rng.randrange(1_000, 2_000_000):,}"
    if roll < 0.8:
        return str(rng.randrange(1990, 2026))
    return str(rng.randrange(2, 100))


def special(rng: random.Random) -> str:
    """A token that is not a plain word: a name, a place, a number, a possessive."""
    roll = rng.random()
    if roll < 0.25:
        return name(rng)
    if roll < 0.4:
        return rng.choice(PLACES)
    if roll < 0.5:
        return rng.choice(COUNTRIES)
    if roll < 0.6:
        return rng.choice(BODIES)
    if roll < 0.75:
        owner = rng.choice((rng.choice(COUNTRIES), rng.choice(LAST), rng.choice(PLACES)))
        return owner + "’s" if rng.random() < 0.5 else owner + "'s"
    return number(rng)


def words(rng: random.Random, count: int) -> list[str]:
    vocab, cumulative = vocabulary()
    drawn = rng.choices(vocab, cum_weights=cumulative, k=count)
    for _ in range(max(1, count // 6)):
        drawn[rng.randrange(count)] = special(rng)
    return drawn


def sentence(rng: random.Random) -> str:
    drawn = words(rng, rng.randint(7, 26))
    drawn.insert(rng.randint(1, len(drawn) - 1), rng.choice(VERBS))
    if len(drawn) > 12 and rng.random() < 0.3:
        drawn[rng.randint(3, len(drawn) - 3)] += ","
    text = " ".join(drawn)
    return text[0].upper() + text[1:] + ("?" if rng.random() < 0.03 else ".")


def quote(rng: random.Random) -> str:
    said = f"{rng.choice(VERBS)} {name(rng)}, {rng.choice(ROLES)} in {rng.choice(PLACES)}"
    spoken = sentence(rng)[:-1]
    if rng.random() < 0.5:
        return f"“{spoken},” {said}."
    return f'"{spoken}," {said}.'


def paragraph(rng: random.Random) -> str:
    parts = [quote(rng) if rng.random() < 0.15 else sentence(rng)]
    parts += [sentence(rng) for _ in range(rng.randint(1, 5))]
    return " ".join(parts)


def link(rng: random.Random, index: int, urls: list[str]) -> str:
    text = " ".join(words(rng, rng.randint(2, 5)))
    if len(urls) > 1 and rng.random() < 0.6:
        other = rng.randrange(len(urls) - 1)
        return f"[{text}]({urls[other + (other >= index)]})"
    return f"[{text}]({rng.choice(OUTSIDE)})"


def linked(rng: random.Random, text: str, anchor: str) -> str:
    """`text` with `anchor` put after one of its words."""
    spaces = [i for i, char in enumerate(text) if char == " "]
    at = rng.choice(spaces) if spaces else len(text)
    return f"{text[:at]} {anchor}{text[at:]}"


def table(rng: random.Random) -> str:
    rows = [f"| {rng.choice(COUNTRIES)} | {number(rng)} | {number(rng)} |" for _ in range(4)]
    return "\n".join(["| Country | 2023 | 2024 |", "|---|---:|---:|", *rows])


def extra(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.4:
        return table(rng)
    if roll < 0.7:
        return "\n".join(f"- {sentence(rng)}" for _ in range(rng.randint(3, 5)))
    language = rng.choice(LANGUAGES)
    lines = [f"growth = ({number(rng)!r}, {rng.randrange(100)})", "print(growth)"]
    return f"```{language}\n" + "\n".join(lines) + "\n```"


def heading(rng: random.Random) -> str:
    return "## " + sentence(rng)[:-1].split(",")[0][:60].rstrip()


def body(rng: random.Random, index: int, urls: list[str]) -> str:
    target = int(rng.triangular(300, 2000, 700))
    blocks: list[str] = []
    count = 0
    while count < target:
        if len(blocks) > 2 and rng.random() < 0.12:
            blocks.append(heading(rng))
        elif len(blocks) > 1 and rng.random() < 0.02:
            blocks.append(extra(rng))
        else:
            blocks.append(paragraph(rng))
        count += len(blocks[-1].split())
    prose = [i for i, block in enumerate(blocks) if block[0] not in "#|-`"]
    for at in rng.sample(prose, min(len(prose), rng.randint(3, 5))):
        blocks[at] = linked(rng, blocks[at], link(rng, index, urls))
    return "\n\n".join(blocks)


def title(rng: random.Random) -> str:
    drawn = words(rng, rng.randint(5, 10))
    drawn[rng.randrange(len(drawn))] = rng.choice((rng.choice(PLACES), rng.choice(COUNTRIES)))
    text = " ".join(drawn).replace(",", "")
    return text[0].upper() + text[1:]


def slug_of(index: int, headline: str) -> str:
    parts = re.findall(r"[a-z0-9]+", headline.lower().replace("’s", "s").replace("'s", "s"))
    return f"{index:06d}-" + "-".join(parts[:5])


def generate(count: int, seed: int = 1) -> list[Article]:
    """`count` articles. Internal links are root-relative ("/asia/slug/")."""
    rng = random.Random(seed)
    heads = []
    for index in range(count):
        section = SECTIONS[index % len(SECTIONS)]
        headline = title(rng)
        when = START + timedelta(days=rng.randrange(SPAN_DAYS), minutes=rng.randrange(24 * 60))
        author = f"{rng.choice(FIRST[:14])} {rng.choice(LAST[:12])}"
        tags = sorted(set(rng.sample(TOPICS, rng.randint(1, 3))))
        heads.append((section, slug_of(index, headline), headline, when, author, tags))
    urls = [f"/{section}/{slug}/" for section, slug, *_ in heads]
    articles = []
    for index, (section, slug, headline, when, author, tags) in enumerate(heads):
        header = (
            f"---\ntitle: {headline}\nsection: {section.upper()}\ndate: {when:%Y-%m-%d %H:%M}\n"
            f"author: {author}\ntags: [{', '.join(tags)}]\n---\n\n"
        )
        articles.append(Article(section, slug, header + body(rng, index, urls) + "\n"))
    return articles


def write_corpus(content_dir: Path, count: int, seed: int = 1) -> list[Article]:
    articles = generate(count, seed)
    for article in articles:
        path = content_dir / article.section / f"{article.slug}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(article.text, encoding="utf-8")
    return articles
