"""Imports and page bundles: an article is a file or a bundle, never both."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import SEEDS, run
from tests.photos import png_bytes


def test_a_new_article_never_takes_the_slug_of_a_bundle(project: Path) -> None:
    assert run(["import", str(SEEDS[0])]).code == 0
    content = project / "content"
    slug = sorted((content / "asia").glob("*.md"))[0].stem
    shutil.rmtree(content)
    bundle = content / "asia" / slug
    bundle.mkdir(parents=True)
    (bundle / "index.md").write_text("---\ntitle: Written by hand\n---\n\nMine.\n")
    result = run(["import", str(SEEDS[0])])
    assert result.code == 0, result.err
    assert not (content / "asia" / f"{slug}.md").exists()
    assert (content / "asia" / f"{slug}-2.md").exists()
    assert run(["build"]).code == 0


@pytest.mark.parametrize("index_lost", [False, True])
def test_a_post_made_a_bundle_stays_one_article_through_imports(
    seeded: Path, index_lost: bool
) -> None:
    content = seeded / "content"
    post = sorted((content / "asia").glob("*.md"))[0]
    bundle = post.with_suffix("")
    bundle.mkdir()
    post.rename(bundle / "index.md")
    (bundle / "map.png").write_bytes(png_bytes())
    text = (bundle / "index.md").read_text()
    (bundle / "index.md").write_text(text + "\n![The map](map.png)\n")
    if index_lost:
        (content / ".broadsheet-imports.json").unlink()
    result = run(["import", *map(str, SEEDS)])
    assert result.code == 0, result.err
    assert not post.exists()  # no flat twin of the bundle
    assert "![The map](map.png)" in (bundle / "index.md").read_text()  # edited: kept
    assert run(["build"]).code == 0
