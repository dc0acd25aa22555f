"""What templates receive: site-wide globals and each page's own context."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict
from urllib.parse import quote, urljoin

from broadsheet.content.post import Post
from broadsheet.outputs.site import Page, Site
from broadsheet.render.markdown import RenderedBody, excerpt

DESCRIPTION_LENGTH = 160


class SiteInfo(TypedDict):
    title: str
    description: str
    language: str
    base_url: str
    base_path: str


def template_globals(site: Site) -> dict[str, Any]:
    config = site.config
    base_path = config.base_path

    def url(path: str = "") -> str:
        """A site-internal link, under the base path ("/archive/asia/")."""
        return base_path + quote(path.lstrip("/"), safe="/#?=&%")

    def absolute_url(path: str = "") -> str:
        return urljoin(config.base_url, url(path))

    names = {section.slug: section.name for section in site.sections}
    info: SiteInfo = {
        "title": config.title,
        "description": config.description,
        "language": config.language,
        "base_url": config.base_url,
        "base_path": base_path,
    }
    return {
        "site": info,
        "sections": site.sections,
        "url": url,
        "absolute_url": absolute_url,
        "format_date": format_date,
        "iso_date": iso_date,
        "describe": describe,
        "section_name": lambda slug: names.get(slug, slug),
    }


def page_context(site: Site, page: Page, body: RenderedBody | None) -> dict[str, Any]:
    context = dict(page.context)
    context["page_path"] = page.path.removesuffix("index.html")
    if page.post is not None and body is not None:
        context["post"] = page.post
        context["body"] = body
        context["description"] = describe(page.post)
    else:
        context.setdefault("description", site.config.description)
    return context


def describe(post: Post) -> str:
    """The summary, or the start of the first paragraph: for meta tags and listings."""
    return post.summary or excerpt(post.body, DESCRIPTION_LENGTH) or post.title


def format_date(moment: datetime | None) -> str:
    if moment is None:
        return "Undated"
    return f"{moment:%B} {moment.day}, {moment:%Y}"


def iso_date(moment: datetime, with_time: bool = True) -> str:
    return moment.isoformat() if with_time else moment.date().isoformat()
