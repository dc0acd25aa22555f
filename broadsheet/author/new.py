"""`broadsheet new`: scaffold an article with its front matter filled in."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import frontmatter

from broadsheet.config import SiteConfig
from broadsheet.errors import BroadsheetError
from broadsheet.slugs import slugify

BODY = """\
Write the opening paragraph here: who, what, where and when, in two or three sentences.

## A subheading

The story continues. Link to another article by its address, such as
[an earlier report](/{section}/), and it will work wherever the site is served.
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
) -> Path:
    """Write content/<section>/<slug>.md as a draft dated now; refuse to overwrite."""
    title = title.strip()
    if not title:
        raise BroadsheetError("the headline is empty")
    slug_of_section = slugify(section, fallback="")
    known = known_sections(config)
    if slug_of_section not in known:
        listed = ", ".join(known) if known else "none yet"
        raise BroadsheetError(f"unknown section '{section}'; known sections: {listed}")
    path = config.path(config.content_dir) / slug_of_section / f"{slugify(title)}.md"
    if path.exists():
        raise BroadsheetError("already exists; edit it, or choose another headline", path)
    moment = (now or datetime.now(config.zone)).astimezone(config.zone)
    meta: dict[str, object] = {
        "title": title,
        "date": moment.strftime("%Y-%m-%d %H:%M"),
        "draft": True,
    }
    if author:
        meta["author"] = author.strip()
    if tags:
        meta["tags"] = list(tags)
    post = frontmatter.Post(BODY.format(section=slug_of_section))
    post.metadata.update(meta)
    text = frontmatter.dumps(post, sort_keys=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8", newline="\n") as handle:
            handle.write(text + "\n")
    except FileExistsError as exc:
        raise BroadsheetError("already exists; edit it, or choose another headline", path) from exc
    except OSError as exc:
        raise BroadsheetError(f"cannot write: {exc.strerror or exc}", path) from exc
    return path
