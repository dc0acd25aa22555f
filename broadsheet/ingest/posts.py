"""A raw article -> the text of its Markdown post: YAML front matter and an escaped body."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import yaml

from broadsheet.ingest.escape import escape_text
from broadsheet.ingest.rawtext import RawArticle

IMPORT_HASH_KEY = "import_hash"
MAX_HEADING_LENGTH = 100
MAX_HEADING_WORDS = 16
_SENTENCE_END = tuple(".!?:;,…\"”’'")
MAX_AUTHOR_WORDS = 6
_BYLINE = re.compile(r"^The (?:author|writer) (?:of this article )?(?:is|was) (?P<rest>.+)$")
_HONORIFIC = re.compile(r"^(?:(?:Dr|Mr|Mrs|Ms|Prof|Professor|Sir)\.?\s+)+")
# A name ends at a full stop that does not close an initial ("H.R. McMaster"), or a comma.
_NAME_END = re.compile(r"(?<![A-Z])\.(?:\s|$)|[,;(]|\s(?:is|was|and|who)\s")


@dataclass(frozen=True)
class ImportedPost:
    section_slug: str
    slug: str
    title: str
    text: str  # the whole file: front matter and body


def is_subheading(paragraphs: tuple[str, ...], position: int) -> bool:
    """A short line between paragraphs, without closing punctuation ("Future challenges")."""
    paragraph = paragraphs[position]
    return (
        0 < position < len(paragraphs) - 1
        and len(paragraph) <= MAX_HEADING_LENGTH
        and len(paragraph.split()) <= MAX_HEADING_WORDS
        and not paragraph.endswith(_SENTENCE_END)
        and (paragraph[:1].isupper() or paragraph[:1].isdigit())
    )


def find_author(paragraphs: tuple[str, ...]) -> str | None:
    """The name in a byline such as "The author is Dr. Davood Moradian. He is ..."."""
    for paragraph in reversed(paragraphs):
        match = _BYLINE.match(paragraph)
        if not match:
            continue
        rest = match.group("rest")
        title = _HONORIFIC.match(rest)
        prefix = title.group(0) if title else ""
        name = _NAME_END.split(rest[len(prefix) :], maxsplit=1)[0].strip()
        words = name.split()
        if 0 < len(words) <= MAX_AUTHOR_WORDS and all(w[:1].isupper() for w in words):
            return prefix + name
    return None


def markdown_body(paragraphs: tuple[str, ...]) -> str:
    blocks = []
    for position, paragraph in enumerate(paragraphs):
        escaped = escape_text(paragraph)
        if is_subheading(paragraphs, position):
            if escaped.endswith("#"):  # a heading's closing hashes would swallow it
                escaped = escaped[:-1] + "\\#"
            escaped = f"## {escaped}"
        blocks.append(escaped)
    return "\n\n".join(blocks) + "\n" if blocks else ""


def post_text(article: RawArticle, section_slug: str, slug: str, source: str) -> str:
    """The file an import writes, ending its front matter with a hash of everything else."""
    meta: dict[str, object] = {
        "title": article.title,
        "section": article.label,
        "slug": slug,
    }
    if article.date is not None:
        meta["date"] = article.date
    author = find_author(article.paragraphs)
    if author:
        meta["author"] = author
    meta["source"] = f"{source}:{article.line}"
    header = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=10_000)
    body = markdown_body(article.paragraphs)
    unsigned = f"---\n{header}---\n\n{body}"
    return sign(unsigned)


def sign(unsigned: str) -> str:
    digest = hashlib.sha256(unsigned.encode("utf-8")).hexdigest()[:16]
    head, _, rest = unsigned.partition("\n---\n")
    return f"{head}\n{IMPORT_HASH_KEY}: {_yaml_text(digest)}\n---\n{rest}"


def _yaml_text(digest: str) -> str:
    """The digest as YAML text: quoted when YAML would read it as a number (one hash in
    about two thousand is all digits, such as 9998681309787410)."""
    return digest if isinstance(yaml.safe_load(digest), str) else f"'{digest}'"


def is_unedited(text: str) -> bool:
    """True when the file is byte for byte what an import wrote (its hash still matches)."""
    match = re.search(rf"^{IMPORT_HASH_KEY}: '?([0-9a-f]{{16}})'?\n", text, re.MULTILINE)
    if not match:
        return False
    unsigned = text[: match.start()] + text[match.end() :]
    return hashlib.sha256(unsigned.encode("utf-8")).hexdigest()[:16] == match.group(1)
