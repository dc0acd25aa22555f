"""Photographs in the built site: a bundle's article under /archive/ as readers, sharing
sites, search engines and feed readers get it; the errors an author can make."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
from PIL import Image
from selectolax.lexbor import LexborHTMLParser

from broadsheet.config import load_config
from broadsheet.publish.pipeline import build
from tests.conftest import run, write_post
from tests.photos import SECRET, photo_bytes, photo_project, png_bytes
from tests.sitecheck import broken_links, tree_bytes

HOST = "https://example.test"


def _page(site: Path, relative: str) -> LexborHTMLParser:
    return LexborHTMLParser((site / relative).read_text(encoding="utf-8"))


def _published(site: Path, url: str) -> Path:
    """The file an absolute or root-relative URL of the site names (which must exist)."""
    path = urlsplit(url).path
    assert path.startswith("/archive/media/"), url
    found = site / path.removeprefix("/archive/")
    assert found.is_file(), url
    return found


def test_a_bundle_article_shows_its_photos_under_a_sub_path(project: Path) -> None:
    photo_project(project)
    result = build(load_config(project))
    site = project / "site"
    page = _page(site, "asia/boats/index.html")
    lead = page.css_first("figure.article-lead")
    assert lead is not None
    img = lead.css_first("picture > img")
    assert img.attributes["fetchpriority"] == "high" and "loading" not in img.attributes
    assert img.attributes["alt"] == "Fishing boats moored in a grey harbour"
    assert (img.attributes["width"], img.attributes["height"]) == ("80", "60")  # widest made
    caption = lead.css_first("figcaption").text()
    assert "The harbour at dawn." in caption and "Ana Ruiz" in caption
    types = [s.attributes["type"] for s in lead.css("picture > source")]
    assert types == ["image/avif", "image/webp"]
    body = page.css_first(".article-body figure")
    assert body.css_first("figcaption").text() == "Nets dried on the quay."
    inline = body.css_first("picture > img")
    assert inline.attributes["loading"] == "lazy" and inline.attributes["decoding"] == "async"
    assert inline.attributes["alt"] == "Nets drying on the quay"
    for node in page.css("picture > img, picture > source"):
        for url in [node.attributes.get("src")] + [
            part.split()[0] for part in (node.attributes.get("srcset") or "").split(",") if part
        ]:
            if url:
                _published(site, url)
    assert not broken_links(site, "/archive/")
    assert result.images_encoded == 2


def test_a_bundle_publishes_its_files_beside_the_article_but_never_a_photo_as_it_was(
    project: Path,
) -> None:
    photo_project(project)
    build(load_config(project))
    site = project / "site"
    bundle = project / "content/asia/boats"
    assert (site / "asia/boats/report.pdf").read_bytes() == (bundle / "report.pdf").read_bytes()
    assert (site / "asia/boats/data/catch.csv").read_bytes() == (
        bundle / "data/catch.csv"
    ).read_bytes()
    files = tree_bytes(site)
    assert not any(name.endswith(("harbour.jpg", "nets.png")) for name in files)
    assert not any(SECRET in data for data in files.values())  # no GPS position leaks out
    original = (bundle / "harbour.jpg").read_bytes()
    assert original not in files.values()


def test_a_photo_in_static_is_published_without_its_gps_position(project: Path) -> None:
    """static/ is copied as it is, but for the metadata of its photos: a site-wide
    photo a post shows by its site path is published both processed and at that path."""
    photo_project(project)
    (project / "static/images").mkdir(parents=True)
    (project / "static/images/map.jpg").write_bytes(photo_bytes(60, 40, seed=3))
    (project / "static/images/logo.png").write_bytes(png_bytes())
    with (project / "content/asia/boats/index.md").open("a", encoding="utf-8") as post:
        post.write("\n![The route](/images/map.jpg)\n")
    build(load_config(project))
    site = project / "site"
    assert not any(SECRET in data for data in tree_bytes(site).values())
    copied = site / "images/map.jpg"
    with Image.open(copied) as image, Image.open(project / "static/images/map.jpg") as source:
        assert image.tobytes() == source.tobytes()  # the same pixels, losslessly
    logo = (project / "static/images/logo.png").read_bytes()
    assert (site / "images/logo.png").read_bytes() == logo  # nothing to strip: as it is


def test_the_featured_image_is_shared_with_its_size_and_alt(project: Path) -> None:
    photo_project(project)
    build(load_config(project))
    site = project / "site"
    page = _page(site, "asia/boats/index.html")
    meta = {
        (m.attributes.get("property") or m.attributes.get("name")): m.attributes["content"]
        for m in page.css("meta[content]")
    }
    assert meta["og:image"].startswith(f"{HOST}/archive/media/")
    _published(site, meta["og:image"])
    assert (meta["og:image:width"], meta["og:image:height"]) == ("80", "60")
    assert meta["og:image:alt"] == "Fishing boats moored in a grey harbour"
    assert meta["twitter:card"] == "summary_large_image"
    script = page.css_first('script[type="application/ld+json"]').text()
    images = json.loads(script)["image"]
    assert len(images) == 3 and all(url.startswith(f"{HOST}/archive/media/") for url in images)
    assert {_published(site, url).suffix for url in images} == {".jpg"}
    feed = feedparser.parse((site / "feed.xml").read_bytes())
    assert feed.bozo == 0
    (entry,) = feed.entries
    (enclosure,) = [link for link in entry.links if link.rel == "enclosure"]
    assert enclosure.href == meta["og:image"] and enclosure.type == "image/jpeg"


def test_a_listing_card_shows_a_lazy_thumbnail_and_an_article_without_one_does_not(
    project: Path,
) -> None:
    photo_project(project)
    write_post(project, "asia/plain.md", "---\ntitle: Plain\ndate: 2025-01-01\n---\n\nText.\n")
    build(load_config(project))
    cards = _page(project / "site", "index.html").css("article")
    pictured = [c for c in cards if c.css_first("img") is not None]
    assert len(cards) == 2 and len(pictured) == 1
    img = pictured[0].css_first("img")
    assert img.attributes["loading"] == "lazy" and img.attributes["width"] == "80"
    plain = _page(project / "site", "asia/plain/index.html")
    assert plain.css_first('meta[name="twitter:card"]').attributes["content"] == "summary"
    assert plain.css_first('meta[property="og:image"]') is None


def test_a_photo_beside_a_flat_post_is_published_not_silently_broken(project: Path) -> None:
    write_post(project, "asia/flat.md", "---\ntitle: Flat\n---\n\n![A photo](photo.jpg)\n")
    (project / "content/asia/photo.jpg").write_bytes(photo_bytes(64, 48))
    (project / "static/images").mkdir()
    (project / "static/images/map.png").write_bytes(png_bytes())
    write_post(project, "asia/mapped.md", "---\ntitle: Map\n---\n\n![The map](/images/map.png)\n")
    assert run(["build"]).code == 0
    site = project / "site"
    for page in ("asia/flat/index.html", "asia/mapped/index.html"):
        img = _page(site, page).css_first("figure picture img")
        assert img is not None and img.attributes["src"].startswith("/media/")
    assert not broken_links(site)


def test_every_image_problem_fails_the_build_at_once_and_keeps_the_last_site(
    project: Path,
) -> None:
    photo_project(project)
    assert run(["build"]).code == 0
    before = tree_bytes(project / "site")
    bundle = project / "content/asia/boats"
    (bundle / "index.md").write_text(
        "---\ntitle: Boats\nimage: gone.jpg\n---\n\n![](nets.png)\n\n![Truncated](bad.jpg)\n\n"
        "![Text](notes.jpg)\n",
        encoding="utf-8",
    )
    (bundle / "bad.jpg").write_bytes(photo_bytes()[:200])
    (bundle / "notes.jpg").write_bytes(b"these are notes, not a photo\n")
    result = run(["build"])
    assert result.code == 1 and "Traceback" not in result.err
    index = "content/asia/boats/index.md"
    for expected in (
        f"{index}:3: image: gone.jpg: needs image_alt",
        f"{index}:3: image: gone.jpg: there is no such file",
        f"{index}:6: image nets.png: has no alt text",
        f"{index}:8: image bad.jpg: ",
        f"{index}:10: image notes.jpg: not an image",
    ):
        assert expected in result.err, result.err
    assert tree_bytes(project / "site") == before


def test_a_draft_the_build_leaves_out_does_not_fail_it_for_a_missing_photo(project: Path) -> None:
    write_post(project, "asia/d.md", "---\ntitle: D\ndraft: true\n---\n\n![A](gone.jpg)\n")
    write_post(project, "asia/p.md", "---\ntitle: P\n---\n\nText.\n")
    assert run(["build"]).code == 0
    assert run(["build", "--drafts"]).code == 1


def test_a_bundle_file_named_like_its_page_is_an_error(project: Path) -> None:
    write_post(project, "asia/boats/index.md", "---\ntitle: B\n---\n\nText.\n")
    (project / "content/asia/boats/index.html").write_text("<p>mine</p>", encoding="utf-8")
    result = run(["build"])
    assert result.code == 1
    assert "content/asia/boats/index.html: would overwrite the page asia/boats/index.html" in (
        result.err
    )


def test_bundle_files_follow_the_article_and_go_when_it_does(project: Path) -> None:
    photo_project(project)
    config = load_config(project)
    build(config)
    site = project / "site"
    index = project / "content/asia/boats/index.md"
    index.write_text(index.read_text().replace("date:", "slug: fleet\ndate:"))
    _bump(index)
    build(config)
    assert (site / "asia/fleet/report.pdf").is_file()
    assert not (site / "asia/boats").exists()
    (project / "content/asia/boats/report.pdf").unlink()
    build(config)
    assert not (site / "asia/fleet/report.pdf").exists()
    assert tree_bytes(site) == _cold(project)


def test_nothing_is_encoded_again_after_a_text_edit_or_when_nothing_changed(
    project: Path,
) -> None:
    photo_project(project)
    config = load_config(project)
    assert build(config).images_encoded == 2
    assert build(config).images_encoded == 0
    index = project / "content/asia/boats/index.md"
    index.write_text(index.read_text().replace("third day", "fourth day"))
    _bump(index)
    assert build(config).images_encoded == 0
    assert tree_bytes(project / "site") == _cold(project)


def _bump(path: Path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))


def _cold(project: Path) -> dict[str, bytes]:
    build(load_config(project), output=project / "cold", use_cache=False, jobs=1)
    return tree_bytes(project / "cold")


def test_a_photo_named_oddly_or_twice_is_one_published_file(project: Path) -> None:
    bundle = project / "content/asia/b"
    bundle.mkdir(parents=True)
    (bundle / "photo one.png").write_bytes(png_bytes())
    (bundle / "alias.png").symlink_to("photo one.png")  # a link within the folder: followed
    (bundle / "index.md").write_text(
        "---\ntitle: B\nimage: photo one.png\nimage_alt: One\n---\n\n"
        "![Spaced](<photo one.png>) ![Encoded](photo%20one.png) ![Linked](alias.png)\n"
    )
    result = build(load_config(project))
    assert result.images_encoded == 1
    sources = {
        img.attributes["src"] for img in _page(project / "site", "asia/b/index.html").css("img")
    }
    assert len(sources) == 1


def test_a_photo_that_is_a_link_out_or_a_pipe_is_refused_naming_it_without_a_hang(
    project: Path, tmp_path: Path
) -> None:
    bundle = project / "content/asia/b"
    bundle.mkdir(parents=True)
    (tmp_path / "private.png").write_bytes(png_bytes())
    (bundle / "escape.png").symlink_to(tmp_path / "private.png")
    os.mkfifo(bundle / "pipe.png")
    (bundle / "index.md").write_text(
        "---\ntitle: B\n---\n\n![Out](escape.png)\n\n![Pipe](pipe.png)\n\n![Up](../../../x.png)\n"
    )
    for command in (["check"], ["build"]):
        result = run(command)
        output = result.out + result.err
        assert result.code == 1 and "Traceback" not in output
        assert "content/asia/b/escape.png: is a link to" in output
        assert "content/asia/b/pipe.png: is a named pipe (FIFO)" in output
    checked = run(["check"]).out
    assert (
        "content/asia/b/index.md:5: image escape.png: content/asia/b/escape.png cannot be"
        in checked
    )
    assert "content/asia/b/index.md:7: image pipe.png: content/asia/b/pipe.png cannot be" in checked
    assert "content/asia/b/index.md:9: image ../../../x.png: it leads outside content/" in checked
    assert not (project / "site").exists()


def test_photos_of_a_content_folder_outside_the_project_are_found(
    project: Path, tmp_path: Path
) -> None:
    import dataclasses

    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "asia/boats").mkdir(parents=True)
    (elsewhere / "asia/boats/index.md").write_text("---\ntitle: B\n---\n\n![Nets](nets.png)\n")
    (elsewhere / "asia/boats/nets.png").write_bytes(png_bytes())
    config = dataclasses.replace(load_config(project), content_dir=str(elsewhere))
    build(config)
    build(config)  # (incremental: its stamps are not keyed from the project)
    assert _page(project / "site", "asia/boats/index.html").css_first("figure picture img")


def test_a_photo_published_whole_is_judged_by_its_bytes_not_its_name(project: Path) -> None:
    """A JPEG with no extension in static/, or beside a bundle's article, loses its GPS
    position as a .jpg does; an AVIF or TIFF whose metadata cannot be taken out without
    encoding it again is an error naming it, never published with its position."""
    import io

    from tests.images.makers import gps_exif, jpeg, photo

    photo_project(project)
    (project / "static/images").mkdir(parents=True)
    tagged = jpeg(photo(60, 40), exif=gps_exif())
    assert SECRET in tagged
    (project / "static/images/map").write_bytes(tagged)
    (project / "content/asia/boats/original").write_bytes(tagged)
    build(load_config(project))
    site = tree_bytes(project / "site")
    assert "images/map" in site and "asia/boats/original" in site
    assert not any(SECRET in data for data in site.values())
    before = tree_bytes(project / "site")
    for name, fmt, options in (
        ("route.avif", "AVIF", {}),
        ("scan.tif", "TIFF", {}),
        ("big.tif", "TIFF", {"big_tiff": True}),  # (offsets of 8 bytes)
    ):
        buffer = io.BytesIO()
        photo(60, 40).save(buffer, fmt, exif=gps_exif(), **options)
        target = project / "static/images" / name
        target.write_bytes(buffer.getvalue())
        result = run(["build", "--quiet"])
        assert result.code == 1, result.err
        assert f"static/images/{name}: this {fmt} image holds metadata" in (result.err)
        assert tree_bytes(project / "site") == before
        photo(60, 40).save(target, fmt, **options)  # without metadata: published as it is
        assert run(["build", "--quiet"]).code == 0
        assert (project / "site/images" / name).read_bytes() == target.read_bytes()
        before = tree_bytes(project / "site")
