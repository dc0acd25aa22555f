"""Page bundles: content/<section>/<slug>/index.md, with its files beside it."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from broadsheet.content.bundles import Folders, attachments, resolve, uses
from broadsheet.content.loader import find_post_files, load_posts
from broadsheet.content.post import Post
from broadsheet.errors import BroadsheetErrors
from broadsheet.publish.media import FILE_SIGNATURE, split_signatures
from tests.conftest import write_post

UTC = ZoneInfo("UTC")


def _posts(project: Path) -> dict[str, Post]:
    return {post.url_path: post for post in load_posts(project / "content", UTC)}


def test_a_bundle_is_an_article_named_by_its_folder(project: Path) -> None:
    write_post(project, "asia/boats/index.md", "---\ntitle: Boats\n---\n\nText.\n")
    write_post(project, "asia/flat.md", "---\ntitle: Flat\n---\n\nText.\n")
    posts = _posts(project)
    assert sorted(posts) == ["asia/boats/", "asia/flat/"]
    assert posts["asia/boats/"].bundle and not posts["asia/flat/"].bundle
    assert posts["asia/boats/"].folder == project / "content/asia/boats"


def test_a_bundle_keeps_a_slug_of_its_own_from_front_matter(project: Path) -> None:
    write_post(project, "asia/boats/index.md", "---\ntitle: Boats\nslug: fleet\n---\n\nText.\n")
    assert list(_posts(project)) == ["asia/fleet/"]


def test_a_bundle_and_a_flat_post_of_one_name_is_an_error_naming_both(project: Path) -> None:
    write_post(project, "asia/boats/index.md", "---\ntitle: Boats\n---\n\nText.\n")
    write_post(project, "asia/boats.md", "---\ntitle: Boats too\n---\n\nText.\n")
    with pytest.raises(BroadsheetErrors) as caught:
        load_posts(project / "content", UTC)
    (error,) = caught.value.errors
    assert "content/asia/boats/index.md" in str(error)
    assert "content/asia/boats.md" in str(error) and "/asia/boats/" in str(error)


def test_a_markdown_file_too_deep_outside_a_bundle_says_where_posts_go(project: Path) -> None:
    write_post(project, "asia/folder/story.md", "---\ntitle: Lost\n---\n\nText.\n")
    with pytest.raises(BroadsheetErrors) as caught:
        load_posts(project / "content", UTC)
    assert "content/asia/my-article/index.md" in str(caught.value)


def test_a_hidden_bundle_file_is_never_a_post_nor_published(project: Path) -> None:
    write_post(project, "asia/boats/index.md", "---\ntitle: Boats\n---\n\nText.\n")
    write_post(project, "asia/boats/.secret.md", "private\n")
    names = find_post_files(project / "content")
    assert names == [str(project / "content/asia/boats/index.md")]


def _folders(project: Path) -> Folders:
    content, static = project / "content", project / "static"
    files = {str(p) for p in content.rglob("*") if p.is_file()}
    files |= {str(p) for p in static.rglob("*") if p.is_file()}
    return Folders(content, static, frozenset(files))


def test_references_resolve_against_the_bundle_the_flat_post_or_static(project: Path) -> None:
    write_post(project, "asia/boats/index.md", "---\ntitle: B\n---\n\n![A](photo.jpg)\n")
    write_post(project, "asia/flat.md", "---\ntitle: F\n---\n\n![A](beside.jpg)\n")
    for name in ("asia/boats/photo.jpg", "asia/boats/img/x.jpg", "asia/beside.jpg"):
        (project / "content" / name).parent.mkdir(exist_ok=True)
        (project / "content" / name).write_bytes(b"x")
    (project / "static/images").mkdir()
    (project / "static/images/logo.png").write_bytes(b"x")
    posts = _posts(project)
    folders = _folders(project)
    bundle, flat = posts["asia/boats/"], posts["asia/flat/"]
    assert resolve(bundle, "photo.jpg", folders) == project / "content/asia/boats/photo.jpg"
    assert resolve(bundle, "img/x.jpg", folders) == project / "content/asia/boats/img/x.jpg"
    assert (
        resolve(bundle, "./img/../photo.jpg", folders) == project / "content/asia/boats/photo.jpg"
    )
    assert resolve(flat, "beside.jpg", folders) == project / "content/asia/beside.jpg"
    assert resolve(flat, "boats/photo.jpg", folders) == project / "content/asia/boats/photo.jpg"
    assert resolve(flat, "/images/logo.png", folders) == project / "static/images/logo.png"
    assert "outside" in str(resolve(bundle, "../../../pyproject.toml", folders))
    assert "no such file" in str(resolve(bundle, "gone.jpg", folders))
    assert "no such file" in str(resolve(flat, "/images/gone.png", folders))


def test_a_featured_image_is_a_files_name_even_with_a_hash_or_a_question_mark(
    project: Path,
) -> None:
    """Front matter names a file: `image: a#b.jpg` is the file a#b.jpg, not a URL to `a`
    (written as a URL, a%23b.jpg, it is found too)."""
    for name in ("a#b.jpg", "q?x.jpg", "100%.jpg", "photo one.jpg", "photo%20two.jpg"):
        (project / "content/asia/boats").mkdir(parents=True, exist_ok=True)
        (project / "content/asia/boats" / name).write_bytes(b"x")
    folders = _folders(project)
    for written, name in (
        ("a#b.jpg", "a#b.jpg"),
        ("q?x.jpg", "q?x.jpg"),
        ("100%.jpg", "100%.jpg"),
        ("photo one.jpg", "photo one.jpg"),
        ("a%23b.jpg", "a#b.jpg"),
        ("photo%20one.jpg", "photo one.jpg"),
        ("photo%20two.jpg", "photo%20two.jpg"),
    ):
        text = f"---\ntitle: B\nimage: '{written}'\nimage_alt: A\n---\n\nText.\n"
        write_post(project, "asia/boats/index.md", text)
        found, errors = uses(_posts(project)["asia/boats/"], folders)
        assert not errors, (written, errors)
        assert found.featured == project / "content/asia/boats" / name, written


def test_every_reference_that_names_no_file_is_an_error_at_its_line(project: Path) -> None:
    write_post(
        project,
        "asia/boats/index.md",
        "---\ntitle: B\nimage: lead.jpg\nimage_alt: Lead\n---\n\nOne.\n\n![A](gone.jpg)\n\n"
        "Two ![](here.jpg) and ![B](also-gone.jpg).\n",
    )
    (project / "content/asia/boats/here.jpg").write_bytes(b"x")
    post = _posts(project)["asia/boats/"]
    found, errors = uses(post, _folders(project))
    messages = [str(error) for error in errors]
    assert messages == [
        "content/asia/boats/index.md:11: image here.jpg: has no alt text: describe it for "
        "readers who cannot see it, as in ![Boats in the harbour](boats.jpg)",
        "content/asia/boats/index.md:3: image: lead.jpg: there is no such file "
        "(content/asia/boats/lead.jpg)",
        "content/asia/boats/index.md:9: image gone.jpg: there is no such file "
        "(content/asia/boats/gone.jpg)",
        "content/asia/boats/index.md:11: image also-gone.jpg: there is no such file "
        "(content/asia/boats/also-gone.jpg)",
    ]
    assert found.images == {"here.jpg": project / "content/asia/boats/here.jpg"}


def test_a_bundle_publishes_its_files_but_not_its_images(project: Path) -> None:
    write_post(project, "asia/boats/index.md", "---\ntitle: B\nslug: fleet\n---\n\nText.\n")
    for name in ("report.pdf", "data/table.csv", "photo.JPG", "drawing.svg"):
        path = project / "content/asia/boats" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    write_post(project, "asia/flat.md", "---\ntitle: F\n---\n\nText.\n")
    (project / "content/asia/loose.pdf").write_bytes(b"x")
    posts = _posts(project)
    folders = _folders(project)
    published = [relative for relative, _ in attachments(posts["asia/fleet/"], folders)]
    assert published == [
        "asia/fleet/data/table.csv",
        "asia/fleet/report.pdf",
    ]
    assert attachments(posts["asia/flat/"], folders) == []


def test_markdown_that_would_be_no_post_is_an_error_in_build_and_check(project: Path) -> None:
    """A Markdown file beside a bundle's index.md (a draft follow-up, say) would be
    published as it is, front matter and all; one by another name (.markdown, .MD) would
    be left out unseen: each is an error naming it, in the build and in check."""
    from tests.conftest import run

    write_post(project, "asia/boats/index.md", "---\ntitle: Boats\n---\n\nText.\n")
    write_post(project, "asia/boats/followup.md", "---\ntitle: F\ndraft: true\n---\n\nSecret.\n")
    write_post(project, "asia/story.markdown", "---\ntitle: Story\n---\n\nText.\n")
    write_post(project, "asia/other.MD", "---\ntitle: Other\n---\n\nText.\n")
    write_post(project, "asia/.drafts/hidden.markdown", "hidden folders are never read\n")
    expected = [
        "content/asia/boats/followup.md: a Markdown file in an article's folder is neither "
        "an article nor published",
        "content/asia/other.MD: only .md files are posts: rename it other.md",
        "content/asia/story.markdown: only .md files are posts: rename it story.md",
    ]
    checked = run(["check"])
    assert checked.code == 1
    built = run(["build", "--quiet"])
    assert built.code == 1
    for start in expected:
        assert start in checked.out, checked.out
        assert start in built.err, built.err
    assert "hidden" not in checked.out + built.err
    assert not (project / "site").exists()


def test_folders_from_the_build_stamps_name_each_file_as_a_path_string(tmp_path: Path) -> None:
    """The folders a build takes from its stamps answer as a set of every file's path
    string would, without making those strings up front."""
    stamps = {"content/asia/a.md": [1, 2, 0, 3], "static/images/x.jpg": [4, 5, 0, 6]}
    folders = Folders.from_stamps(tmp_path, tmp_path / "content", tmp_path / "static", stamps)
    expected = {f"{tmp_path}/content/asia/a.md", f"{tmp_path}/static/images/x.jpg"}
    assert set(folders.files) == expected and len(folders.files) == 2
    assert all(name in folders.files for name in expected)
    for absent in ("content/asia/a.md", f"{tmp_path}/content/asia/b.md", f"{tmp_path}x/a", 3):
        assert absent not in folders.files


def test_the_caches_signatures_are_looked_through_only_if_it_holds_a_bundles_file() -> None:
    """The cache's page count, saved with its signatures, says whether any is a bundle
    file's: when all are pages', the 30,000 of a 10,000-article site are not looked
    through (three times a build); otherwise the files are found and set apart."""

    class Unread(dict[str, str]):
        def items(self):  # type: ignore[no-untyped-def]
            raise AssertionError("looked through")

    pages = Unread({"asia/a/index.html": "1f", "index.html": "2e"})
    assert split_signatures(pages, 2)[0] is pages
    assert split_signatures(pages, 2)[1] == set()
    mixed = {"asia/a/index.html": "1f", "asia/a/map.pdf": FILE_SIGNATURE + "content/asia/a/map.pdf"}
    assert split_signatures(mixed, 1) == ({"asia/a/index.html": "1f"}, {"asia/a/map.pdf"})
    assert split_signatures(mixed) == ({"asia/a/index.html": "1f"}, {"asia/a/map.pdf"})
