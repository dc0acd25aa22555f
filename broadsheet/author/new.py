"""`broadsheet new`: scaffold an article with its front matter filled in."""

from __future__ import annotations

import contextlib
import difflib
import os
import tomllib
from datetime import datetime
from pathlib import Path

import frontmatter

from broadsheet.config import SiteConfig
from broadsheet.errors import BroadsheetError, display_path
from broadsheet.files import replace_whole, rewrite_whole, user_mode
from broadsheet.slugs import RESERVED_SECTIONS, slugify

BODY = """\
Write the opening paragraph here: who, what, where and when, in two or three sentences.

## A subheading

The story continues. Link to any page of the site by its address, such as
[the front page](/), and it will work wherever the site is served.
"""


BUNDLE_BODY = """
Put photos beside this file and show one by its name, with a description for readers
who cannot see it and, if you like, a caption, as in
`![Fishing boats in the harbour](boats.jpg "Boats waited out the storm.")`.
To lead the article with a photo, add `image: boats.jpg` and `image_alt:` (and
`image_caption:`, `image_credit:`) to the front matter.
"""


def known_sections(config: SiteConfig) -> list[str]:
    """Sections from the settings, then any other section folder in content/."""
    names = [s.slug for s in config.sections]
    content = config.path(config.content_dir)
    if content.is_dir():
        names += sorted(
            p.name
            for p in content.iterdir()
            if p.is_dir() and not p.name.startswith(".") and p.name not in names
        )
    return names


def new_post(
    config: SiteConfig,
    title: str,
    section: str,
    *,
    author: str | None = None,
    tags: tuple[str, ...] = (),
    now: datetime | None = None,
    new_section: bool = False,
    bundle: bool = False,
) -> Path:
    """Write content/<section>/<slug>.md as a draft dated now; refuse to overwrite. A
    `bundle` is content/<section>/<slug>/index.md, in a folder for its photos and files.

    A section that is not known yet is started when the site has none, or when
    `new_section` asks; otherwise it is an error that says how (and names a known
    section it may be a typo of)."""
    title = title.strip()
    if not title:
        raise BroadsheetError("the headline is empty")
    slug_of_section = _section_slug(section)
    known = known_sections(config)
    starting = slug_of_section not in known
    if starting and known and not new_section:
        raise BroadsheetError(_unknown(section, slug_of_section, known))
    content = config.path(config.content_dir)
    folder = content / slug_of_section
    slug = slugify(title)
    path = folder / slug / "index.md" if bundle else folder / f"{slug}.md"
    for taken in (folder / f"{slug}.md", folder / slug / "index.md"):  # either is the article
        if os.path.lexists(taken):
            raise BroadsheetError("already exists; edit it, or choose another headline", taken)
    if content.is_dir():  # another post's slug: or alias: may answer that URL already
        from broadsheet.ingest.index import answering

        holder = answering(content).get(f"{slug_of_section}/{slug}/")
        if holder is not None:
            raise BroadsheetError(
                f"/{slug_of_section}/{slug}/ is already the URL or an alias of "
                f"{display_path(content / holder)}; choose another headline"
            )
    moment = (now or datetime.now(config.zone)).astimezone(config.zone)
    meta: dict[str, object] = {
        "title": title,
        "date": moment.strftime("%Y-%m-%d %H:%M"),
        "draft": True,
    }
    if author and author.strip():
        meta["author"] = author.strip()
    if tags:
        meta["tags"] = list(tags)
    body = BODY + (BUNDLE_BODY if bundle else "")
    post = frontmatter.Post(body)
    post.metadata.update(meta)
    text = frontmatter.dumps(post, sort_keys=False)
    # All or nothing: a post that cannot be written (a full disk) leaves no empty file,
    # no folder it made and no section it started.
    settings = config.root / "pyproject.toml"
    original = settings.read_bytes() if starting and settings.is_file() else None
    made = [f for f in (content / slug_of_section, path.parent) if not os.path.lexists(f)]
    if starting:
        start_section(config, slug_of_section)
    _make_folder(path.parent)
    try:
        data = (text + "\n").encode("utf-8")
        replace_whole(path, data, user_mode(), prefix=".new-", exclusive=True)
    except OSError as exc:
        with contextlib.suppress(OSError):
            if original is not None and settings.read_bytes() != original:
                rewrite_whole(settings, original)
            for folder in reversed(made):
                if os.path.isdir(folder) and not any(folder.iterdir()):
                    folder.rmdir()
        if isinstance(exc, FileExistsError):
            message = "already exists; edit it, or choose another headline"
            raise BroadsheetError(message, path) from exc
        raise BroadsheetError(f"cannot write: {exc.strerror or exc}", path) from exc
    return path


