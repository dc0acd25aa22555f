"""A raw article -> its Markdown post (YAML front matter and an escaped body), written as a
stream; and an imported post read back: was it edited, and which story does it hold."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import yaml

from broadsheet.errors import BroadsheetError
from broadsheet.ingest.escape import escape_text, unescape_text
from broadsheet.ingest.pages import OPENING, RawArticle, fingerprint
from broadsheet.paths import open_source

IMPORT_HASH_KEY = "import_hash"
MAX_HEADING_LENGTH = 100
MAX_HEADING_WORDS = 16
_SENTENCE_END = tuple(".!?:;,…\"”’'")
MAX_AUTHOR_WORDS = 6
_BYLINE = re.compile(r"^The (?:author|writer) (?:of this article )?(?:is|was) (?P<rest>.+)$")
_HONORIFIC = re.compile(r"^(?:(?:Dr|Mr|Mrs|Ms|Prof|Professor|Sir)\.?\s+)+")
# A name ends at a full stop that does not close an initial ("H.R. McMaster"), or a comma.
_NAME_END = re.compile(r"(?<![A-Z])\.(?:\s|$)|[,;(]|\s(?:is|was|and|who)\s")
_HASH_LINE = re.compile(rf"^{IMPORT_HASH_KEY}: '?([0-9a-f]{{16}})'?\n\Z")


def is_subheading(paragraph: str, position: int, count: int) -> bool:
    """A short line between paragraphs, without closing punctuation ("Future challenges")."""
    return (
        0 < position < count - 1
        and len(paragraph) <= MAX_HEADING_LENGTH
        and len(paragraph.split()) <= MAX_HEADING_WORDS
        and not paragraph.endswith(_SENTENCE_END)
        and (paragraph[:1].isupper() or paragraph[:1].isdigit())
    )


def find_author(paragraphs: Iterable[str]) -> str | None:
    """The name in the last byline such as "The author is Dr. Davood Moradian. He is ..."."""
    found = None
    for paragraph in paragraphs:
        match = _BYLINE.match(paragraph)
        if not match:
            continue
        rest = match.group("rest")
        title = _HONORIFIC.match(rest)
        prefix = title.group(0) if title else ""
        name = _NAME_END.split(rest[len(prefix) :], maxsplit=1)[0].strip()
        words = name.split()
        if 0 < len(words) <= MAX_AUTHOR_WORDS and all(w[:1].isupper() for w in words):
            found = prefix + name
    return found


def markdown_blocks(paragraphs: Iterable[str], count: int) -> Iterator[str]:
    for position, paragraph in enumerate(paragraphs):
        escaped = escape_text(paragraph)
        if is_subheading(paragraph, position, count):
            if escaped.endswith("#"):  # a heading's closing hashes would swallow it
                escaped = escaped[:-1] + "\\#"
            escaped = f"## {escaped}"
        yield escaped


def markdown_body(paragraphs: tuple[str, ...]) -> str:
    blocks = list(markdown_blocks(paragraphs, len(paragraphs)))
    return "\n\n".join(blocks) + "\n" if blocks else ""


def write_post(
    handle: BinaryIO,
    article: RawArticle,
    label: str | None,
    slug: str,
    source: str,
    aliases: tuple[str, ...] = (),
) -> str:
    """Write the post an import makes of `article`; its front matter ends with a hash of
    everything else (`import_hash`), which is returned. The body is read twice from the
    article's spool, never held whole. `aliases`: the old URLs of the post it replaces
    (recorded by `mv`), kept so that they go on answering."""
    meta: dict[str, object] = {"title": article.title}
    if label is not None:
        meta["section"] = label
    meta["slug"] = slug
    if aliases:
        meta["aliases"] = list(aliases)
    if article.date is not None:
        meta["date"] = article.date
    author = find_author(article.body)
    if author:
        meta["author"] = author
    meta["source"] = f"{source}:{article.line}"
    header = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=10_000)
    head = f"---\n{header}".encode()
    digest = hashlib.sha256(head)
    for chunk in _body_chunks(article):
        digest.update(chunk)
    signature = digest.hexdigest()[:16]
    handle.write(head)
    handle.write(f"{IMPORT_HASH_KEY}: {_yaml_text(signature)}\n".encode())
    for chunk in _body_chunks(article):
        handle.write(chunk)
    return signature


def _body_chunks(article: RawArticle) -> Iterator[bytes]:
    yield b"---\n"
    empty = True
    for block in markdown_blocks(article.body, article.body.count):
        yield f"\n{block}\n".encode()
        empty = False
    if empty:
        yield b"\n"


def post_text(article: RawArticle, section_slug: str, slug: str, source: str) -> str:
    """The whole post as text (for tests and small articles)."""
    del section_slug  # the folder; the label is what the front matter names
    out = io.BytesIO()
    write_post(out, article, article.label, slug, source)
    return out.getvalue().decode("utf-8")


def _yaml_text(digest: str) -> str:
    """The digest as YAML text: quoted when YAML would read it as a number (one hash in
    about two thousand is all digits, such as 9998681309787410)."""
    return digest if isinstance(yaml.safe_load(digest), str) else f"'{digest}'"


def is_unedited(text: str) -> bool:
    """True when the post is byte for byte what an import wrote (its hash still matches)."""
    return read_post_stream(io.BytesIO(text.encode("utf-8")), Path("post")).unedited


@dataclass
class PostOnDisk:
    """What the importer needs of a post already in content/."""

    import_hash: str | None = None  # the value of its `import_hash` line, if it has one
    unedited: bool = False
    sha256: str = ""  # of the whole file: a post changed since it was read is not replaced
    meta: dict[str, object] = field(default_factory=dict)
    opening: list[bytes] = field(default_factory=list)  # fingerprints of its paragraphs
    sizes: list[int] = field(default_factory=list)  # and their lengths
    paragraphs: int = 0
    whole: str = ""


def read_post(path: Path, *, header_only: bool = False) -> PostOnDisk:
    try:
        with open_source(path) as handle:  # never a named pipe: it would wait for ever
            return read_post_stream(handle, path, header_only)
    except OSError as exc:
        raise BroadsheetError(
            f"cannot read the existing post: {exc.strerror or exc}", path
        ) from exc


def read_post_stream(handle: BinaryIO, path: Path, header_only: bool = False) -> PostOnDisk:
    """Read a post line by line: memory stays bounded however long it is. With
    `header_only`, only its `import_hash` (and so not whether it was edited)."""
    post = PostOnDisk()
    whole_file = hashlib.sha256()
    unsigned = hashlib.sha256()
    whole = hashlib.blake2b(digest_size=16)
    header: list[bytes] = []
    state = "start"
    for line in handle:
        whole_file.update(line)
        if state == "start":
            state = "header" if line == b"---\n" else "other"
        elif state == "header":
            if line == b"---\n":
                state = "body"
                if header_only:
                    break
            elif post.import_hash is None and (match := _HASH_LINE.match(_text(line))):
                post.import_hash = match.group(1)
                continue  # the one line the hash does not cover
            else:
                header.append(line)
        elif state == "body" and line.strip():
            block = _text(line).rstrip("\n")
            paragraph = unescape_text(block[3:] if block.startswith("## ") else block)
            digest, size = fingerprint(paragraph)
            if len(post.opening) < OPENING:
                post.opening.append(digest)
                post.sizes.append(size)
            whole.update(digest)
            post.paragraphs += 1
        unsigned.update(line)
    post.sha256 = whole_file.hexdigest()
    post.whole = whole.hexdigest()
    post.unedited = post.import_hash is not None and unsigned.hexdigest()[:16] == post.import_hash
    try:
        meta = yaml.safe_load(b"".join(header)) if state == "body" else None
    except yaml.YAMLError:
        meta = None
    post.meta = meta if isinstance(meta, dict) else {}
    return post


def kept_aliases(post: PostOnDisk) -> tuple[str, ...]:
    """The `aliases` of a post on disk (written by `mv`), if it has a list of them."""
    found = post.meta.get("aliases")
    if isinstance(found, list) and all(isinstance(alias, str) for alias in found):
        return tuple(found)
    return ()


def _text(line: bytes) -> str:
    return line.decode("utf-8", errors="replace")
