"""What templates receive: site-wide globals and each page's own context."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict
from urllib.parse import quote, urljoin

import orjson
from jinja2 import Environment, pass_context
from markupsafe import Markup

from broadsheet.content.post import Post
from broadsheet.content.visibility import status
from broadsheet.outputs.feeds import entry_updated
from broadsheet.outputs.listings import MONTHS
from broadsheet.outputs.page import Page
from broadsheet.outputs.site import Site
from broadsheet.publish.media import Featured, Media
from broadsheet.render.markdown import RenderedBody, render_markdown
from broadsheet.render.pictures import ARTICLE_SIZES, CARD_SIZES, picture_html
from broadsheet.render.templates import render_template


class SiteInfo(TypedDict):
    title: str
    description: str
    language: str
    base_url: str
    base_path: str


# Helpers templates also get as filters ("{{ post.url_path|url }}"): Jinja calls a
# filter directly, but a function through its context's call(), which costs a page
# (thirty links or so) about a third of its rendering time.
FILTERS = (
    "url",
    "absolute_url",
    "format_date",
    "iso_date",
    "section_name",
    "tag_path",
    "author_path",
    "describe",
    "badge",
)


def use_site(
    env: Environment, site: Site, bodies: BodyCache | None = None, media: Media | None = None
) -> None:
    """Give `env` the site's helpers: as globals, and those in FILTERS as filters too."""
    helpers = template_globals(site, bodies, media)
    env.globals.update(helpers)
    env.filters.update({name: _per_build(helpers[name]) for name in FILTERS})
    card = env.globals["card"] = Cards(env)
    env.filters["card"] = _per_build(card)


def _per_build(helper: Callable[..., Any]) -> Callable[..., Any]:
    """`helper` as a filter that Jinja calls as each page renders. Jinja works out a plain
    filter of a constant ({{ 'css/site.css'|url }}) when it compiles the template, and
    compiled templates are kept from build to build: a link would keep the base URL of
    the build that compiled it. A filter that takes the context is never worked out
    early; the context is not needed."""

    @pass_context
    def per_build(context: Any, value: Any, *args: Any) -> Any:
        return helper(value, *args)

    return per_build


def template_globals(
    site: Site, bodies: BodyCache | None = None, media: Media | None = None
) -> dict[str, Any]:
    config = site.config
    base_path = config.base_path
    names = {section.slug: section.name for section in site.sections}

    def url(path: str = "") -> str:
        """A site-internal link, under the base path ("/archive/asia/")."""
        return site_url(base_path, path)

    def absolute_url(path: str = "") -> str:
        return urljoin(config.base_url, url(path))

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
        "render_body": body_renderer(base_path, _feed_posts(site), _pruned(bodies, site), media),
        **image_helpers(media),
        "entry_updated": entry_updated,
        "section_name": lambda slug: names.get(slug, slug),
        "badge": lambda post: _badge(post, site.now),
        "author_path": lambda post: f"authors/{_slug(post.author)}/",
        "tag_path": lambda tag: f"tags/{_slug(tag)}/",
    }


# What quote() below leaves as it is: a path made only of these needs no quoting (most
# do, and pages link to thirty or so each).
_NEEDS_NO_QUOTING = re.compile(r"[A-Za-z0-9_.~/#?=&%-]*")


def site_url(base_path: str, path: str) -> str:
    """`path` under `base_path`, percent-encoded where it needs to be."""
    path = path.lstrip("/")
    if _NEEDS_NO_QUOTING.fullmatch(path):
        return base_path + path
    return base_path + quote(path, safe="/#?=&%")


# Characters of listing cards a process keeps: 10,000 articles' cards take about 16 MB,
# and at 100,000 keeping them all would add 160 MB to each rendering process.
CARDS_KEPT = 24_000_000


class Cards:
    """Each article's listing card (templates/_card.html), rendered once and reused
    while it is among the cards last used that add up to `kept` characters.

    A template reaches it as the `card` global: what it holds is private (a name with
    an underscore, which the signatures take as showing anything: see
    broadsheet.publish.signatures), since through it a template could reach the
    environment (and render any template, or read any attribute) or tell how many
    cards this process has made."""

    def __init__(self, env: Environment, kept: int = CARDS_KEPT):
        self._env, self._kept = env, kept
        self._cards: dict[Path, Markup] = {}  # least recently used first
        self._held = 0

    def __call__(self, post: Post) -> Markup:
        cards = self._cards
        found = cards.pop(post.path, None)
        if found is None:
            found = Markup(render_template(self._env, "_card.html", {"post": post}))
            self._held += len(found)
            while self._held > self._kept and cards:
                self._held -= len(cards.pop(next(iter(cards))))
        cards[post.path] = found
        return found

    def _count(self) -> int:
        """How many cards are kept (private: a template must not tell)."""
        return len(self._cards)

    def forget(self) -> None:
        """Let the cards go: for a process that renders no more listings."""
        self._cards, self._held = {}, 0


