"""The same corpus as a Hugo site and as a Pelican site, with the simplest templates
that render the same pages: home, sections, articles with previous/next, tags, authors,
pagination, feeds."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from benchmarks.corpus import Article

HUGO_CONFIG = """\
baseURL = "https://example.org/"
locale = "en"
title = "Benchmark"
pluralizeListTitles = false
[pagination]
  pagerSize = 10
[taxonomies]
  tag = "tags"
  author = "authors"
[markup.highlight]
  noClasses = false
"""

HUGO_LAYOUTS = {
    "baseof.html": """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{{ .Title }} · {{ .Site.Title }}</title></head><body>
<header>{{ partialCached "nav.html" . }}</header><main>{{ block "main" . }}{{ end }}</main>
</body></html>""",
    "_partials/nav.html": """<nav><a href="{{ "/" | relURL }}">Latest</a>
{{ range .Site.Sections }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}</nav>""",
    "_partials/list.html": """{{ $pager := .Paginate .Pages }}<ol>
{{ range $pager.Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a>
<time>{{ .Date.Format "January 2, 2006" }}</time> {{ range .Params.authors }}{{ . }}{{ end }}
<p>{{ .Summary }}</p></li>{{ end }}</ol>
{{ with $pager.Prev }}<a href="{{ .URL }}">Newer</a>{{ end }}
{{ with $pager.Next }}<a href="{{ .URL }}">Older</a>{{ end }}""",
    "home.html": """{{ define "main" }}<h1>Latest</h1>
{{ $pager := .Paginate .Site.RegularPages }}<ol>
{{ range $pager.Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a>
<p>{{ .Summary }}</p></li>{{ end }}</ol>
{{ with $pager.Next }}<a href="{{ .URL }}">Older</a>{{ end }}{{ end }}""",
    "section.html": """{{ define "main" }}<h1>{{ .Title }}</h1>
{{ partial "list.html" . }}{{ end }}""",
    "term.html": """{{ define "main" }}<h1>{{ .Title }}</h1>
{{ partial "list.html" . }}{{ end }}""",
    "taxonomy.html": """{{ define "main" }}<h1>{{ .Title }}</h1><ul>
{{ range .Data.Terms.Alphabetical }}<li><a href="{{ .Page.RelPermalink }}">{{ .Page.Title }}</a>
{{ .Count }}</li>{{ end }}</ul>{{ end }}""",
    "page.html": """{{ define "main" }}<article><h1>{{ .Title }}</h1>
<time>{{ .Date.Format "January 2, 2006" }}</time> {{ range .Params.authors }}{{ . }}{{ end }}
{{ .Content }}</article>
{{ with .PrevInSection }}<a rel="prev" href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}
{{ with .NextInSection }}<a rel="next" href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}
{{ end }}""",
}

PELICAN_CONFIG = """\
AUTHOR = "Benchmark"
SITENAME = "Benchmark"
SITEURL = ""
PATH = "content"
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
THEME = "simple"
DEFAULT_PAGINATION = 10
ARTICLE_URL = "{category}/{slug}/"
ARTICLE_SAVE_AS = "{category}/{slug}/index.html"
FEED_ALL_ATOM = "feeds/all.atom.xml"
CATEGORY_FEED_ATOM = "feeds/{slug}.atom.xml"
LOAD_CONTENT_CACHE = False
RELATIVE_URLS = True
"""

_FRONT = re.compile(r"^---\n(.*?)\n---\n", re.S)


def _meta(article: Article) -> tuple[dict[str, str], str]:
    match = _FRONT.match(article.text)
    assert match
    meta = dict(line.split(": ", 1) for line in match.group(1).splitlines())
    return meta, article.text[match.end() :]


def _write_articles(
    root: Path, articles: list[Article], header: Callable[[Article, dict[str, str]], str]
) -> None:
    """Each article under content/<section>/, with the header this tool reads."""
    for article in articles:
        meta, body = _meta(article)
        path = root / "content" / article.section / f"{article.slug}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(header(article, meta) + body)


def _hugo_header(article: Article, meta: dict[str, str]) -> str:
    date = meta["date"].replace(" ", "T") + ":00Z"
    return (
        f'---\ntitle: "{meta["title"]}"\ndate: {date}\nauthors: ["{meta["author"]}"]\n'
        f"tags: {meta['tags']}\nslug: {article.slug}\n---\n"
    )


def _pelican_header(article: Article, meta: dict[str, str]) -> str:
    return (
        f"Title: {meta['title']}\nDate: {meta['date']}\nCategory: {article.section}\n"
        f"Author: {meta['author']}\nTags: {meta['tags'].strip('[]')}\nSlug: {article.slug}\n\n"
    )


def write_hugo(root: Path, articles: list[Article]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "hugo.toml").write_text(HUGO_CONFIG)
    for name, text in HUGO_LAYOUTS.items():
        path = root / "layouts" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    _write_articles(root, articles, _hugo_header)
    for section in {a.section for a in articles}:
        (root / "content" / section / "_index.md").write_text(f"---\ntitle: {section}\n---\n")


def write_pelican(root: Path, articles: list[Article]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pelicanconf.py").write_text(PELICAN_CONFIG)
    _write_articles(root, articles, _pelican_header)
