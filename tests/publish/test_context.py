"""What templates receive: links under the base path."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from broadsheet.publish.context import site_url

# Paths like real ones: mostly characters that need no quoting, with some that do.
PATHS = st.text() | st.text(st.sampled_from("az09/-_.~#?=&%" + " +:@!$'()*,;[]\"<>é\u00a0"))


@given(PATHS, st.sampled_from(["/", "/archive/"]))
def test_a_link_is_the_path_quoted_under_the_base_path(path: str, base_path: str) -> None:
    expected = base_path + quote(path.lstrip("/"), safe="/#?=&%")
    assert site_url(base_path, path) == expected


def test_links_that_need_no_quoting_and_links_that_do() -> None:
    assert site_url("/archive/", "/asia/a-story/") == "/archive/asia/a-story/"
    assert site_url("/archive/", "tags/c++/") == "/archive/tags/c%2B%2B/"
    assert site_url("/", "authors/zoë/") == "/authors/zo%C3%AB/"


def test_template_helpers_work_as_filters_and_as_functions(corpus: Path) -> None:
    from broadsheet.config import load_config
    from broadsheet.publish.assemble import load_site
    from broadsheet.publish.context import FILTERS, use_site
    from broadsheet.render.templates import make_environment

    config = dataclasses.replace(load_config(corpus), base_url="https://example.org/archive/")
    site = load_site(config, drafts=True)
    env = make_environment(config.path(config.templates_dir), {})
    use_site(env, site)
    post = site.posts[0]
    called = env.from_string(
        "{{ url(post.url_path) }} {{ absolute_url('feed.xml') }} {{ format_date(post.date) }}"
        " {{ iso_date(post.date, false) }} {{ section_name(post.section_slug) }}"
        " {{ tag_path(post.tags[0]) }} {{ author_path(post) }} {{ describe(post) }}"
    ).render(post=post)
    filtered = env.from_string(
        "{{ post.url_path|url }} {{ 'feed.xml'|absolute_url }} {{ post.date|format_date }}"
        " {{ post.date|iso_date(false) }} {{ post.section_slug|section_name }}"
        " {{ post.tags[0]|tag_path }} {{ post|author_path }} {{ post|describe }}"
    ).render(post=post)
    assert filtered == called
    assert called.startswith(f"/archive/{post.url_path} https://example.org/archive/feed.xml ")
    assert set(FILTERS) <= set(env.filters) and set(FILTERS) <= set(env.globals)


def test_cards_are_reused_while_among_the_last_used_up_to_the_limit(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from broadsheet.config import load_config
    from broadsheet.publish import context
    from broadsheet.publish.assemble import load_site
    from broadsheet.render.templates import make_environment

    config = load_config(corpus)
    site = load_site(config, drafts=False)
    env = make_environment(config.path(config.templates_dir), {})
    context.use_site(env, site)
    a, b, c = site.posts[:3]
    fresh = {p.path: context.Cards(env)(p) for p in (a, b, c)}
    rendered: list[Path] = []
    render = context.render_template

    def counting(env: Any, name: str, values: dict[str, Any]) -> str:
        rendered.append(values["post"].path)
        return render(env, name, values)

    monkeypatch.setattr(context, "render_template", counting)
    card = context.Cards(env, kept=sum(map(len, fresh.values())) - 1)  # two of three
    shown = [card(p) for p in (a, b, a, c, a, b)]
    # c pushes out b, the least recently used; a stays, and b is made again, the same.
    assert rendered == [a.path, b.path, c.path, b.path]
    assert shown == [fresh[p.path] for p in (a, b, a, c, a, b)]
