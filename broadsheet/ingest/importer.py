"""Import raw files into content/: know each story by its text, choose slugs, and never
clobber an author's edit. Every raw file is read once; nothing is written until all are."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from broadsheet.errors import BroadsheetError, display_path
from broadsheet.ingest.commit import (
    ANY,
    Move,
    MoveFailed,
    Stage,
    finish_interrupted,
)
from broadsheet.ingest.index import INDEX_NAME, Story, index_bytes, load_index, reconcile
from broadsheet.ingest.pages import MAX_RANGES, LineCounts, RawArticle, parse_lines
from broadsheet.ingest.posts import kept_aliases, read_post, write_post
from broadsheet.ingest.rawtext import STDIN, read_lines, source_name
from broadsheet.locks import content_lock
from broadsheet.slugs import RESERVED_SECTIONS, slugify
from broadsheet.stops import written_whole

MAX_SLUG_TRIES = 1000
MAX_LISTED = 20  # duplicates named in a report; the rest are counted
# Folders whose URLs belong to the site's own pages (/tags/, /page/2/, ...).


@dataclass
class FileReport:
    """What an import did with one raw file."""

    source: Path
    written: list[Path] = field(default_factory=list)
    updated: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)  # the first MAX_LISTED of them
    duplicate_count: int = 0
    kept_edits: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    articles: int = 0
    counts: LineCounts = field(default_factory=LineCounts)


def import_files(
    paths: Sequence[Path],
    content_dir: Path,
    *,
    force: bool = False,
    wait: Callable[[str], None] | None = None,
) -> list[FileReport]:
    """Import every raw file, holding content/ alone from the first decision to the last
    write, so that no other import or build sees it half done."""
    try:
        content_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BroadsheetError(f"cannot create: {exc.strerror or exc}", content_dir) from exc
    with content_lock(content_dir, shared=False, wait=wait):
        finish_interrupted(content_dir)
        index = content_dir / INDEX_NAME
        if os.path.lexists(index) and not index.is_file():
            raise BroadsheetError("the importer's index is not a file; move it away", index)
        recorded, problem = load_index(content_dir)
        known = reconcile(content_dir, recorded)
        run = _Run(content_dir, known.stories, force, known.taken)
        try:
            reports = [run.read(path) for path in paths]
            run.commit(reports)
        finally:
            run.stage.remove()
        if problem and reports:
            reports[0].notes.append(problem)
    return reports


@dataclass
class _Planned:
    """A story the import will write or update, and what the report says of it."""

    story: Story
    before: Story | None  # the story as it was, if this move updates its post
    report: FileReport
    kind: str  # "written" or "updated"


class _Run:
    """One import: the stories known, and the moves planned."""

    def __init__(
        self, content_dir: Path, stories: list[Story], force: bool, taken: set[str]
    ) -> None:
        self.content_dir = content_dir
        self.stories = stories
        self.force = force
        self.taken = taken  # site paths the posts answer (slugs, aliases): never a new one's
        self.stage = Stage(content_dir)
        self.planned: dict[str, _Planned] = {}  # by post path
        self.by_first: dict[bytes, list[Story]] = {}
        self.by_headline: dict[tuple[str, str], list[Story]] = {}
        self.by_source: dict[str, list[Story]] = {}
        self._sources: dict[Path, str] = {}
        for story in stories:
            self._know(story)

    def read(self, path: Path) -> FileReport:
        report = FileReport(path)
        for article in parse_lines(path, read_lines(path), report.counts):
            try:
                report.articles += 1
                self._take(article, report)
            finally:
                article.body.close()
        counts = report.counts
        if counts.control_characters_removed:
            report.notes.append(
                f"removed {counts.control_characters_removed} control character(s) "
                "that HTML cannot show"
            )
        if counts.outside:
            shown = counts.outside_ranges
            ranges = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in shown)
            more = ", ..." if len(shown) == MAX_RANGES else ""
            report.notes.append(
                f"{counts.outside} line(s) of text outside any article were not imported "
                f"(lines {ranges}{more})"
            )
        return report

    def _source(self, path: Path) -> str:
        if path not in self._sources:
            self._sources[path] = _source(path)
        return self._sources[path]

    def _take(self, article: RawArticle, report: FileReport) -> None:
        section = slugify(article.label, fallback="section")
        if section in RESERVED_SECTIONS:
            raise BroadsheetError(
                f"section '{article.label}' would be {section}/, whose URL /{section}/ "
                f"belongs to {RESERVED_SECTIONS[section]}; rename the section label and "
                "import again",
                article.source,
                article.label_line,
            )
        story = self._find(article)
        if story is None:
            self._new(article, report, section)
            return
        fuller = article.body.count > story.paragraphs
        planned = self.planned.get(story.path)
        if planned is not None and not fuller:  # placed by this import already
            _duplicate(report, f"{article.title} (also in {story.source.rpartition(':')[0]})")
            return
        here = f"{self._source(article.source)}:{article.line}"
        same = story.loose or (
            article.body.count == story.paragraphs and article.body.whole == story.whole
        )
        path = self.content_dir / story.path
        if planned is None and not fuller and not (same and story.source == here):
            _duplicate(report, f"{article.title} (already in {display_path(path)})")
            return
        self._update(article, report, story, planned, path)

    def _find(self, article: RawArticle) -> Story | None:
        body = article.body
        here = f"{self._source(article.source)}:{article.line}"
        candidates = list(self.by_first.get(body.opening[0], [])) if body.count else []
        candidates += self.by_headline.get((article.label, article.title), [])
        candidates += self.by_source.get(here, [])
        for story in candidates:
            if story.same_story(article.label, article.title, body, here):
                return story
        return None

    def _know(self, story: Story) -> None:
        if story.opening:
            self.by_first.setdefault(story.opening[0], []).append(story)
        self.by_headline.setdefault((story.label, story.title), []).append(story)
        if story.loose:
            self.by_source.setdefault(story.source, []).append(story)

    def _new(self, article: RawArticle, report: FileReport, section: str) -> None:
        base = slugify(article.title)
        for attempt in range(1, MAX_SLUG_TRIES + 1):
            slug = base if attempt == 1 else f"{base}-{attempt}"
            relative = f"{section}/{slug}.md"
            files = (self.content_dir / relative, self.content_dir / section / slug / "index.md")
            if relative in self.planned or any(map(os.path.lexists, files)):  # (or a bundle)
                continue
            if f"{section}/{slug}/" in self.taken:  # another post's slug: or alias: says so
                continue
            self.taken.add(f"{section}/{slug}/")
            story = Story(relative, "", [], [], 0, "", "", "", "")
            self._stage(article, story, None)
            self.stories.append(story)
            self.planned[relative] = _Planned(story, None, report, "written")
            report.written.append(self.content_dir / relative)
            return
        raise BroadsheetError(
            f"no free slug for '{article.title}' after {MAX_SLUG_TRIES} tries",
            article.source,
            article.line,
        )

    def _update(
        self,
        article: RawArticle,
        report: FileReport,
        story: Story,
        planned: _Planned | None,
        path: Path,
    ) -> None:
        if planned is not None:  # a fuller copy of a post this import writes: it wins
            self._stage(article, story, self.stage.moves[story.path].expected)
            planned.report.notes.append(f"{article.title}: a fuller copy in {article.source}")
            report.updated.append(path)
            return
        post = read_post(path)
        if not post.unedited and not self.force:
            report.kept_edits.append(path)
            return
        before = replace(story)
        name, digest = self._stage(article, story, post.sha256, kept_aliases(post))
        if digest == post.sha256:  # what it holds already
            self.stage.discard(name)
            del self.stage.moves[story.path]
            story.__dict__.update(before.__dict__)
            report.unchanged.append(path)
            return
        self.planned[story.path] = _Planned(story, before, report, "updated")
        report.updated.append(path)

    def _stage(
        self,
        article: RawArticle,
        story: Story,
        expected: str | None,
        aliases: tuple[str, ...] = (),
    ) -> tuple[str, str]:
        """Stage the post of `article` at the story's path (keeping the `aliases` of the
        post it replaces); the story now says what it holds. Returns the staged file's
        name and its sha256."""
        folder, _, filename = story.path.rpartition("/")
        label = article.label if slugify(article.label, fallback="section") == folder else None
        source = self._source(article.source)
        name, digest, signature = self.stage.write(
            lambda handle: write_post(handle, article, label, filename[:-3], source, aliases)
        )
        self.stage.plan(Move(name, story.path, expected))
        body = article.body
        story.import_hash, story.paragraphs = signature, body.count
        story.opening, story.sizes = list(body.opening), list(body.sizes)
        story.whole, story.label, story.title = body.whole, article.label, article.title
        story.source, story.loose = f"{source}:{article.line}", False
        self._know(story)
        return name, digest

    def commit(self, reports: list[FileReport]) -> None:
        """Move the posts in, then the index of what content/ now holds: Ctrl-C and
        SIGTERM wait until both are written, then raise Interrupted (the import is
        whole, and the next one need not read the posts back)."""
        with written_whole(reports):
            self._commit()

    def _commit(self) -> None:
        try:
            conflicts = {m.target for m in self.stage.commit()} if self.stage.moves else set()
        except MoveFailed as exc:  # nothing was moved in: the error names the raw article
            where = self.content_dir / exc.move.target
            planned = self.planned.get(exc.move.target)
            source = planned.story.source if planned is not None else ""
            file, _, line = source.rpartition(":")
            raise BroadsheetError(
                f"{display_path(where)}: cannot write: {exc.reason}; nothing was imported",
                Path(file),
                int(line) if line.isdecimal() else None,
            ) from exc
        for relative in conflicts:
            planned = self.planned[relative]
            path = self.content_dir / relative
            getattr(planned.report, planned.kind).remove(path)
            planned.report.notes.append(
                f"{display_path(path)} changed while importing: kept as it is; import again"
            )
            self.stories.remove(planned.story)
            if planned.before is not None:
                self.stories.append(planned.before)
        data = index_bytes(self.stories)
        if not self.stories and not (self.content_dir / INDEX_NAME).exists():
            return
        with contextlib.suppress(OSError):
            if (self.content_dir / INDEX_NAME).read_bytes() == data:
                return
        try:
            index = Stage(self.content_dir)
            try:
                name, _, _ = index.write(lambda handle: str(handle.write(data)))
                index.plan(Move(name, INDEX_NAME, ANY))
                index.commit()
            finally:
                index.remove()
        except BroadsheetError as exc:  # (a full disk; MoveFailed too): the posts are in
            raise BroadsheetError(
                f"the posts were imported, but the importer's index could not be written "
                f"({exc.message}); make room and import again: nothing is written twice",
                self.content_dir / INDEX_NAME,
            ) from exc


def _duplicate(report: FileReport, text: str) -> None:
    report.duplicate_count += 1
    if len(report.duplicates) < MAX_LISTED:
        report.duplicates.append(text)


def _source(path: Path) -> str:
    """How a post's `source` names its raw file: relative to the project when inside it."""
    if path == STDIN:
        return source_name(path)
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        return path.name
