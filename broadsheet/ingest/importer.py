"""Import raw files into content/: dedupe, choose slugs, and never clobber an author's edit."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from broadsheet.errors import BroadsheetError, display_path
from broadsheet.files import write_if_changed
from broadsheet.ingest.escape import unescape_text
from broadsheet.ingest.posts import is_unedited, post_text
from broadsheet.ingest.rawtext import ParseStats, RawArticle, parse_lines, read_lines
from broadsheet.slugs import slugify

MAX_SLUG_TRIES = 1000


@dataclass
class FileReport:
    """What an import did with one raw file."""

    source: Path
    written: list[Path] = field(default_factory=list)
    updated: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    kept_edits: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    articles: int = 0


@dataclass
class _Seen:
    """An article this import placed: its paragraphs' hashes, for finding copies of it."""

    digests: tuple[bytes, ...]
    path: Path | None
    report: FileReport
    source: Path


def import_files(
    paths: Sequence[Path], content_dir: Path, *, force: bool = False
) -> list[FileReport]:
    """Import every raw file. All are read through once before anything is written, and
    then again, an article at a time, so that memory stays bounded however big they are."""
    for path in paths:
        for _ in read_lines(path):  # a file that is not UTF-8 stops the import here
            pass
    seen: dict[tuple[str, str], list[_Seen]] = {}
    taken: set[Path] = set()  # files this run wrote: never overwritten by a later article
    reports = []
    for path in paths:
        report = FileReport(path)
        stats = ParseStats()
        for article in parse_lines(path, read_lines(path), stats):
            report.articles += 1
            _take(article, report, seen, taken, content_dir, force)
        if stats.control_characters_removed:
            report.notes.append(
                f"removed {stats.control_characters_removed} control character(s) "
                "that HTML cannot show"
            )
        if stats.unclaimed_lines:
            lines = ", ".join(str(n) for n in stats.unclaimed_lines[:10])
            report.notes.append(f"text outside any article was not imported (lines {lines})")
        reports.append(report)
    return reports


def _take(
    article: RawArticle,
    report: FileReport,
    seen: dict[tuple[str, str], list[_Seen]],
    taken: set[Path],
    content_dir: Path,
    force: bool,
) -> None:
    """Place one article, unless it is a copy of one placed already (the fuller one wins)."""
    key = (slugify(article.label, fallback="section"), article.title)
    digests = tuple(
        hashlib.blake2b(p.encode("utf-8"), digest_size=12).digest() for p in article.paragraphs
    )
    for other in seen.get(key, []):
        if not (_is_prefix(digests, other.digests) or _is_prefix(other.digests, digests)):
            continue
        if len(digests) > len(other.digests) and other.path is not None:
            text = post_text(article, key[0], other.path.stem, _source_name(article.source))
            write_if_changed(other.path, text)
            other.digests = digests
            report.updated.append(other.path)
            other.report.notes.append(f"{article.title}: a fuller copy in {article.source.name}")
        else:
            report.duplicates.append(f"{article.title} (also in {other.source.name})")
        return
    path = _place(article, report, content_dir, force, taken)
    seen.setdefault(key, []).append(_Seen(digests, path, report, article.source))


def _is_prefix(short: tuple[object, ...], long: tuple[object, ...]) -> bool:
    return len(short) <= len(long) and long[: len(short)] == short


def _place(
    article: RawArticle, report: FileReport, content_dir: Path, force: bool, taken: set[Path]
) -> Path | None:
    """Find this article's file: new, unchanged, its own older import, or a free slug."""
    section_slug = slugify(article.label, fallback="section")
    base = slugify(article.title)
    source = _source_name(article.source)
    for attempt in range(1, MAX_SLUG_TRIES + 1):
        slug = base if attempt == 1 else f"{base}-{attempt}"
        path = content_dir / section_slug / f"{slug}.md"
        text = post_text(article, section_slug, slug, source)
        if path in taken:
            continue
        taken.add(path)
        if not path.exists():
            write_if_changed(path, text)
            report.written.append(path)
            return path
        existing = _read_post(path)
        if existing == text:
            report.unchanged.append(path)
            return path
        verdict = _compare(existing, article, source)
        if verdict == "other":
            taken.discard(path)
            continue
        if verdict == "duplicate":
            report.duplicates.append(f"{article.title} (already in {display_path(path)})")
            return None
        if verdict == "edited" and not force:
            report.kept_edits.append(path)
            return path
        write_if_changed(path, text)
        report.updated.append(path)
        return path
    raise BroadsheetError(
        f"no free slug for '{article.title}' after {MAX_SLUG_TRIES} tries",
        article.source,
        article.line,
    )


def _compare(existing: str, article: RawArticle, source: str) -> str:
    """How a post already on disk relates to this article.

    "ours": an unedited import of it (safe to refresh); "edited": it, changed by hand;
    "duplicate": the same story imported from elsewhere, as full as ours; "other": a
    different article that happens to have the same slug.
    """
    title, where, paragraphs = _summary(existing)
    if title != article.title:
        return "other"
    same_place = where == f"{source}:{article.line}"
    if not is_unedited(existing):
        return "edited" if same_place else "other"
    if same_place:
        return "ours"
    if _is_prefix(article.paragraphs, paragraphs):
        return "duplicate"
    if _is_prefix(paragraphs, article.paragraphs):
        return "ours"  # ours is the fuller copy of the same story
    return "other"


def _summary(text: str) -> tuple[str | None, str, tuple[str, ...]]:
    """Title, source and paragraphs of an imported post, read back without a YAML round trip."""
    import yaml

    _, _, rest = text.partition("---\n")
    header, _, body = rest.partition("\n---\n")
    try:
        meta = yaml.safe_load(header)
    except yaml.YAMLError:
        return None, "", ()
    if not isinstance(meta, dict):
        return None, "", ()
    blocks = [b for b in body.strip("\n").split("\n\n") if b]
    paragraphs = tuple(unescape_text(b[3:] if b.startswith("## ") else b) for b in blocks)
    return meta.get("title"), str(meta.get("source", "")), paragraphs


def _source_name(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.name


def _read_post(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BroadsheetError(f"cannot read the existing post: {exc}", path) from exc
