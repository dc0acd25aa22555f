import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from broadsheet.content import loader
from broadsheet.content.loader import load_posts
from broadsheet.errors import BroadsheetError, BroadsheetErrors
from broadsheet.slugs import RESERVED_SECTIONS, slugify
from tests.conftest import write_post


def test_all_bad_posts_are_reported_together(project: Path) -> None:
    write_post(project, "asia/good.md", "---\ntitle: Good\n---\nBody\n")
    write_post(project, "asia/bad-date.md", "---\ntitle: T\ndate: soon\n---\nBody\n")
    write_post(project, "asia/no-title.md", "---\nauthor: X\n---\nBody\n")
    write_post(project, "loose.md", "---\ntitle: T\n---\nBody\n")
    with pytest.raises(BroadsheetErrors) as caught:
        load_posts(project / "content", ZoneInfo("UTC"))
    messages = sorted(str(e) for e in caught.value.errors)
    assert len(messages) == 3
    assert any("bad-date.md:3: date:" in m for m in messages)
    assert any("no-title.md:1: title: is required" in m for m in messages)
    assert any("loose.md: a post belongs in a section folder" in m for m in messages)


def test_posts_parsed_in_workers_share_their_names_and_folders(tmp_path: Path) -> None:
    """Each worker's posts come back with their own copies of every section, author and
    tag name and of their folder's path: the build keeps one of each (at 10,000 posts,
    megabytes that every later worker process holds again)."""
    folder = tmp_path / "content" / "asia"
    folder.mkdir(parents=True)
    for number in range(loader.PARALLEL_MINIMUM + 20):
        (folder / f"story-{number}.md").write_text(
            f"---\ntitle: Story {number}\nauthor: Jane Roe\ntags: [trade, energy]\n---\n\nText.\n",
            encoding="utf-8",
        )
    content = tmp_path / "content"
    posts = loader.load_posts(content, ZoneInfo("UTC"), jobs=2)
    alone = loader.load_posts(content, ZoneInfo("UTC"), jobs=1)
    assert [(p.path, p.title, p.tags) for p in posts] == [(p.path, p.title, p.tags) for p in alone]
    first, last = posts[0], posts[-1]  # parsed by different workers' tasks
    assert first.section_slug == "asia" and first.section_slug is last.section_slug
    assert first.author is last.author and first.tags[0] is last.tags[0]
    assert first.path.parent.parts[-1] is last.path.parent.parts[-1]


def test_posts_from_workers_are_taken_in_whole_and_not_copied(tmp_path: Path) -> None:
    """Every field as a post parsed in this process has it; and each post the build
    takes in is the one it unpickled (a second copy of 10,000 posts cost 0.1 s)."""
    folder = tmp_path / "content" / "europe"
    folder.mkdir(parents=True)
    for number in range(loader.PARALLEL_MINIMUM + 5):
        (folder / f"story-{number}.md").write_text(
            f"---\ntitle: Story {number}\nauthor: A. Writer\ntags: [Trade]\n"
            f"date: 2020-01-0{number % 9 + 1}\n---\n\nSome *text*.\n",
            encoding="utf-8",
        )
    content = tmp_path / "content"
    assert loader.load_posts(content, ZoneInfo("UTC"), jobs=2) == loader.load_posts(
        content, ZoneInfo("UTC"), jobs=1
    )
    post = loader.load_posts(content, ZoneInfo("UTC"), jobs=1)[0]
    path = Path(str(post.path))
    adopted = loader._adopted((post.path, [0, 0, 0, 0], post), path, {})[2]
    assert adopted is post and post.path is path