def _section_slug(section: str) -> str:
    """`section` itself, when it can be a section's folder: a slug (its URL) that is not
    one of the site's own pages; otherwise an error that says why, before anything is
    written."""
    slug = slugify(section, fallback="")
    if not section.strip():
        raise BroadsheetError("the section is empty: give its folder's name, such as asia")
    if section in RESERVED_SECTIONS:
        raise BroadsheetError(
            f"'{section}' cannot be a section: its URL /{section}/ belongs to "
            f"{RESERVED_SECTIONS[section]}; choose another name"
        )
    if slug != section:
        hint = f"; did you mean '{slug}'?" if slug and slug not in RESERVED_SECTIONS else ""
        raise BroadsheetError(
            f"'{section}' cannot be a section: a section's folder name is its URL, "
            f"and must be a slug (lower-case words joined by hyphens){hint}"
        )
    return slug


def _unknown(section: str, slug: str, known: list[str]) -> str:
    close = difflib.get_close_matches(slug, known, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return (
        f"unknown section '{section}'{hint}; known sections: {', '.join(known)}. "
        f"To start the section '{slug}', run this again with --new-section"
    )


def _make_folder(folder: Path) -> None:
    """Make `folder` (and those above it) for a new post; an error that names it if it
    cannot be made (a file in its way, no permission)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        in_way = isinstance(exc, FileExistsError)
        reason = "a file is in the way" if in_way else exc.strerror or str(exc)
        raise BroadsheetError(f"cannot make the folder: {reason}", folder) from exc


def start_section(config: SiteConfig, slug: str) -> None:
    """Make content/<slug>/ and, when pyproject.toml lists the sections, list it there
    too (named after its slug), where it can be renamed. The folder first: if it cannot
    be made, the settings are left as they were (and it is removed again if the
    settings cannot be written)."""
    folder = config.path(config.content_dir) / slug
    made = not os.path.lexists(folder)
    _make_folder(folder)
    if config.sections:
        try:
            _add_to_settings(config.root / "pyproject.toml", slug)
        except BroadsheetError:
            if made:
                with contextlib.suppress(OSError):
                    folder.rmdir()
            raise


def _add_to_settings(pyproject: Path, slug: str) -> None:
    """Add `slug = "Name"` at the end of the [tool.broadsheet.sections] table, if the
    file has one written as a table and the result reads back as exactly that."""
    name = slug.replace("-", " ").title()
    how = f'add {slug} = "{name}" under [tool.broadsheet.sections] yourself'
    try:
        text = pyproject.read_text(encoding="utf-8")
        expected = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise BroadsheetError(f"cannot add the section: {exc}; {how}", pyproject) from exc
    lines = text.splitlines(keepends=True)
    header = next((i for i, line in enumerate(lines) if _is_sections_header(line)), None)
    if header is None:
        raise BroadsheetError(f"cannot add the section (not a table here); {how}", pyproject)
    end = header + 1
    while end < len(lines) and not lines[end].lstrip().startswith("["):
        end += 1
    while end > header + 1 and not lines[end - 1].strip():
        end -= 1  # after the table's last setting, before its blank lines
    entry = f'{slug} = "{name}"\n'
    if not lines[end - 1].endswith("\n"):
        entry = "\n" + entry
    edited = "".join([*lines[:end], entry, *lines[end:]])
    expected["tool"]["broadsheet"]["sections"][slug] = name
    try:
        same = tomllib.loads(edited) == expected
    except tomllib.TOMLDecodeError:
        same = False
    if not same:
        raise BroadsheetError(f"cannot add the section safely; {how}", pyproject)
    try:  # whole or not at all, with its owner and mode (never cut short by a full disk)
        rewrite_whole(pyproject, edited.encode("utf-8"))
    except OSError as exc:
        raise BroadsheetError(f"cannot write: {exc.strerror or exc}; {how}", pyproject) from exc


def _is_sections_header(line: str) -> bool:
    return line.split("#")[0].strip().replace(" ", "") == "[tool.broadsheet.sections]"
