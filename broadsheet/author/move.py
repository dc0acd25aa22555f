"""`broadsheet mv` and `broadsheet gone`: move an article (or a whole section) and keep
its old URL answering; retire a published URL on purpose."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from broadsheet.author.frontedit import FrontMatter
from broadsheet.author.new import _section_slug, _unknown, known_sections, start_section
from broadsheet.author.sections import rename_section_setting
from broadsheet.config import SiteConfig
from broadsheet.content.aliases import parse_alias, written
from broadsheet.content.frontmatter import parse_post
from broadsheet.content.loader import load_posts
from broadsheet.content.post import Post
from broadsheet.errors import BroadsheetError, BroadsheetErrors, display_path
from broadsheet.files import remove_empty_folders, replace_whole, user_mode
from broadsheet.ingest.commit import finish_interrupted
from broadsheet.ingest.index import INDEX_NAME, index_bytes, load_index
from broadsheet.locks import content_lock
from broadsheet.outputs.published import (
    Record,
    post_name,
    read_record,
    record_path,
    write_record,
)
from broadsheet.paths import resolve
from broadsheet.slugs import slugify
from broadsheet.stops import written_whole

BUNDLE_INDEX = "index.md"


@dataclass(frozen=True)
class Unit:
    """A post as it lies on disk: a file, or a bundle folder with its index.md."""

    path: Path  # what moves: the .md file or the bundle folder
    file: Path  # the Markdown file
    section: str  # the section folder it is in

    @property
    def bundle(self) -> bool:
        return self.path != self.file


@dataclass(frozen=True)
class Plan:
    """What moving a post will do: where its file goes, its new text, and its URLs."""

    unit: Unit
    post: Post
    target: Path  # where unit.path goes
    text: str  # the post's new text
    old_url: str
    new_url: str
    aliased: bool  # whether the old URL was added as an alias
    original: bytes = b""  # the post's bytes as read: a save since is never overwritten


def move(
    config: SiteConfig,
    given: Path,
    *,
    slug: str | None = None,
    section: str | None = None,
    new_section: bool = False,
    wait: Callable[[str], None] | None = None,
) -> list[str]:
    """Move a post (a file or its bundle folder) or every post of a section folder;
    record each old URL as an alias in the post's front matter, and in the published-URL
    record; keep the importer's index pointing at the moved file. Returns what it did,
    a line each. Checks everything before it writes anything. `new_section` starts the
    section it names when there is none (as `new --new-section` does)."""
    if slug is None and section is None:
        raise BroadsheetError("say where to: --slug NEW-SLUG, --section SECTION, or both")
    content = config.path(config.content_dir)
    if not content.is_dir():
        raise BroadsheetError("the content folder does not exist: is this a project?", content)
    absolute = Path(os.path.abspath(given))
    where = resolve(absolute.parent) / absolute.name  # as content/ is: its links followed
    with content_lock(content, shared=False, wait=wait):
        try:
            return _move(config, content, where, given, slug, section, new_section)
        except OSError as exc:  # an unreadable folder, say
            raise BroadsheetError(f"cannot read this: {exc.strerror}", exc.filename) from exc


def _move(
    config: SiteConfig,
    content: Path,
    where: Path,
    given: Path,
    slug: str | None,
    section: str | None,
    new_section: bool = False,
) -> list[str]:
    finish_interrupted(content)
    if where.is_dir() and where.parent == content:
        if slug is not None:
            raise BroadsheetError("a section has no slug: move it with --section", given)
        assert section is not None
        return _move_section(config, content, where, section)
    unit = _unit(content, where, given)
    posts = _other_posts(config, content)
    plans = [_plan(config, content, unit, slug, section, posts, known=new_section)]
    _refuse_clashes(plans, posts)
    carried = _carried(config, content, plans, posts)
    target = plans[0].target.parent.name
    with written_whole([]) as done:
        if target not in known_sections(config):
            start_section(config, target)  # (--new-section) all checked: the move goes ahead
        done += _carry_out(content, plans, carried)
    return done


def _move_section(config: SiteConfig, content: Path, folder: Path, section: str) -> list[str]:
    target = _section_slug(section)
    if target == folder.name:
        raise BroadsheetError(f"the section is already '{target}'", folder)
    posts = _other_posts(config, content)
    units = [_unit(content, Path(os.path.abspath(p.path)), p.path) for p in posts]
    mine = [u for u in units if u.section == folder.name]
    if not mine:
        raise BroadsheetError("no posts to move in this section folder", folder)
    plans = [_plan(config, content, unit, None, target, posts, known=True) for unit in mine]
    _refuse_clashes(plans, posts)
    carried = _carried(config, content, plans, posts)
    with written_whole([]) as done:
        done += _carry_out(content, plans, carried)
        with contextlib.suppress(OSError):
            folder.rmdir()  # only if nothing else was in it
        done.append(rename_section_setting(config, folder.name, target))
    return done


def _unit(content: Path, where: Path, given: Path) -> Unit:
    """The post at `where`: a .md file in a section folder, or a bundle (the folder, or
    its index.md)."""
    try:
        parts = where.relative_to(content).parts
    except ValueError:
        raise BroadsheetError("not a post in the content folder", given) from None
    if where.is_dir() and len(parts) == 2 and (where / BUNDLE_INDEX).is_file():
        return Unit(where, where / BUNDLE_INDEX, parts[0])
    if where.is_file() and len(parts) == 3 and parts[2] == BUNDLE_INDEX:
        return Unit(where.parent, where, parts[0])
    if where.is_file() and len(parts) == 2 and where.suffix == ".md":
        return Unit(where, where, parts[0])
    if not where.exists():
        raise BroadsheetError("no such post", given)
    raise BroadsheetError(
        "not a post: give a post's file (content/asia/slug.md), its bundle folder, "
        "or a section folder",
        given,
    )


def _other_posts(config: SiteConfig, content: Path) -> list[Post]:
    try:
        return load_posts(content, config.zone)
    except BroadsheetErrors as exc:
        raise BroadsheetErrors(
            [*exc.errors, BroadsheetError("fix these first: mv moves only a readable archive")]
        ) from exc


def _plan(
    config: SiteConfig,
    content: Path,
    unit: Unit,
    slug: str | None,
    section: str | None,
    posts: list[Post],
    known: bool = False,
) -> Plan:
    try:
        original = unit.file.read_bytes()
        text = original.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BroadsheetError(f"cannot read: {exc}", unit.file) from exc
    post = parse_post(unit.file, text, unit.section, config.zone, bundle=unit.bundle)
    new_section = unit.section if section is None else _section_slug(section)
    sections = known_sections(config)
    if not known and new_section not in sections:
        raise BroadsheetError(_unknown(new_section, new_section, sections))
    new_slug = post.slug if slug is None else slug
    if slugify(new_slug, fallback="") != new_slug:
        raise BroadsheetError(f"'{new_slug}' is not a slug (try '{slugify(new_slug)}')")
    name = unit.path.name if slug is None else (new_slug if unit.bundle else f"{new_slug}.md")
    target = content / new_section / name
    old_url, new_url = post.url_path, f"{new_section}/{new_slug}/"
    if old_url == new_url and target == unit.path:
        raise BroadsheetError(f"already at /{new_url}: nothing to move", unit.path)
    record = read_record(content)
    published = not post.draft or old_url in record.published
    try:
        edited, aliased = _edit(text, post, new_section, new_slug, slug is not None, published)
    except ValueError as exc:
        raise BroadsheetError(f"cannot edit the front matter: {exc}", unit.file) from exc
    return Plan(unit, post, target, edited, old_url, new_url, aliased, original)


def _edit(
    text: str, post: Post, section: str, slug: str, new_slug: bool, published: bool
) -> tuple[str, bool]:
    """The post's text with its front matter saying where it now is, and its old URL
    among its aliases (its new URL no longer one). Only the keys it changes are
    rewritten; every other byte stays."""
    front = FrontMatter(text)
    before = front.meta()
    if "section" in before and section != post.section_slug:
        label = str(before["section"])
        front.set("section", section.upper() if label.isupper() else section)
    if "slug" in before and new_slug:
        front.set("slug", slug)
    given = before.get("aliases") or []
    given = [given] if isinstance(given, str) else list(given)
    new_url = f"{section}/{slug}/"
    kept = [a for a in given if not (isinstance(a, str) and _parsed(a) == new_url)]
    old_known = any(isinstance(a, str) and _parsed(a) == post.url_path for a in kept)
    aliased = published and not old_known and post.url_path != new_url
    if aliased:
        kept.append(written(post.url_path))
    if kept != given and kept:
        front.set("aliases", kept)
    elif kept != given:
        front.drop("aliases")
    after = front.meta()
    touched = ("section", "slug", "aliases")
    if [(k, v) for k, v in after.items() if k not in touched] != [
        (k, v) for k, v in before.items() if k not in touched
    ]:
        raise ValueError("it would not read back as the same post")
    return front.text, aliased


def _parsed(alias: str) -> str | None:
    try:
        return parse_alias(alias.strip())
    except ValueError:
        return None


def _refuse_clashes(plans: list[Plan], posts: list[Post]) -> None:
    """Nothing is written if a destination exists, or a new URL is another post's page
    or alias."""
    moving = {os.path.abspath(p.unit.file) for p in plans}
    taken: dict[str, Post] = {}
    for post in posts:
        if os.path.abspath(post.path) in moving:
            continue
        for url in (post.url_path, *post.aliases):
            taken.setdefault(url, post)
    errors = []
    targets: set[Path] = set()
    for plan in plans:
        if plan.target in targets or (
            os.path.lexists(plan.target) and plan.target != plan.unit.path
        ):
            errors.append(BroadsheetError("is in the way: choose another slug", plan.target))
        targets.add(plan.target)
        other = taken.get(plan.new_url)
        if other is not None:
            errors.append(
                BroadsheetError(
                    f"/{plan.new_url} is already {display_path(other.path)}'s URL or alias",
                    plan.unit.file,
                )
            )
        taken[plan.new_url] = plan.post
    if errors:
        raise BroadsheetErrors(errors)


@dataclass(frozen=True)
class Carried:
    """A file a flat post shows from its folder, and where it goes with it: the old one
    is removed once no post left in that folder shows it (`kept` if one does)."""

    source: Path
    target: Path
    kept: bool


def _carried(
    config: SiteConfig, content: Path, plans: list[Plan], posts: list[Post]
) -> list[Carried]:
    """The files that flat posts moving to another folder show from theirs (photos
    beside story.md; a bundle's move with its folder): nothing is written if one of
    their places holds another file."""
    from broadsheet.content.bundles import Folders, uses
    from broadsheet.paths import source_files

    leaving = [p for p in plans if not p.unit.bundle and p.target.parent != p.unit.path.parent]
    if not leaving:
        return []
    static = config.path(config.static_dir)
    folders = Folders(content, static, frozenset([*source_files(content), *source_files(static)]))
    wanted: dict[Path, Path] = {}
    for plan in leaving:
        for file in uses(plan.post, folders)[0].files():
            if file.is_relative_to(plan.unit.path.parent):  # (not static/, nor ../other/)
                wanted.setdefault(
                    file, plan.target.parent / file.relative_to(plan.unit.path.parent)
                )
    moving = {os.path.abspath(p.unit.file) for p in plans}
    shown = {
        file
        for post in posts
        if os.path.abspath(post.path) not in moving and (post.image or post.images)
        for file in uses(post, folders)[0].files()
    }
    errors = []
    for source, target in wanted.items():
        blocking = _in_the_way(content, source, target)
        if blocking is not None:
            errors.append(BroadsheetError(f"is in the way of {display_path(source)}", blocking))
    if errors:
        raise BroadsheetErrors(errors)
    return [Carried(source, target, source in shown) for source, target in wanted.items()]


def _in_the_way(content: Path, source: Path, target: Path) -> Path | None:
    """What keeps the file `source` from being copied to `target`: a file where a folder
    must be, or at `target` anything but a file of the same bytes (a folder, a link,
    another photo). None if nothing does."""
    folder = target.parent
    while folder != content and not os.path.isdir(folder):
        if os.path.lexists(folder):
            return folder
        folder = folder.parent
    if not os.path.lexists(target):
        return None
    try:
        same = target.is_file() and not target.is_symlink()
        if same and target.read_bytes() == source.read_bytes():
            return None
    except OSError:
        pass
    return target


def _carry_files(carried: list[Carried]) -> list[Path]:
    """Copy the files the moving posts show to their new folders (before the posts go);
    the copies made."""
    made = []
    for file in carried:
        try:
            file.target.parent.mkdir(parents=True, exist_ok=True)
            if not os.path.lexists(file.target):
                shutil.copy2(file.source, file.target)
                made.append(file.target)
        except OSError as exc:
            _forget_copies(made)
            raise BroadsheetError(f"cannot copy: {exc.strerror or exc}", file.target) from exc
    return made


def _forget_copies(made: list[Path]) -> None:
    """Remove the copies `_carry_files` made, for a move that did not happen."""
    for copy in made:
        with contextlib.suppress(OSError):
            copy.unlink()


def _carry_out(content: Path, plans: list[Plan], carried: list[Carried]) -> list[str]:
    """Move each post (with the files it shows from its folder), edit its front matter,
    then the importer's index and the published-URL record."""
    copies = _carry_files(carried)
    record = read_record(content)
    done: list[str] = []
    moved: dict[str, str] = {}
    for plan in plans:
        old_name = post_name(plan.unit.file, content)
        try:
            _move_unit(plan)
        except BroadsheetError as exc:  # (a post saved meanwhile, a full disk)
            if not done:
                _forget_copies(copies)  # nothing moved: nothing changes
                raise
            # What moved stays moved, with the record and the index following it; the
            # rest is where it was: the same mv, again, moves it.
            write_record(content, record)
            _follow_in_index(content, moved)
            raise BroadsheetError(
                f"{exc.message}; {len(done)} of {len(plans)} posts were moved before it "
                "(the published-URL record and the importer's index follow them): run the "
                "same mv again to move the rest",
                exc.path,
            ) from exc
        new_file = plan.target / BUNDLE_INDEX if plan.unit.bundle else plan.target
        new_name = post_name(new_file, content)
        moved[old_name] = new_name
        record.moved(old_name, new_name)
        if plan.aliased and plan.old_url not in record.published:
            record.publish(plan.old_url, new_name)
        line = f"moved {display_path(plan.unit.path)} -> {display_path(plan.target)}"
        if plan.aliased:
            line += f"; /{plan.old_url} now redirects to /{plan.new_url}"
        done.append(line)
    for file in carried:
        if not file.kept:
            with contextlib.suppress(OSError):
                file.source.unlink()
                section = content / file.source.relative_to(content).parts[0]
                remove_empty_folders(section, file.source.parent)  # (img/, left empty)
        done.append(
            f"{'copied' if file.kept else 'moved'} {display_path(file.source)} -> "
            f"{display_path(file.target)}"
        )
    write_record(content, record)
    _follow_in_index(content, moved)
    return done


def _move_unit(plan: Plan) -> None:
    """Write the edited post at its new place, then remove the old: a moment with both
    (a crash then leaves a copy, whose clash the build names), never one with neither."""
    source, target = plan.unit, plan.target
    try:
        if source.file.read_bytes() != plan.original:  # (an editor saved it meanwhile)
            raise BroadsheetError(
                "changed while it was being moved (saved in an editor?): left where it is, "
                "with the change",
                source.file,
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        mode = os.stat(source.file).st_mode & 0o7777
        if source.bundle:
            os.rename(source.path, target)  # a folder: renamed whole, then its index edited
            replace_whole(target / BUNDLE_INDEX, plan.text.encode("utf-8"), mode, ".mv-")
        else:  # never over a file that appeared meanwhile; in place when it is this (case)
            replace_whole(target, plan.text.encode("utf-8"), mode, ".mv-", exclusive=True)
            if target != source.path:
                os.unlink(source.path)
    except OSError as exc:
        raise BroadsheetError(f"cannot move: {exc.strerror or exc}", source.path) from exc


def _follow_in_index(content: Path, moved: dict[str, str]) -> None:
    """Point the importer's index at the moved files, so that a later import updates
    (or keeps) them where they are now instead of writing them again."""
    stories, problem = load_index(content)
    if problem is not None or not stories:
        return  # none, or damaged: the next import rebuilds it from the posts
    changed = False
    for story in stories:
        if story.path in moved:
            story.path, changed = moved[story.path], True
    if changed:
        replace_whole(content / INDEX_NAME, index_bytes(stories), user_mode(), ".mv-")


def retire(config: SiteConfig, urls: list[str]) -> list[str]:
    """Mark published URLs as gone on purpose: builds no longer require them."""
    content = config.path(config.content_dir)
    if not content.is_dir():
        raise BroadsheetError("the content folder does not exist: is this a project?", content)
    with content_lock(content, shared=False):
        record: Record = read_record(content)
        holders = _holders(config, content)
        done, errors = [], []
        for given in urls:
            try:
                bare = not given.startswith("/") and ":" not in given  # asia/slug/
                url = parse_alias(f"/{given}" if bare else given)
            except ValueError as exc:
                errors.append(BroadsheetError(f"{given}: {exc}"))
                continue
            holder = holders.get(url)
            if holder is not None:
                errors.append(BroadsheetError(_still(url, holder), holder.path))
                continue
            if not record.retire(url):
                message = f"/{url} is not a published URL in the record"
                errors.append(BroadsheetError(message, record_path(content)))
                continue
            done.append(f"retired /{url}: builds no longer require it (readers get the 404 page)")
        if errors:
            raise BroadsheetErrors(errors)
        write_record(content, record)
    return done


def _holders(config: SiteConfig, content: Path) -> dict[str, Post]:
    """The post that answers each URL, as its page or an alias: every post but drafts
    (published, or due to be: a build would publish it again). None when the archive
    cannot be read (the build says why)."""
    try:
        posts = load_posts(content, config.zone)
    except BroadsheetError:
        return {}
    found = {alias: p for p in posts if not p.draft for alias in p.aliases}
    return found | {p.url_path: p for p in posts if not p.draft}


def _still(url: str, post: Post) -> str:
    if post.url_path == url:
        return (
            f"/{url} is still this article's URL: delete it, or move it with "
            '"broadsheet mv", then retire the URL'
        )
    return f"/{url} is still one of this article's aliases: take it out, then retire the URL"