def test_a_post_whose_file_hashes_as_it_was_parsed_is_kept_unjudged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh clone gives every file new times. A file the build cache has found by its
    hash to hold the bytes a cached post was parsed from keeps that post, neither parsed
    nor hashed again; one whose bytes hash otherwise (an edit pushed since) is parsed
    again, whatever the build cache was told."""
    folder = tmp_path / "content" / "asia"
    folder.mkdir(parents=True)
    same, edited = folder / "same.md", folder / "edited.md"
    same.write_text("---\ntitle: Same\n---\n\nText.\n", encoding="utf-8")
    edited.write_text("---\ntitle: Old\n---\n\nText.\n", encoding="utf-8")
    content, zone = tmp_path / "content", ZoneInfo("UTC")
    cache: loader.PostCache = {}
    load_posts(content, zone, cache)
    kept = cache[str(same)][1]
    for path, text in ((same, same.read_bytes()), (edited, b"---\ntitle: New\n---\n\nText.\n")):
        path.unlink()  # (a clone: new files, new times)
        path.write_bytes(text)
    judged: list[str] = []
    parsed: list[str] = []
    real_same, real_read = loader._same, loader.read_post
    monkeypatch.setattr(loader, "_same", lambda c, s: judged.append(c[1].title) or real_same(c, s))
    monkeypatch.setattr(
        loader, "read_post", lambda p, *a: parsed.append(p.name) or real_read(p, *a)
    )
    hashed = {str(same): kept.digest, str(edited): "a hash the cache was told"}
    posts = load_posts(content, zone, cache, hashed=hashed)
    assert sorted(p.title for p in posts) == ["New", "Same"]
    assert cache[str(same)][1] is kept
    assert judged == ["Old"] and parsed == ["edited.md"]


# What a post's path may be made of: names hidden or not, bundles' index.md, Markdown
# by other names, a stray file.
_PARTS = st.sampled_from(
    ["asia", "asia_b", "a", "news", "search", ".git", ".drafts", "a.b", "index.md",
     "story.md", ".story.md", "x.markdown", "notes.MD", "photo.jpg", "md", "..md",
     "x.md.bak", "myindex.md"]
)  # fmt: skip


def _reference_files(content: Path, names: list[str]) -> tuple[list[str], list[str]]:
    """find_post_files as first written (each path split into its parts; a hidden
    part is one that starts with a dot): the posts, and the strays' messages."""
    prefix = str(content) + os.sep
    posts, strays = [], []
    for name in names:
        post = name.endswith(".md")
        if not post and not name.lower().endswith(loader._MARKDOWN):
            continue
        relative = name[len(prefix) :]
        if not name.startswith(prefix) or any(p.startswith(".") for p in relative.split(os.sep)):
            continue
        if post:
            posts.append(name)
        else:
            strays.append(name)
    bundles = set()
    for name in posts:
        parts = name[len(prefix) :].split(os.sep)
        if len(parts) == 3 and parts[2] == "index.md":
            bundles.add(name[: -len("index.md") - 1])
    inside = sorted(n for n in posts if loader._inside_bundle(n, bundles))
    kept = sorted(n for n in posts if not loader._inside_bundle(n, bundles))
    return kept, strays + inside


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_PARTS, min_size=1, max_size=4), max_size=12), st.booleans())
@example([["asia", "story.md"], ["asia_b", "story.md"]], False)  # a folder's name begins another's
@example([["asia", "news", "index.md"], ["asia", "news", "story.md"]], False)  # a bundle
def test_post_files_and_section_folders_are_found_as_each_path_split_finds_them(
    tmp_path_factory: pytest.TempPathFactory, paths: list[list[str]], outside: bool
) -> None:
    """find_post_files and section_folder_errors look at 10,000 paths in every build
    that reads posts, by slices and searches rather than splitting each path: they find
    what splitting it into its parts finds (hidden names, bundles, strays, folders)."""
    content = tmp_path_factory.mktemp("site") / "content"
    content.mkdir()
    names = [os.path.join(content, *parts) for parts in paths]
    if outside:  # a source of the project that is not below content/
        names += [str(content) + "-old" + os.sep + "asia" + os.sep + "story.md"]
    strays: list[BroadsheetError] = []
    found = loader.find_post_files(content, names, strays)
    posts, stray_names = _reference_files(content, names)
    assert found == posts
    assert sorted(str(e.path) for e in strays) == sorted(stray_names)
    prefix = len(str(content)) + 1
    folders = sorted({n[prefix:].split(os.sep)[0] for n in found if os.sep in n[prefix:]})
    refused = [e.path.name for e in loader.section_folder_errors(content, found)]
    bad = [f for f in folders if f in RESERVED_SECTIONS or slugify(f, fallback="") != f]
    assert refused == bad
