"""`check` and photographs: every image problem of every post at once, at its line;
bundle files are pages' neighbours, not broken links."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import run, write_post
from tests.images.makers import photo, png
from tests.photos import photo_bytes, photo_project


def test_a_project_with_photos_and_bundle_files_passes(project: Path) -> None:
    photo_project(project)
    result = run(["check"])
    assert result.code == 0, result.out + result.err


def test_check_reports_every_image_problem_of_every_post_at_its_line(project: Path) -> None:
    photo_project(project)
    write_post(
        project,
        "asia/flat.md",
        "---\ntitle: Flat\nimage: lead.jpg\nimage_alt: A lead\n---\n\n"
        "![Beside](beside.jpg)\n\n![Gone](gone.png) and ![Huge](huge.png)\n\n"
        "![Cut](cut.jpg)\n\n[A link](nowhere.pdf)\n\n![](beside.jpg)\n",
    )
    asia = project / "content/asia"
    (asia / "beside.jpg").write_bytes(photo_bytes(32, 24))
    (asia / "lead.jpg").write_bytes(b"GIF89a not really")
    (asia / "cut.jpg").write_bytes(photo_bytes()[:300])
    (asia / "huge.png").write_bytes(png(photo(200, 200)))  # over max_pixels below
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("widths =", "max_pixels = 20000\nwidths ="))
    result = run(["check"])
    assert result.code == 1
    lines = result.out.splitlines()
    expected = [
        "content/asia/flat.md:3: image: lead.jpg: ",
        "content/asia/flat.md:15: image beside.jpg: has no alt text",  # not 7, which has one
        "content/asia/flat.md:9: image gone.png: there is no such file (content/asia/gone.png)",
        "content/asia/flat.md:9: image huge.png: refused as a decompression bomb",
        "content/asia/flat.md:11: image cut.jpg: ",
        "content/asia/flat.md:13: link to nowhere.pdf: no such page or file in the site",
    ]
    for start in expected:
        assert any(line.startswith(start) for line in lines), (start, lines)
    assert len(lines) == len(expected), lines  # the bundle's own files are fine


def test_check_names_a_bundle_beside_a_flat_post_of_one_name(project: Path) -> None:
    write_post(project, "asia/boats/index.md", "---\ntitle: B\n---\n\nText.\n")
    write_post(project, "asia/boats.md", "---\ntitle: B\n---\n\nText.\n")
    result = run(["check"])
    assert result.code == 1
    assert "content/asia/boats/index.md: this bundle and content/asia/boats.md" in result.out


def test_a_photo_shown_by_raw_html_as_well_as_by_markdown_is_reported(project: Path) -> None:
    """The Markdown image becomes a picture of processed files; an <img> of raw HTML
    naming the same photo would point at a file the build never publishes."""
    photo_project(project)
    write_post(
        project,
        "asia/t/index.md",
        "---\ntitle: T\ndate: 2025-01-01\n---\n\n![A photo](photo.jpg)\n\n"
        '<img src="photo.jpg" alt="Same photo">\n\n![Again][p]\n\n[p]: photo.jpg\n',
    )
    (project / "content/asia/t/photo.jpg").write_bytes(photo_bytes(32, 24))
    result = run(["check"])
    assert result.code == 1
    assert result.out.splitlines() == [
        "content/asia/t/index.md:8: image photo.jpg in raw HTML: the article's photos are "
        "published only as the build makes them, so show it with Markdown: ![...](photo.jpg)"
    ]
