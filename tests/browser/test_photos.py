"""An article with photographs under /archive/, in Chromium: every image loads, nothing
scrolls sideways on a phone, axe and the Nu checker find nothing, and the page does not
move as its photos arrive (Lighthouse's cumulative layout shift is 0)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from broadsheet.config import load_config
from broadsheet.publish.pipeline import build
from tests.conftest import PYPROJECT, lay_out
from tests.images.makers import jpeg, photo
from tests.photos import png_bytes
from tests.serving import serve
from tests.tools import ARTIFACTS, assert_valid, axe_js, run_lighthouse

ARTICLE = "asia/boats/"
SETTINGS = (
    PYPROJECT.replace(
        'base_url = "https://example.test/"', 'base_url = "https://example.github.io/archive/"'
    )
    + "\n[tool.broadsheet.images]\nwidths = [320, 640]\n"
)
TEXT = (
    "The fleet stayed in port for a third day as the storm passed over the coast, and the "
    "harbour master kept the channel closed until the swell fell.\n\n"
)


def _project(root: Path) -> Path:
    lay_out(root, SETTINGS)
    bundle = root / "content/asia/boats"
    bundle.mkdir(parents=True)
    (bundle / "harbour.jpg").write_bytes(jpeg(photo(960, 540, 1)))
    (bundle / "quay.jpg").write_bytes(jpeg(photo(480, 640, 2)))  # a tall one
    (bundle / "nets.png").write_bytes(png_bytes(300, 200))
    (bundle / "report.pdf").write_bytes(b"%PDF-1.4\n")
    (bundle / "index.md").write_text(
        "---\ntitle: Boats wait out the storm\ndate: 2025-02-01\nauthor: Jane Roe\n"
        "image: harbour.jpg\nimage_alt: Fishing boats moored in a grey harbour\n"
        "image_caption: The harbour at dawn.\nimage_credit: Ana Ruiz\n---\n\n"
        + TEXT * 3
        + '![Nets drying on the quay](nets.png "Nets dried on the quay.")\n\n'
        + TEXT * 4
        + "A narrow photo within the text: ![The quay wall](quay.jpg) as it stood.\n\n"
        + TEXT * 3
        + "The [harbour master's report](report.pdf) has the figures.\n",
        encoding="utf-8",
    )
    other = root / "content/asia/calm.md"
    other.write_text("---\ntitle: Calm returns\ndate: 2025-02-03\n---\n\n" + TEXT)
    build(load_config(root), output=root / "site")
    return root / "site"


@pytest.fixture(scope="module")
def pictured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    site = _project(tmp_path_factory.mktemp("photos") / "project")
    with serve(site, "/archive/") as base:
        yield site, base


def _scrolled_through(page: Any) -> None:
    """Scroll to the end and back, so that every lazy image is asked for, then wait."""
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_timeout(200)
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_function("[...document.images].every(i => i.complete)")


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("path", ["", ARTICLE])
def test_every_photo_loads_and_nothing_scrolls_sideways(
    browser: Any, pictured: tuple[Path, str], path: str, width: int
) -> None:
    _, base = pictured
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} ({r.failure})"))
    page.goto(base + path)
    _scrolled_through(page)
    images = page.evaluate(
        """() => [...document.images].map(i => ({src: i.currentSrc, natural: i.naturalWidth,
            shown: i.getBoundingClientRect().width}))"""
    )
    assert images and all(i["natural"] > 0 for i in images), images
    assert all(i["src"].startswith(base + "media/") for i in images), images
    if path == ARTICLE:
        assert len(images) == 3
        assert any(i["src"].endswith(".avif") for i in images)  # Chromium takes AVIF
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{path or 'index'} scrolls sideways by {overflow}px at {width}px"
    # What went wrong while the page was read; not a request the full-page screenshot
    # (which resizes the viewport, so a picture may pick another size) starts and the
    # context's closing aborts (net::ERR_ABORTED: it failed one run that way).
    seen = list(problems)
    ARTIFACTS.joinpath("screenshots").mkdir(parents=True, exist_ok=True)
    name = f"photos-{'article' if path else 'index'}-{width}.png"
    page.screenshot(path=str(ARTIFACTS / "screenshots" / name), full_page=True)
    context.close()
    assert seen == []


@pytest.mark.parametrize("path", ["", ARTICLE])
def test_photos_add_no_accessibility_violation(
    page: Any, pictured: tuple[Path, str], path: str
) -> None:
    page.goto(pictured[1] + path)
    _scrolled_through(page)
    page.add_script_tag(path=str(axe_js()))
    result = page.evaluate(
        """() => axe.run(document, {runOnly: {type: 'tag', values:
            ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"""
    )
    assert result["violations"] == [], json.dumps(result["violations"], indent=1)[:3000]


def test_pages_with_photos_are_valid_html(pictured: tuple[Path, str]) -> None:
    site = pictured[0]
    pages = [
        str(site / ARTICLE / "index.html"),
        str(site / "index.html"),
        str(site / "asia/index.html"),
    ]
    assert_valid(pages)


def test_the_article_does_not_shift_as_its_photos_load(pictured: tuple[Path, str]) -> None:
    report = run_lighthouse(
        pictured[1] + ARTICLE, "photos-article", "--only-categories=performance"
    )
    audits = report["audits"]
    assert audits["cumulative-layout-shift"]["numericValue"] == 0
    assert audits["unsized-images"]["score"] == 1  # every image has its width and height
