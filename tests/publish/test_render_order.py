"""The order a render takes its pages in: the site-wide files first, the articles last,
and the listing cards let go before the articles, where nothing shows them. A process's
heap only grows, so the order of its tasks decides its peak memory (at 10,000 articles a
render process peaked at 123.7 MB in plan order, 116.8 MB in this one). The site is the
same."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.sitecheck import tree_bytes

SITE_WIDE = ("feed.xml", "sitemap.xml", "news-sitemap.xml")


def rendering(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool, int]]:
    """Each page as it renders: its path, whether it is an article, and how many cards
    its process holds then."""
    import broadsheet.publish.render as render_module

    seen: list[tuple[str, bool, int]] = []
    plain_context, plain_render = render_module.page_context, render_module.render_template

    def context(site: Any, page: Any, *args: Any) -> dict[str, Any]:
        seen.append((page.path, page.post is not None, -1))
        return plain_context(site, page, *args)

    def render(env: Any, name: str, values: dict[str, Any], path: str = "") -> str:
        page, article, _ = seen[-1]
        seen[-1] = (page, article, env.globals["card"]._count())
        return plain_render(env, name, values, path)

    monkeypatch.setattr(render_module, "page_context", context)
    monkeypatch.setattr(render_module, "render_template", render)
    return seen


def build_into(project: Path, name: str) -> dict[str, bytes]:
    from broadsheet.config import load_config
    from broadsheet.publish.pipeline import build

    build(load_config(project), output=project / name, use_cache=False, jobs=1)
    return tree_bytes(project / name)


def test_the_site_wide_files_render_first_and_the_articles_last_without_cards(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import broadsheet.publish.render as render_module

    seen = rendering(monkeypatch)
    ordered = build_into(corpus, "ordered")
    paths = [path for path, _, _ in seen]
    articles = [n for n, (_, article, _) in enumerate(seen) if article]
    assert len(articles) == 40
    wide = [n for n, path in enumerate(paths) if path.endswith(SITE_WIDE)]
    assert len(wide) == 9  # (the feed, six sections' feeds, the sitemap, the news one)
    listings = [n for n in range(len(seen)) if n not in articles and n not in wide]
    assert max(wide) < min(listings) and max(listings) < min(articles), paths
    assert seen[max(listings)][2] > 0  # cards were kept for the listings,
    assert all(seen[n][2] == 0 for n in articles)  # and let go before the articles
    # In plan order, cards kept: the same site.
    monkeypatch.setattr(
        render_module,
        "_tasks",
        lambda site, indices, cold: [(None, chunk) for chunk in render_module._chunks(indices)],
    )
    monkeypatch.setattr(render_module, "_forget_cards", lambda env, signer, pages: None)
    assert build_into(corpus, "plan-order") == ordered


def test_articles_that_show_cards_keep_them(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    article = corpus / "templates" / "article.html"
    source = article.read_text(encoding="utf-8")
    end = source.rindex("{% endblock %}")
    article.write_text(source[:end] + "{{ post|card }}\n" + source[end:], encoding="utf-8")
    seen = rendering(monkeypatch)
    site = build_into(corpus, "site")
    held = [cards for _, article, cards in seen if article]
    assert len(held) == 40 and all(held)  # (none let go while articles show them)
    pages = [site[path] for path, article, _ in seen if article]
    assert all(b'class="article-item-title"' in page for page in pages)
