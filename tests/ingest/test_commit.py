"""An import writes nothing until it has read everything; a post changed meanwhile is
never replaced; an import killed at any moment leaves content/ whole, and the next
import finishes or clears what it left."""

from __future__ import annotations

import hashlib
import json
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from broadsheet.ingest import commit
from broadsheet.ingest.commit import finish_interrupted
from tests.conftest import SEEDS, run
from tests.ingest.test_identity import OPENING, files, posts


def test_a_post_edited_while_the_import_runs_is_not_replaced(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    teaser, full = files(project)
    run(["import", str(teaser)])
    [name] = posts(project)
    post = project / "content" / name
    original = commit.Stage.commit

    def edit_first(stage: commit.Stage) -> list[commit.Move]:
        post.write_text(post.read_text(encoding="utf-8").replace("Monday", "Tuesday"), "utf-8")
        return original(stage)

    monkeypatch.setattr(commit.Stage, "commit", edit_first)
    result = run(["import", str(full)])
    assert result.code == 0
    assert "changed while importing: kept as it is" in result.out
    assert "Tuesday" in post.read_text(encoding="utf-8")
    monkeypatch.setattr(commit.Stage, "commit", original)
    assert "edited since import" in run(["import", str(full)]).out  # and known as edited


def test_the_next_import_finishes_a_commit_that_was_killed(project: Path) -> None:
    content = project / "content"
    (content / "asia").mkdir()
    old = content / "asia/old.md"
    old.write_text("old\n", encoding="utf-8")
    stage = content / ".import-killed"
    stage.mkdir()
    (stage / "1.md").write_text("new post\n", encoding="utf-8")
    (stage / "2.md").write_text("updated post\n", encoding="utf-8")
    expected = hashlib.sha256(b"old\n").hexdigest()
    rows = [["1.md", "asia/new.md", None], ["2.md", "asia/old.md", expected]]
    (stage / "journal.json").write_text(json.dumps(rows), encoding="utf-8")
    unfinished = content / ".import-unjournaled"  # killed before it moved anything
    unfinished.mkdir()
    (unfinished / "1.md").write_text("never\n", encoding="utf-8")
    assert finish_interrupted(content) == 1
    assert (content / "asia/new.md").read_text() == "new post\n"
    assert old.read_text() == "updated post\n"
    assert sorted(p.name for p in content.iterdir()) == ["asia"]


def test_a_build_clears_the_stage_of_an_import_killed_while_reading(project: Path) -> None:
    """A stage in content/ with no journal (the import died before it moved anything)
    is gone after the next build or check, not left for `git add -A` to commit."""
    from tests.conftest import write_post

    write_post(project, "asia/a.md", "---\ntitle: A\ndate: 2024-01-02\n---\n\nText.\n")
    for command in (["build"], ["check"]):
        unfinished = project / "content/.import-k1ll3d_x"
        unfinished.mkdir()
        (unfinished / "1.md").write_text("a post the import was reading\n", encoding="utf-8")
        assert run(command).code == 0
        assert not list((project / "content").glob(".import-*")), command
    assert (project / "content/asia/a.md").is_file()


def test_an_import_killed_at_any_moment_leaves_content_whole(project: Path) -> None:
    raw = project / "many.txt"
    blocks = ["Connect with us"]
    for n in range(400):
        blocks += ["ASIA", f"Headline {n}", "Published", "on", f"{OPENING} ({n})", "More."]
    raw.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    assert run(["import", str(raw)]).code == 0
    clean = posts(project)
    rng = random.Random(9)
    for _ in range(4):
        for post in (project / "content").rglob("*.md"):
            post.unlink()
        process = subprocess.Popen(
            [sys.executable, "-m", "broadsheet", "import", str(raw)],
            cwd=project,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.1, 1.0))
        kill = rng.choice([signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
        process.send_signal(kill)
        process.wait(timeout=120)
        after = posts(project)
        if kill != signal.SIGKILL:  # Ctrl-C and SIGTERM wait for the moves: all or nothing
            assert after in ({}, clean), len(after)
        for name, text in after.items():  # never a half-written post
            assert text == clean[name]
        again = run(["import", str(raw)])
        assert again.code == 0, again.err
        assert posts(project) == clean
        assert not list((project / "content").glob(".import-*"))


def test_a_build_finishes_a_killed_import_before_it_reads_the_posts(project: Path) -> None:
    from broadsheet.config import load_config
    from broadsheet.publish.pipeline import build

    content = project / "content"
    (content / "asia").mkdir()
    stage = content / ".import-killed"
    stage.mkdir()
    (stage / "1.md").write_text("---\ntitle: Half imported\n---\n\nText.\n", encoding="utf-8")
    (stage / "journal.json").write_text(json.dumps([["1.md", "asia/half.md", None]]), "utf-8")
    result = build(load_config(project), output=project / "site", use_cache=False, jobs=1)
    assert result.articles == 1
    assert (content / "asia/half.md").is_file() and not stage.exists()


def test_a_post_that_cannot_be_moved_in_undoes_the_others(project: Path) -> None:
    """All or nothing, when a write fails as the posts are moved in (here a file where
    the america/ folder should be; as well no permission, or a full disk): the posts
    moved before it are taken out again, and the one they replaced put back."""
    from tests.ingest.test_identity import raw

    first = project / "first.txt"
    first.write_text(raw("ASIA", "Rice prices", "Rice prices rose again in May."), "utf-8")
    assert run(["import", str(first)]).code == 0
    before = posts(project)
    (project / "content/america").write_text("not a folder\n", "utf-8")
    both = project / "both.txt"
    both.write_text(
        raw("ASIA", "Rice prices", "Rice prices rose again in May.", "And in June.")
        + raw("ASIA", "A new story", "Something else happened.")
        + raw("AMERICA", "Am story", "Across the sea."),
        "utf-8",
    )
    result = run(["import", str(both)])
    assert result.code == 1 and "Traceback" not in result.err
    assert result.err.strip() == (
        f"error: {both.relative_to(project)}:23: content/america/am-story.md: cannot write: "
        "Not a directory; nothing was imported"
    )
    assert posts(project) == before  # the update undone, the new post gone
    assert (project / "content/america").read_text() == "not a folder\n"
    assert not list((project / "content").glob(".import-*"))  # nothing to finish later
    (project / "content/america").unlink()
    assert run(["import", str(both)]).code == 0
    assert len(posts(project)) == 3


def test_ctrl_c_while_the_posts_are_moved_in_waits_and_says_they_were(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C (or SIGTERM) that comes while the posts are moved in waits until they and
    the index are written: the message says so, not 'nothing was imported'."""
    import os

    _, full = files(project)
    original = commit.apply

    def interrupted(*args: object, **kwargs: object) -> list[commit.Move]:
        os.kill(os.getpid(), signal.SIGINT)  # held until the import is written
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(commit, "apply", interrupted)
    # With another thread alive (a library's, say), the system may hand the signal to
    # it rather than to the main thread: it must wait all the same.
    done = threading.Event()
    threading.Thread(target=done.wait, daemon=True).start()
    try:
        result = run(["import", str(full)])
    finally:
        done.set()
    assert result.code == 130
    assert "interrupted once the import was written, whole" in result.err
    assert "nothing was imported" not in result.err
    assert "wrote" in result.out  # what it wrote is reported
    [name] = posts(project)
    index = json.loads((project / "content/.broadsheet-imports.json").read_text())
    assert [story["path"] for story in index["stories"]] == [name]


def test_an_index_that_cannot_be_written_says_the_posts_are_in(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk as the importer's index is written, after the posts went in: the
    error says so (not "cannot write" alone, naming a stage gone by then), and the
    same import again writes the index, and nothing twice."""
    from broadsheet.errors import BroadsheetError
    from broadsheet.ingest import importer

    real, made = importer.Stage, []

    def full_after_the_posts(content: Path) -> object:
        made.append(content)
        if len(made) > 1:
            raise BroadsheetError("cannot write: No space left on device", content)
        return real(content)

    monkeypatch.setattr(importer, "Stage", full_after_the_posts)
    result = run(["import", *map(str, SEEDS)])
    assert result.code == 1
    assert "the posts were imported, but the importer's index could not be written" in (result.err)
    assert len(list((project / "content").rglob("*.md"))) == 7
    monkeypatch.setattr(importer, "Stage", real)
    again = run(["import", *map(str, SEEDS)])
    assert again.code == 0, again.err
    assert (project / "content/.broadsheet-imports.json").is_file()
    assert len(list((project / "content").rglob("*.md"))) == 7
