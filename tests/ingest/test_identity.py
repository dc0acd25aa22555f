"""An article the importer has seen is known by its text, not its headline or slug: an
edited post is never overwritten (but by --force), and never gets a second copy."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

from broadsheet.config import load_config
from broadsheet.ingest.importer import import_files
from broadsheet.publish.pipeline import build
from tests.conftest import run

STORY = ("ASIA", "Talks resume at the border")
OPENING = (
    "Negotiators from both sides met again on Monday, the first time since the spring, in a "
    "customs house on the border, and said after six hours that the talks would go on; "
    "neither side would say what had been agreed, if anything, about the crossings."
)
MORE = ("They agreed to meet weekly.", "Trade is expected to follow.")


def raw(label: str, title: str, *paragraphs: str, teaser: bool = False) -> str:
    tail = ["Continue Reading"] if teaser else []
    return "\n\n".join([label, title, "Published", "on", *paragraphs, *tail]) + "\n"


def posts(project: Path) -> dict[str, str]:
    """The posts a build would read (none in hidden folders, such as a killed import's)."""
    content = project / "content"
    found = (p.relative_to(content) for p in sorted(content.rglob("*.md")))
    return {
        p.as_posix(): (content / p).read_text(encoding="utf-8")
        for p in found
        if not any(part.startswith(".") for part in p.parts)
    }


def files(project: Path) -> tuple[Path, Path]:
    teaser, full = project / "teaser.txt", project / "full.txt"
    teaser.write_text(raw(*STORY, OPENING, teaser=True), encoding="utf-8")
    full.write_text(raw(*STORY, OPENING, *MORE), encoding="utf-8")
    return teaser, full


def edit(path: Path, old: str, new: str) -> str:
    text = path.read_text(encoding="utf-8").replace(old, new)
    path.write_text(text, encoding="utf-8")
    return text


def test_an_edited_teaser_is_kept_when_its_full_text_arrives_in_the_same_import(
    project: Path,
) -> None:
    teaser, full = files(project)
    assert run(["import", str(teaser)]).code == 0
    [name] = posts(project)
    edited = edit(project / "content" / name, "first time", "FIRST time")
    result = run(["import", str(teaser), str(full)])
    assert result.code == 0
    assert "updated" not in result.out.replace("0 updated", "")
    assert result.out.count("edited since import") == 2
    assert posts(project) == {name: edited}
    # --force still overwrites it, with the fuller copy
    assert run(["import", "--force", str(teaser), str(full)]).code == 0
    [text] = posts(project).values()
    assert "first time" in text and MORE[1] in text


def test_reimporting_after_an_edit_writes_no_second_copy(project: Path) -> None:
    teaser, full = files(project)
    run(["import", str(teaser), str(full)])
    [name] = posts(project)
    edited = edit(project / "content" / name, "weekly", "every week")
    for _ in range(2):
        result = run(["import", str(teaser), str(full)])
        assert result.code == 0, result.err
        assert posts(project) == {name: edited}


def test_a_corrected_headline_does_not_make_a_second_post(project: Path) -> None:
    _, full = files(project)
    run(["import", str(full)])
    [name] = posts(project)
    edited = edit(project / "content" / name, "title: Talks resume", "title: Talks resumed")
    assert run(["import", str(full)]).code == 0
    assert posts(project) == {name: edited}
    result = build(load_config(project), output=project / "site", use_cache=False, jobs=1)
    assert result.articles == 1


def test_a_moved_post_is_still_recognised(project: Path) -> None:
    _, full = files(project)
    run(["import", str(full)])
    [name] = posts(project)
    (project / "content/asia/renamed.md").write_bytes((project / "content" / name).read_bytes())
    (project / "content" / name).unlink()
    run(["import", str(full)])
    assert list(posts(project)) == ["asia/renamed.md"]


def test_a_lost_or_damaged_index_is_rebuilt_from_the_posts(project: Path) -> None:
    _, full = files(project)
    run(["import", str(full)])
    index = project / "content/.broadsheet-imports.json"
    for damage in (b"{", index.read_bytes().replace(b"weekly", b"WEEKLY")[:-3] + b"}\n", None):
        before = posts(project)
        if damage is None:
            index.unlink()
        else:
            index.write_bytes(damage)
        result = run(["import", str(full)])
        assert result.code == 0 and posts(project) == before
        if damage is not None:
            assert "damaged: rebuilt from the posts" in result.out


def test_different_stories_under_one_headline_and_one_story_under_two(project: Path) -> None:
    a = project / "a.txt"
    a.write_text(raw(*STORY, "A different story.") + raw(*STORY, OPENING), encoding="utf-8")
    b = project / "b.txt"  # the same story, re-headlined
    b.write_text(raw("ASIA", "Border talks resume", OPENING, *MORE), encoding="utf-8")
    assert run(["import", str(a), str(b)]).code == 0
    imported = posts(project)
    assert sorted(imported) == [
        "asia/talks-resume-at-the-border-2.md",
        "asia/talks-resume-at-the-border.md",
    ]
    assert MORE[1] in imported["asia/talks-resume-at-the-border-2.md"]


def test_edits_survive_any_order_of_files_runs_and_edits(project: Path) -> None:
    """Seeded sequences of imports (of teasers, full texts and unrelated stories, in any
    order), edits of bodies and headlines, and forced imports: an edited post changes
    only under --force, and no story ever has two posts."""
    stories = [
        (f"Story {n} headline", f"Opening paragraph of story {n}, long enough to be itself.")
        for n in range(3)
    ]
    raws = []
    for n, (title, opening) in enumerate(stories):
        for kind, paragraphs in (("teaser", (opening,)), ("full", (opening, f"More {n}."))):
            path = project / f"{kind}{n}.txt"
            path.write_text(raw("ASIA", title, *paragraphs, teaser=kind == "teaser"), "utf-8")
            raws.append(path)
    rng = random.Random(16)
    for _ in range(12):  # sequences
        shutil.rmtree(project / "content")
        (project / "content").mkdir()
        edited: dict[str, str] = {}
        for _ in range(8):  # steps
            step = rng.random()
            current = posts(project)
            if step < 0.3 and current:
                name = rng.choice(sorted(current))
                target = rng.choice(["title: Story", "Opening paragraph", "\n---\n"])
                replacement = target.replace("Story", "The story").replace("Opening", "Lead")
                edited[name] = edit(project / "content" / name, target, replacement + " ")
                continue
            force = step > 0.95
            chosen = rng.sample(raws, rng.randint(1, len(raws)))
            result = run(["import", *(["--force"] if force else []), *map(str, chosen)])
            assert result.code == 0, result.err
            after = posts(project)
            assert len(after) <= len(stories), after.keys()
            for name, text in list(edited.items()):
                if force:
                    edited.pop(name)
                else:
                    assert after[name] == text
    import_files([], project / "content")  # (nothing to import: nothing changes)


def test_an_edited_post_is_recognised_even_without_the_index(project: Path) -> None:
    """The index is lost (not committed, say) and the post was edited in its text: the
    post's `source` still tells its story, for this import and the next ones."""
    _, full = files(project)
    run(["import", str(full)])
    [name] = posts(project)
    edited = edit(project / "content" / name, OPENING[:40], "An edited opening")
    (project / "content/.broadsheet-imports.json").unlink()
    for _ in range(2):
        result = run(["import", str(full)])
        assert result.code == 0
        assert posts(project) == {name: edited}
        assert "edited since import" in result.out


def test_an_index_that_is_a_folder_stops_the_import_before_anything_is_written(
    project: Path,
) -> None:
    _, full = files(project)
    (project / "content/.broadsheet-imports.json").mkdir()
    result = run(["import", str(full)])
    assert result.code == 1
    assert "content/.broadsheet-imports.json: the importer's index is not a file" in result.err
    assert posts(project) == {}


def test_another_article_under_the_same_file_name_is_not_taken_for_an_edited_one(
    project: Path,
) -> None:
    """Without the index, an edited post is known by its `source` (file:line), but a
    scraper reuses file names, and stdin is always <stdin>: a different article there is
    a new post, and --force leaves the edited one alone."""
    today = project / "today.txt"
    today.write_text(raw("ASIA", "Monday story", "Monday text about the harbour."), "utf-8")
    assert run(["import", str(today)]).code == 0
    [name] = posts(project)
    edited = edit(project / "content" / name, "Monday text", "Monday text (corrected)")
    (project / "content/.broadsheet-imports.json").unlink()
    today.write_text(raw("ASIA", "Tuesday story", "Tuesday text on elections."), "utf-8")
    for force in ([], ["--force"]):
        result = run(["import", *force, str(today)])
        assert result.code == 0, result.err
        assert posts(project)[name] == edited
        assert "Tuesday text on elections." in posts(project)["asia/tuesday-story.md"]


def test_a_copy_of_an_imported_post_leaves_the_story_with_its_own_post(project: Path) -> None:
    """An imported post copied as a template carries its `import_hash`: the story stays
    with the post the index has, and the copy is the author's."""
    _, full = files(project)
    assert run(["import", str(full)]).code == 0
    [name] = posts(project)
    original = project / "content" / name
    copy = project / "content/asia/alpha.md"
    mine = original.read_text().replace("Talks resume at the border", "My own story")
    copy.write_text(mine.replace(OPENING[:40], "My own opening"), encoding="utf-8")
    edit(original, "weekly", "every week")  # the story's own post, edited: kept
    for force in ([], ["--force"]):
        result = run(["import", *force, str(full)])
        assert result.code == 0, result.err
        assert copy.read_text() == mine.replace(OPENING[:40], "My own opening")
    assert "weekly" in original.read_text()  # --force re-imported the story's own post


def test_a_new_article_never_takes_a_path_another_post_answers(project: Path) -> None:
    """A post moved with `mv` keeps its old URL as an alias, and a post may name its
    slug: a new article with that headline takes the next free slug, and the site builds."""
    a, b = project / "a.txt", project / "b.txt"
    a.write_text(raw(*STORY, OPENING), encoding="utf-8")
    b.write_text(raw(*STORY, "A different story, a year later."), encoding="utf-8")
    assert run(["import", str(a)]).code == 0
    moved = run(["mv", "content/asia/talks-resume-at-the-border.md", "--slug", "talks-2024"])
    assert moved.code == 0, moved.err
    (project / "content/asia/named.md").write_text(
        "---\ntitle: Named\nslug: talks-resume-at-the-border-2\n---\n\nText.\n", "utf-8"
    )
    (project / "content/asia/older.md").write_text(  # one alias, written as a string
        "---\ntitle: Older\naliases: ' /asia/talks-resume-at-the-border-3/'\n---\n\nOld.\n",
        "utf-8",
    )
    assert run(["import", str(b)]).code == 0
    assert "asia/talks-resume-at-the-border-4.md" in posts(project)
    assert run(["build", "--quiet"]).code == 0
