"""The importer's own record of what it wrote: which post holds which story, known by
fingerprints of its paragraphs, kept in content/.broadsheet-imports.json (a hidden file,
which builds ignore; commit it with the posts)."""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from broadsheet.content.aliases import parse_alias
from broadsheet.ingest.pages import Body
from broadsheet.ingest.posts import read_post
from broadsheet.paths import source_files

INDEX_NAME = ".broadsheet-imports.json"
FORMAT = 1
# Text in common that makes two articles one story whatever their headlines: a re-titled
# article is still itself, but two stories may well open with the same short line.
SAME_TEXT = 200


@dataclass(eq=False)
class Story:
    """An imported article: where its post is, and what it said when it was imported."""

    path: str  # below content/, e.g. "asia/talks-resume.md"
    import_hash: str  # the post's `import_hash` when the importer last wrote it
    opening: list[bytes]  # fingerprints of its first paragraphs
    sizes: list[int]  # their lengths
    paragraphs: int
    whole: str  # a fingerprint of all of them
    label: str
    title: str
    source: str  # raw file:line
    # Read back from a post edited before the index knew it: its text is the author's,
    # so its `source` (raw file:line) tells it too.
    loose: bool = False

    def same_story(self, label: str, title: str, body: Body, source: str = "") -> bool:
        """The same article: one's paragraphs open the other's (a teaser and its full
        text), under the same headline or with enough text in common; or, for an article
        with no text at all, the same section and headline."""
        if self.loose and self.source == source:
            # Its text is the author's, but a raw file's name and line are no identity
            # (a scraper reuses names; every import from stdin is <stdin>): the same
            # headline, or a paragraph in common, must say it is the same story too.
            return self.title == title or not set(self.opening).isdisjoint(body.opening)
        if body.count == 0 or self.paragraphs == 0:
            return (self.label, self.title) == (label, title)
        shared = min(len(self.opening), len(body.opening))
        if self.opening[:shared] != body.opening[:shared]:
            return False
        return self.title == title or sum(self.sizes[:shared]) >= SAME_TEXT

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "import_hash": self.import_hash,
            "opening": [d.hex() for d in self.opening],
            "sizes": self.sizes,
            "paragraphs": self.paragraphs,
            "whole": self.whole,
            "label": self.label,
            "title": self.title,
            "source": self.source,
            "loose": self.loose,
        }

    @classmethod
    def from_json(cls, item: dict[str, object]) -> Story:
        opening = item["opening"]
        assert isinstance(opening, list)
        sizes = item["sizes"]
        assert isinstance(sizes, list) and all(isinstance(n, int) for n in sizes)
        fields = ("path", "import_hash", "whole", "label", "title", "source")
        texts = {name: item[name] for name in fields}
        assert all(isinstance(v, str) for v in texts.values())
        assert isinstance(item["paragraphs"], int) and isinstance(item["loose"], bool)
        return cls(
            opening=[bytes.fromhex(str(d)) for d in opening],
            sizes=list(sizes),
            loose=item["loose"],
            paragraphs=item["paragraphs"],
            **texts,  # type: ignore[arg-type]
        )


def index_bytes(stories: list[Story]) -> bytes:
    """The index file: sorted, so that it diffs well, with a checksum of its stories."""
    rows = [s.to_json() for s in sorted(stories, key=lambda s: s.path)]
    body = json.dumps(rows, ensure_ascii=False, sort_keys=True)
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    text = json.dumps({"format": FORMAT, "sha256": digest, "stories": rows}, ensure_ascii=False)
    return text.replace('}, {"', '},\n {"').encode("utf-8") + b"\n"


