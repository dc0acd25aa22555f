"""A deterministic corpus of realistic news articles, for tests and benchmarks.

Articles have 600-1,500 words, subheadings, quotes, links, some code blocks and tables,
and spread over 6 sections, ten years, a pool of authors and tags. The same N gives the
same files, byte for byte.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

SECTIONS = ("asia", "america", "europe", "africa", "middle-east", "oceania")
FIRST = "Amina Bruno Chen Dara Elena Farid Grace Hiro Ines Jonas Kofi Lena Mateo Nadia".split()
LAST = "Okafor Petrov Quinn Rahimi Sato Torres Umar Varga Wang Xu Yilmaz Zhou".split()
TOPICS = (
    "trade energy security elections climate migration technology health diplomacy "
    "economy defence water agriculture media courts transport"
).split()
WORDS = (
    "government minister policy region border talks agreement growth market investment "
    "analysts report officials parliament sanctions treaty coalition economy province "
    "infrastructure reform protest summit budget exports imports inflation currency "
    "security alliance strategy conflict ceasefire negotiation election campaign voters "
    "court ruling energy pipeline climate drought harvest refugees migration health "
    "hospital vaccine technology startup network satellite port railway corridor"
).split()
VERBS = "said warned announced argued noted suggested reported confirmed denied expected".split()
START = datetime(2015, 1, 1, 6, 0)
SPAN_DAYS = 3650


@dataclass(frozen=True)
class Article:
    section: str
    slug: str
    text: str


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 18))]
    words.insert(rng.randint(1, len(words) - 1), rng.choice(VERBS))
    return " ".join(words).capitalize() + "."


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(3, 6)))


def body(rng: random.Random, index: int, urls: list[str]) -> str:
    target = rng.randint(600, 1500)
    blocks: list[str] = []
    words = 0
    while words < target:
        roll = rng.random()
        if blocks and roll < 0.12:
            blocks.append(f"## {rng.choice(WORDS).capitalize()} and {rng.choice(WORDS)}")
        elif roll < 0.18:
            blocks.append(f"> “{sentence(rng)}” {rng.choice(VERBS)} one official.")
        elif roll < 0.24 and len(urls) > 1:
            other = urls[(index * 7 + 3) % len(urls)]
            blocks.append(
                f"{sentence(rng)} See [our earlier report]({other}) and "
                f"[the source](https://example.org/reports/{index})."
            )
        elif roll < 0.26:
            blocks.append("```python\ndef growth(a, b):\n    return (b - a) / a * 100\n```")
        elif roll < 0.27:
            blocks.append("| Year | Exports |\n|---|---|\n| 2023 | 4.1 |\n| 2024 | 4.6 |")
        else:
            blocks.append(paragraph(rng))
        words += len(blocks[-1].split())
    return "\n\n".join(blocks)


def generate(count: int, seed: int = 1) -> list[Article]:
    """`count` articles. Internal links are root-relative ("/asia/slug/")."""
    rng = random.Random(seed)
    heads = []
    for index in range(count):
        section = SECTIONS[index % len(SECTIONS)]
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 9))).capitalize()
        slug = f"{index:06d}-" + "-".join(title.lower().split()[:5])
        when = START + timedelta(days=rng.randrange(SPAN_DAYS), minutes=rng.randrange(24 * 60))
        author = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        tags = sorted(set(rng.sample(TOPICS, rng.randint(1, 3))))
        heads.append((section, slug, title, when, author, tags))
    urls = [f"/{section}/{slug}/" for section, slug, *_ in heads]
    articles = []
    for index, (section, slug, title, when, author, tags) in enumerate(heads):
        header = (
            f"---\ntitle: {title}\nsection: {section.upper()}\ndate: {when:%Y-%m-%d %H:%M}\n"
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
