"""Import raw files into content/: dedupe, choose slugs, and never clobber an author's edit."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from broadsheet.errors import BroadsheetError, display_path
from broadsheet.ingest.escape import unescape_text
from broadsheet.ingest.posts import is_unedited, post_text
from broadsheet.ingest.rawtext import RawArticle, RawFile, decode, parse_raw
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


def read_raw(path: Path) -> RawFile:
    try:
        data = path.read_bytes()
    except IsADirectoryError as exc:
        raise BroadsheetError("is a directory, not a raw text file", path) from exc
    except OSError as exc:
        raise BroadsheetError(f"cannot read: {exc.strerror or exc}", path) from exc
    return parse_raw(path, decode(path, data))


def import_files(
    paths: Sequence[Path], content_dir: Path, *, force: bool = False
) -> list[FileReport]:
    """Import every raw file; all are read and parsed before anything is written."""
    raw_files = [read_raw(path) for path in paths]
    reports = [FileReport(raw.source, articles=len(raw.articles)) for raw in raw_files]
    for raw, report in zip(raw_files, reports, strict=True):
        if raw.control_characters_removed:
            report.notes.append(
                f"removed {raw.control_characters_removed} control character(s) "
                "that HTML cannot show"
            )
        if raw.unclaimed_lines:
            lines = ", ".join(str(n) for n in raw.unclaimed_lines[:10])
            report.notes.append(f"text outside any article was not imported (lines {lines})")
    chosen = _dedupe(raw_files, reports)
    taken: set[Path] = set()  # files this run wrote: never overwritten by a later article
    for article, report in chosen:
        _place(article, report, content_dir, force, taken)
    return reports


def _dedupe(
    raw_files: list[RawFile], reports: list[FileReport]
) -> list[tuple[RawArticle, FileReport]]:
    """Keep one copy of each article; of a teaser and its full text, keep the full text."""
    kept: list[tuple[RawArticle, FileReport]] = []
    for raw, report in zip(raw_files, reports, strict=True):
        for article in raw.articles:
            for index, (other, other_report) in enumerate(kept):
                if not _same_story(article, other):
                    continue
                if len(article.paragraphs) > len(other.paragraphs):
                    kept[index] = (article, report)
                    other_report.duplicates.append(
                        f"{other.title} (fuller copy in {raw.source.name})"
                    )
                else:
                    report.duplicates.append(f"{article.title} (also in {other.source.name})")
                break
            else:
                kept.append((article, report))
    return kept


def _same_story(a: RawArticle, b: RawArticle) -> bool:
    if slugify(a.label) != slugify(b.label) or a.title != b.title:
        return False
    return _is_prefix(a.paragraphs, b.paragraphs) or _is_prefix(b.paragraphs, a.paragraphs)


def _is_prefix(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    return len(short) <= len(long) and long[: len(short)] == short


def _place(
    article: RawArticle, report: FileReport, content_dir: Path, force: bool, taken: set[Path]
) -> None:
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
            _write(path, text)
            report.written.append(path)
            return
        existing = _read_post(path)
        if existing == text:
            report.unchanged.append(path)
            return
        verdict = _compare(existing, article, source)
        if verdict == "other":
            taken.discard(path)
            continue
        if verdict == "duplicate":
            report.duplicates.append(f"{article.title} (already in {display_path(path)})")
            return
        if verdict == "edited" and not force:
            report.kept_edits.append(path)
            return
        _write(path, text)
        report.updated.append(path)
        return
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


def _write(path: Path, text: str) -> None:
    """Write the whole file or nothing: a temporary file renamed into place."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".import-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as exc:
        raise BroadsheetError(f"cannot write: {exc.strerror or exc}", path) from exc