def load_index(content_dir: Path) -> tuple[list[Story], str | None]:
    """The stories the index records, or none (and why) when it is missing or damaged."""
    path = content_dir / INDEX_NAME
    try:
        data = json.loads(path.read_bytes())
        rows = data["stories"]
        body = json.dumps(rows, ensure_ascii=False, sort_keys=True)
        if data["format"] != FORMAT:
            return [], f"{INDEX_NAME} is from another version: rebuilt from the posts"
        if hashlib.sha256(body.encode("utf-8")).hexdigest() != data["sha256"]:
            raise ValueError("checksum")
        return [Story.from_json(row) for row in rows], None
    except FileNotFoundError:
        return [], None
    except (OSError, ValueError, KeyError, TypeError, AssertionError, AttributeError):
        return [], f"{INDEX_NAME} was damaged: rebuilt from the posts"


def post_files(content_dir: Path) -> list[str]:
    """Every post below content/ as the build finds them (the same walk: a source the
    build would refuse, such as a named pipe or an unreadable folder, is an error naming
    it, never a hang), relative, sorted."""
    start = len(str(content_dir)) + 1
    return sorted(
        Path(name[start:]).as_posix() for name in source_files(content_dir) if name.endswith(".md")
    )


@dataclass
class Known:
    """What content/ holds as the importer finds it: the imported stories, and the site
    paths (asia/talks-resume/) that its posts answer, by their slugs and aliases."""

    stories: list[Story]
    taken: set[str]


def reconcile(content_dir: Path, recorded: list[Story]) -> Known:
    """The stories whose posts are in content/ now, and the paths its posts take. A post
    is known by its `import_hash` line wherever it was moved, else by its path (a copy
    of an imported post, its `import_hash` with it, leaves the story where the index
    had it); an imported post the index does not know (the index was lost, or an import
    was killed) is read back from its text."""
    by_path = {s.path: s for s in recorded}
    by_hash = {s.import_hash: s for s in recorded}
    live: list[Story] = []
    claimed: set[int] = set()
    taken: set[str] = set()
    posts = [
        (relative, read_post(content_dir / relative, header_only=True))
        for relative in post_files(content_dir)
    ]
    for relative, post in posts:
        taken |= _answers(relative, post.meta)
        story = by_path.get(relative)
        if story is not None and post.import_hash == story.import_hash:
            claimed.add(id(story))  # where the index left it
    for relative, post in posts:
        path = content_dir / relative
        story = by_hash.get(post.import_hash or "") or by_path.get(relative)
        if story is not None and id(story) in claimed and story.path == relative:
            live.append(story)
            continue
        if story is None and post.import_hash is not None:
            post = read_post(path)
            meta = post.meta
            story = Story(
                relative,
                post.import_hash or "",
                post.opening,
                post.sizes,
                post.paragraphs,
                post.whole,
                str(meta.get("section") or relative.split("/")[0]),
                str(meta.get("title", "")),
                str(meta.get("source", "")),
                loose=not post.unedited,
            )
        if story is None or id(story) in claimed:
            continue
        claimed.add(id(story))
        story.path = relative
        live.append(story)
    return Known(live, taken)


def answering(content_dir: Path) -> dict[str, str]:
    """Each site path the posts below content/ answer (by their slugs and aliases), and
    the post (below content/) that answers it: read from their front matter alone."""
    found: dict[str, str] = {}
    for relative in post_files(content_dir):
        meta = read_post(content_dir / relative, header_only=True).meta
        for path in sorted(_answers(relative, meta)):
            found.setdefault(path, relative)
    return found


def _answers(relative: str, meta: dict[str, object]) -> set[str]:
    """The site paths a post answers: its own (its `slug`, else its file's or its
    folder's name), and its aliases."""
    folder, _, name = relative.partition("/")
    stem = name.rsplit("/", 1)[0] if name.endswith("/index.md") else name.removesuffix(".md")
    slug = meta.get("slug")
    found = {f"{folder}/{slug if isinstance(slug, str) and slug else stem}/"}
    aliases = meta.get("aliases")
    listed = [aliases] if isinstance(aliases, str) else aliases
    for alias in listed if isinstance(listed, list) else ():
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            found.add(parse_alias(alias.strip()))  # (as the build reads them)
    return found