def _pruned(bodies: BodyCache | None, site: Site) -> BodyCache | None:
    if bodies is None:
        return None
    wanted = {post.digest + post.media for post in site.posts}
    for key in [key for key in bodies if key[0] not in wanted]:
        del bodies[key]
    return bodies


def _feed_posts(site: Site) -> set[Path]:
    return {path for page in site.pages if page.template == "feed.xml" for path in page.sources}


def page_context(
    site: Site,
    page: Page,
    body: RenderedBody | None,
    featured: Callable[[Post], Featured | None] | None = None,
) -> dict[str, Any]:
    context = dict(page.context)
    context["page_path"] = page.url_path
    context["is_article"] = page.post is not None
    if page.post is not None and body is not None:
        context["post"] = page.post
        context["body"] = body
        context["description"] = describe(page.post)
        image = featured(page.post) if featured is not None else None
        context["json_ld"] = json_ld(site, page.post, context["description"], image)
    else:
        context.setdefault("description", site.config.description)
    return context


# (post digest and media hash, base path) -> body
BodyCache = dict[tuple[str, str], RenderedBody]


def body_renderer(
    base_path: str, keep: set[Path], cache: BodyCache | None = None, media: Media | None = None
) -> Callable[[Post], RenderedBody]:
    """Render article bodies, keeping the ones that feeds show again (and only those).

    A `cache` that outlives one build (the dev server's) is pruned to those posts, so it
    never holds more than the feeds' entries.
    """
    kept: BodyCache = cache if cache is not None else {}

    def render_body(post: Post) -> RenderedBody:
        key = (post.digest + post.media, base_path)
        found = kept.get(key)
        if found is not None:
            return found
        pictures = media.pictures_for(post) if media is not None and post.media else None
        body = render_markdown(post.body, base_path, pictures)
        if post.path in keep:
            kept[key] = body
        return body

    return render_body


def image_helpers(media: Media | None) -> dict[str, Any]:
    """`featured(post)`: its featured image (None without one); `lead_image(post)` and
    `card_image(post)`: the picture that leads its article, or marks its listing card."""

    def featured(post: Post) -> Featured | None:
        return media.featured(post) if media is not None and post.media else None

    def lead_image(post: Post) -> Markup:
        found = featured(post)
        if found is None:
            return Markup("")
        html = picture_html(found.shown, found.alt, ARTICLE_SIZES, lead=True)
        return Markup(html)

    def card_image(post: Post) -> Markup:
        found = featured(post)
        if found is None:
            return Markup("")
        return Markup(picture_html(found.shown, found.alt, CARD_SIZES, css_class="card-image"))

    return {"featured": featured, "lead_image": lead_image, "card_image": card_image}


def describe(post: Post) -> str:
    """The summary, or the start of the first paragraph: for meta tags and listings."""
    return post.summary or post.excerpt or post.title


def json_ld(site: Site, post: Post, description: str, image: Featured | None = None) -> str:
    """schema.org NewsArticle, safe to put inside a <script> element."""
    config = site.config
    url = urljoin(config.base_url, site_url(config.base_path, post.url_path))
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": post.title,
        "description": description,
        "mainEntityOfPage": url,
        "url": url,
        "articleSection": config.section_name(post.section_slug, post.section),
        "inLanguage": config.language,
        "wordCount": post.word_count,
        "publisher": {"@type": "Organization", "name": config.title, "url": config.base_url},
    }
    if post.date is not None:
        data["datePublished"] = iso_date(post.date, post.has_time)
    if post.updated is not None:
        data["dateModified"] = iso_date(post.updated)
    if post.author:
        data["author"] = {"@type": "Person", "name": post.author}
    else:
        data["author"] = {"@type": "Organization", "name": config.title}
    if post.tags:
        data["keywords"] = list(post.tags)
    if image is not None:  # Google asks for 16:9, 4:3 and 1:1, at least 1,200 px wide
        data["image"] = list(image.crops or (image.url,))
    # orjson: json.dumps with an indent is pure Python, 30 times as slow on every article
    text = orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _badge(post: Post, now: datetime | None) -> str:
    """ "Draft" or "Scheduled" for posts a normal build leaves out (shown by serve)."""
    return status(post, now or datetime.max.replace(tzinfo=UTC)).capitalize()


def _slug(text: str) -> str:
    from broadsheet.slugs import slugify

    return slugify(text)


def format_date(moment: datetime | None) -> str:
    if moment is None:
        return "Undated"
    return f"{MONTHS[moment.month - 1]} {moment.day}, {moment.year}"  # strftime is slower


def iso_date(moment: datetime, with_time: bool = True) -> str:
    return moment.isoformat() if with_time else moment.date().isoformat()
