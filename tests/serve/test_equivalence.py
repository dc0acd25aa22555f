"""What serve shows equals a cold `build --drafts`, byte for byte, after any edit.

A hypothesis state machine makes random sequences of every kind of edit an author
makes (headline, date added, changed or removed, tags, author, summary, body, draft
flag, a post added, deleted or renamed, a section folder added or removed, a template,
a static file, a setting; a photo shown, featured, added, replaced, removed or renamed,
its alt text or caption changed), each saved the way some editor saves, and after every
step compares serve's site with a cold build of the same sources and base URL.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from broadsheet.config import load_config
from broadsheet.errors import BroadsheetError
from broadsheet.publish.pipeline import build
from broadsheet.serve.devbuild import DevBuilder
from tests.conftest import PYPROJECT, REPO
from tests.photos import png_bytes
from tests.sitecheck import tree_bytes

BASE_URL = "http://127.0.0.1:8765/"
SECTIONS = ("asia", "america", "europe")
SLUGS = ("alpha", "beta", "gamma", "delta", "kappa")
WORDS = ("rice", "trade", "Kabul", "election", "border", "harvest", "talks", "port")
TITLES = st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(
    lambda words: " ".join(words).capitalize()
)
DATES = st.sampled_from(
    [None, "2019-03-03", "2021-11-30 14:30", "2024-02-09", "2024-02-09 08:00", "2095-01-01"]
)
TAGS = st.lists(st.sampled_from(("trade", "energy", "food", "security")), max_size=3, unique=True)
AUTHORS = st.sampled_from([None, "Jane Roe", "Ali Khan", "Ana Ruiz"])
SUMMARIES = st.sampled_from([None, "A short summary.", "Prices fell."])
BODIES = st.lists(st.sampled_from(WORDS), min_size=1, max_size=30).map(
    lambda words: " ".join(words) + ".\n\n## More\n\n" + " ".join(reversed(words)) + ".\n"
)
SAVES = st.sampled_from(("in place", "temp and rename", "delete and re-create", "truncate"))
COMPARED: list[int] = []  # the edits made before each comparison, for the report below


@dataclass(frozen=True)
class Post:
    title: str
    body: str
    date: str | None = None
    tags: tuple[str, ...] = ()
    author: str | None = None
    summary: str | None = None
    draft: bool = False
    photo: str | None = None  # one of PHOTOS, in content/asia/, shown in the body
    alt: str = "A photo"
    caption: str | None = None
    featured: bool = False  # the photo is the featured image too

    def text(self) -> str:
        lines = ["---", f"title: {self.title}"]
        if self.photo is not None and self.featured:
            lines += [f"image: ../asia/{self.photo}", f"image_alt: {self.alt}"]
        if self.date is not None:
            lines.append(f"date: {self.date}")
        if self.tags:
            lines.append(f"tags: [{', '.join(self.tags)}]")
        if self.author is not None:
            lines.append(f"author: {self.author}")
        if self.summary is not None:
            lines.append(f"summary: {self.summary}")
        if self.draft:
            lines.append("draft: true")
        body = self.body
        if self.photo is not None:
            title = f' "{self.caption}"' if self.caption else ""
            body += f"\n![{self.alt}](../asia/{self.photo}{title})\n"
        return "\n".join([*lines, "---", "", body])


PHOTOS = ("p1.png", "p2.png")
PHOTO_NAMES = st.sampled_from((None, *PHOTOS))
ALTS = st.sampled_from(("A photo", "Boats in the harbour", "A map"))
CAPTIONS = st.sampled_from((None, "The harbour at dawn.", "Nets on the quay."))
COLOURS = st.sampled_from(((200, 30, 30), (30, 30, 200), (20, 160, 60)))
POSTS = st.builds(
    Post,
    title=TITLES,
    body=BODIES,
    date=DATES,
    tags=TAGS.map(tuple),
    author=AUTHORS,
    photo=PHOTO_NAMES,
    featured=st.booleans(),
)


def save(path: Path, text: str, how: str) -> None:
    """Write `text` to `path` the way one kind of editor does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if how == "temp and rename" or not path.exists():
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    elif how == "delete and re-create":
        path.unlink()
        path.write_text(text, encoding="utf-8")
    elif how == "truncate":
        with path.open("r+", encoding="utf-8") as handle:
            handle.truncate(0)
            handle.flush()
            handle.write(text)
    else:
        path.write_text(text, encoding="utf-8")


TEMPLATE_EDITS = [
    ("base.html", "Skip to content", "Skip to the content"),
    ("_card.html", 'class="article-item-excerpt"', 'class="article-item-excerpt x"'),
    ("article.html", "Related articles", "More like this"),
]
SETTINGS = [
    ('title = "Test Archive"', 'title = "Renamed Archive"'),
    ("per_page = 10", "per_page = 2"),
]


