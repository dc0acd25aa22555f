import os
import stat
from pathlib import Path

import pytest

from tests.conftest import SEEDS, run


def posts(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root / "content").as_posix(): p.read_bytes()
        for p in sorted((root / "content").rglob("*.md"))
    }


def test_seeds_import_as_seven_articles_six_in_asia(project: Path) -> None:
    result = run(["import", *map(str, SEEDS)])
    assert result.code == 0, result.err
    imported = posts(project)
    assert len(imported) == 7
    assert sum(name.startswith("asia/") for name in imported) == 6
    assert sum(name.startswith("america/") for name in imported) == 1
    assert "4 written" in result.out and "3 written" in result.out
    assert "1 duplicate skipped" in result.out


def test_reimport_is_idempotent(seeded: Path) -> None:
    before = posts(seeded)
    result = run(["import", *map(str, SEEDS)])
    assert result.code == 0
    assert posts(seeded) == before
    assert "0 written" in result.out and "unchanged" in result.out


def test_the_shared_article_is_imported_once_whichever_file_comes_first(project: Path) -> None:
    run(["import", str(SEEDS[1])])
    run(["import", str(SEEDS[0])])
    assert len(posts(project)) == 7


def test_an_edited_post_is_kept_unless_forced(seeded: Path) -> None:
    path = seeded / "content/america/does-us-afghanistan-policy-have-a-future.md"
    edited = path.read_text(encoding="utf-8").replace("Crises often", "Crises usually")
    path.write_text(edited, encoding="utf-8")
    result = run(["import", *map(str, SEEDS)])
    assert "edited since import" in result.out
    assert path.read_text(encoding="utf-8") == edited
    forced = run(["import", "--force", *map(str, SEEDS)])
    assert forced.code == 0
    assert "Crises often" in path.read_text(encoding="utf-8")
    assert len(posts(seeded)) == 7


def test_different_articles_with_one_headline_get_distinct_slugs(project: Path) -> None:
    raw = project / "raw.txt"
    raw.write_text(
        "ASIA\n\nSame headline\n\nPublished\n\non\n\nFirst story.\n\n"
        "ASIA\n\nSame headline\n\nPublished\n\non\n\nSecond story.\n",
        encoding="utf-8",
    )
    assert run(["import", str(raw)]).code == 0
    imported = posts(project)
    assert sorted(imported) == ["asia/same-headline-2.md", "asia/same-headline.md"]
    assert b"First story." in imported["asia/same-headline.md"]
    assert b"Second story." in imported["asia/same-headline-2.md"]
    assert run(["import", str(raw)]).code == 0
    assert posts(project) == imported


def test_a_full_copy_replaces_a_teaser_of_the_same_story(project: Path) -> None:
    teaser = project / "a.txt"
    full = project / "b.txt"
    teaser.write_text("ASIA\n\nStory\n\nPublished\n\non\n\nOne.\n\nContinue Reading\n")
    full.write_text("ASIA\n\nStory\n\nPublished\n\non\n\nOne.\n\nTwo.\n")
    run(["import", str(teaser), str(full)])
    [text] = posts(project).values()
    assert b"One." in text and b"Two." in text


def test_files_with_no_articles_are_named(project: Path) -> None:
    empty = project / "empty.txt"
    empty.write_text("Connect with us\n\nMOST READ\n\nTurkey\n")
    result = run(["import", str(empty)])
    assert result.code == 0
    assert "empty.txt: no articles found" in result.out


def test_bad_input_writes_nothing(project: Path) -> None:
    bad = project / "bad.txt"
    bad.write_bytes("ASIA\n\nH\n\nPublished\n\non\n\ncaf\xe9\n".encode("latin-1"))
    result = run(["import", *map(str, SEEDS), str(bad)])
    assert result.code == 1
    assert "bad.txt:9: not UTF-8" in result.err
    assert posts(project) == {}
    missing = run(["import", "nowhere.txt"])
    assert missing.code == 1 and "nowhere.txt: cannot read" in missing.err


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o002])
def test_posts_and_folders_honour_the_umask(project: Path, umask: int) -> None:
    previous = os.umask(umask)
    try:
        assert run(["import", str(SEEDS[0])]).code == 0
    finally:
        os.umask(previous)
    made = [*(project / "content").rglob("*.md"), project / "content/.broadsheet-imports.json"]
    assert {stat.S_IMODE(p.stat().st_mode) for p in made} == {0o666 & ~umask}
    assert stat.S_IMODE((project / "content/asia").stat().st_mode) == 0o777 & ~umask


@pytest.mark.parametrize("label", ["TAGS", "ARCHIVE", "SEARCH", "AUTHORS", "PAGE"])
def test_a_section_whose_url_belongs_to_the_site_is_refused(project: Path, label: str) -> None:
    raw = project / "raw.txt"
    raw.write_text(
        f"Connect with us\n\nASIA\n\nFine\n\nPublished\n\non\n\nText.\n\n{label}\n\n"
        "Headline\n\nPublished\n\non\n\nText.\n",
        encoding="utf-8",
    )
    result = run(["import", *map(str, SEEDS), str(raw)])
    assert result.code == 1
    assert f"raw.txt:13: section '{label}' would be {label.lower()}/, whose URL" in result.err
    assert not list((project / "content").rglob("*.md"))  # nothing written, not even the seeds