@dataclass
class Project:
    root: Path
    posts: dict[tuple[str, str], Post] = field(default_factory=dict)
    templates: set[int] = field(default_factory=set)  # TEMPLATE_EDITS applied
    settings: set[int] = field(default_factory=set)  # SETTINGS applied
    statics: dict[str, str] = field(default_factory=dict)

    def path(self, key: tuple[str, str]) -> Path:
        return self.root / "content" / key[0] / f"{key[1]}.md"


class ServeEqualsColdBuild(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="serve-equals-"))
        root = self.tmp / "project"
        root.mkdir()
        (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
        shutil.copytree(REPO / "templates", root / "templates")
        shutil.copytree(REPO / "static", root / "static")
        (root / "content").mkdir()
        self.project = Project(root)
        self.session = self.tmp / "session"
        self.dev = DevBuilder(
            root, self.session / "site", {"base_url": BASE_URL}, cache=self.session / "cache"
        )
        self.steps: list[str] = []

    def teardown(self) -> None:
        self.dev.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    @initialize(posts=st.lists(POSTS, min_size=2, max_size=5), how=SAVES)
    def start(self, posts: list[Post], how: str) -> None:
        for name in PHOTOS:  # (a rule removes them)
            path = self.project.root / "content/asia" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(png_bytes(10, 8))
        for n, post in enumerate(posts):
            self._write((SECTIONS[n % 2], SLUGS[n]), post, how)

    def _write(self, key: tuple[str, str], post: Post, how: str) -> None:
        self.project.posts[key] = post
        save(self.project.path(key), post.text(), how)

    def _edit(self, data: st.DataObject, how: str, **changes: object) -> None:
        key = data.draw(st.sampled_from(sorted(self.project.posts)), label="post")
        self.steps.append(f"{key} {changes} ({how})")
        self._write(key, replace(self.project.posts[key], **changes), how)  # type: ignore[arg-type]

    @precondition(lambda self: self.project.posts)
    @rule(data=st.data(), title=TITLES, how=SAVES)
    def headline(self, data: st.DataObject, title: str, how: str) -> None:
        self._edit(data, how, title=title)

    @precondition(lambda self: self.project.posts)
    @rule(data=st.data(), date=DATES, how=SAVES)
    def date(self, data: st.DataObject, date: str | None, how: str) -> None:
        self._edit(data, how, date=date)

    @precondition(lambda self: self.project.posts)
    @rule(data=st.data(), tags=TAGS, how=SAVES)
    def tags(self, data: st.DataObject, tags: list[str], how: str) -> None:
        self._edit(data, how, tags=tuple(tags))

    @precondition(lambda self: self.project.posts)
    @rule(data=st.data(), author=AUTHORS, how=SAVES)
    def author(self, data: st.DataObject, author: str | None, how: str) -> None:
        self._edit(data, how, author=author)

    @precondition(lambda self: self.project.posts)
    @rule(data=st.data(), summary=SUMMARIES, how=SAVES)
    def summary(self, data: st.DataObject, summary: str | None, how: str) -> None:
        self._edit(data, how, summary=summary)

    @precondition(lambda self: self.project.posts)
    @rule(data=st.data(), body=BODIES, how=SAVES)
    def body(self, data: st.DataObject, body: str, how: str) -> None:
        self._edit(data, how, body=body)

    @precondition(lambda self: self.project.posts)
    @rule(data=st.data(), draft=st.booleans(), how=SAVES)
    def draft(self, data: st.DataObject, draft: bool, how: str) -> None:
        self._edit(data, how, draft=draft)

    @rule(section=st.sampled_from(SECTIONS), slug=st.sampled_from(SLUGS), post=POSTS, how=SAVES)
    def add_post(self, section: str, slug: str, post: Post, how: str) -> None:
        self.steps.append(f"add {section}/{slug} ({how})")
        self._write((section, slug), post, how)

    @precondition(lambda self: self.project.posts)
    @rule(data=st.data())
    def delete_post(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.project.posts)), label="post")
        self.steps.append(f"delete {key}")
        self.project.path(key).unlink()
        del self.project.posts[key]

    @precondition(lambda self: self.project.posts)
    @rule(data=st.data(), slug=st.sampled_from(SLUGS))
    def rename_post(self, data: st.DataObject, slug: str) -> None:
        key = data.draw(st.sampled_from(sorted(self.project.posts)), label="post")
        new = (key[0], slug)
        self.steps.append(f"rename {key} -> {new}")
        os.replace(self.project.path(key), self.project.path(new))
        self.project.posts[new] = self.project.posts.pop(key)

    @rule(section=st.sampled_from(SECTIONS))
    def remove_section(self, section: str) -> None:
        self.steps.append(f"remove the folder {section}/")
        shutil.rmtree(self.project.root / "content" / section, ignore_errors=True)
        for key in [key for key in self.project.posts if key[0] == section]:
            del self.project.posts[key]

    @precondition(lambda self: self.project.posts)
    @rule(data=st.data(), photo=PHOTO_NAMES, featured=st.booleans(), how=SAVES)
    def shown_photo(self, data: st.DataObject, photo: str | None, featured: bool, how: str) -> None:
        self._edit(data, how, photo=photo, featured=featured)

    @precondition(lambda self: self.project.posts)
    @rule(data=st.data(), alt=ALTS, how=SAVES)
    def alt_text(self, data: st.DataObject, alt: str, how: str) -> None:
        self._edit(data, how, alt=alt)

    @precondition(lambda self: self.project.posts)
    @rule(data=st.data(), caption=CAPTIONS, how=SAVES)
    def caption(self, data: st.DataObject, caption: str | None, how: str) -> None:
        self._edit(data, how, caption=caption)

    @rule(name=st.sampled_from(PHOTOS), colour=st.none() | COLOURS, size=st.sampled_from((8, 12)))
    def photo_file(self, name: str, colour: tuple[int, int, int] | None, size: int) -> None:
        """A photo added, replaced (other pixels, other size) or removed."""
        path = self.project.root / "content/asia" / name
        self.steps.append(f"photo {name}: {colour} {size}px")
        if colour is None:
            path.unlink(missing_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f".{name}.tmp")
            temporary.write_bytes(png_bytes(size, size * 3 // 4, colour))
            os.replace(temporary, path)

    @rule()
    def rename_photo(self) -> None:
        """p1.png and p2.png swap names (or one takes the other's, if it is alone)."""
        folder = self.project.root / "content/asia"
        first, second = (folder / name for name in PHOTOS)
        self.steps.append("swap the photos' names")
        if first.exists() and second.exists():
            first.rename(folder / "swap.tmp")
            second.rename(first)
            (folder / "swap.tmp").rename(second)
        elif first.exists():
            first.rename(second)
        elif second.exists():
            second.rename(first)

    @rule(which=st.integers(0, len(TEMPLATE_EDITS) - 1))
    def template(self, which: int) -> None:
        name, old, new = TEMPLATE_EDITS[which]
        if which in self.project.templates:
            old, new = new, old
        self.project.templates ^= {which}
        self.steps.append(f"template {name}: {new}")
        path = self.project.root / "templates" / name
        save(path, path.read_text(encoding="utf-8").replace(old, new, 1), "temp and rename")

    @rule(name=st.sampled_from(("extra.css", "img/note.txt")), text=st.sampled_from(("", "a", "b")))
    def static_file(self, name: str, text: str) -> None:
        path = self.project.root / "static" / name
        self.steps.append(f"static {name}: {text!r}")
        if text:
            save(path, text, "in place")
        else:
            path.unlink(missing_ok=True)

    @rule(which=st.integers(0, len(SETTINGS) - 1))
    def setting(self, which: int) -> None:
        old, new = SETTINGS[which]
        if which in self.project.settings:
            old, new = new, old
        self.project.settings ^= {which}
        self.steps.append(f"setting {new}")
        path = self.project.root / "pyproject.toml"
        save(path, path.read_text(encoding="utf-8").replace(old, new, 1), "in place")

    @invariant()
    def serve_equals_a_cold_build(self) -> None:
        COMPARED.append(len(self.steps))
        served = self.dev.rebuild()
        cold = self.tmp / "cold"
        with contextlib.chdir(self.project.root):  # errors name paths from there
            try:
                config = load_config(self.project.root, {"base_url": BASE_URL})
                build(config, output=cold, drafts=True, use_cache=False, jobs=1)
            except BroadsheetError as exc:
                assert not served.ok, f"serve built what a cold build refused: {exc}"
                assert served.error == str(exc), self.steps
                return
        assert served.ok, served.error
        assert tree_bytes(self.dev.output) == tree_bytes(cold), self.steps


@pytest.mark.usefixtures("project")  # a throwaway working directory
def test_serve_equals_a_cold_build_after_any_edits() -> None:
    run = ServeEqualsColdBuild.TestCase
    run.settings = settings(
        max_examples=8,
        stateful_step_count=8,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    COMPARED.clear()
    run().runTest()
    sequences = COMPARED.count(0)
    print(f"{sequences} edit sequences, {len(COMPARED)} comparisons with a cold build")
    assert sequences >= 8 and len(COMPARED) >= 40  # (hypothesis ran them all)
