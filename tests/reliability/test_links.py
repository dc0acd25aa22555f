"""Links in the source folders: only a link to a file in the same folder is followed.

The class of attack: a link that publishes a private file (`static/env.txt -> ../.env`).
Random link targets (inside and outside the folder, the project's dot-files, .git, absolute
paths, chains of links, folders, dangling links, loops) are tried against the walk every
build makes, and a few against whole builds.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broadsheet.paths import scan_source
from tests.conftest import run, write_post
from tests.sitecheck import tree_bytes

SECRET = "TOP-SECRET-7f3a"
FOLDERS = ("content", "static", "templates")
# kind -> whether a link of that kind is followed
KINDS = {
    "same-folder file": True,
    "same-folder file, through a second link": True,
    "file in another source folder": False,
    "the project's .env": False,
    ".git/config": False,
    "a file outside the project": False,
    "a hidden file in the folder": False,
    "a file in a hidden folder of the folder": False,
    "a folder in the folder": False,
    "a missing file": False,
    "itself": False,
    "a link to the project's .env": False,
    "a link to a missing file": False,
    "the system's /etc/passwd": False,
}


def make_project(root: Path) -> None:
    """A project with a real file in each folder, private files around it, and .git."""
    (root / ".env").write_text(f"PASSWORD={SECRET}\n")
    (root / ".git").mkdir()
    (root / ".git/config").write_text(f"[remote] token={SECRET}\n")
    for folder in FOLDERS:
        (root / folder / "sub").mkdir(parents=True, exist_ok=True)
        (root / folder / "real.txt").write_text("public\n")
        (root / folder / ".hidden").write_text(SECRET)
        (root / folder / ".private").mkdir()
        (root / folder / ".private/key").write_text(SECRET)


def target_of(kind: str, root: Path, folder: str, link: Path, outside: Path) -> Path:
    """Where a link of `kind` at `link` points (absolute; made relative by the caller)."""
    here = root / folder
    other = FOLDERS[(FOLDERS.index(folder) + 1) % len(FOLDERS)]
    chained = link.with_name(link.name + ".via")
    simple = {
        "same-folder file": here / "real.txt",
        "file in another source folder": root / other / "real.txt",
        "the project's .env": root / ".env",
        ".git/config": root / ".git/config",
        "a file outside the project": outside,
        "a hidden file in the folder": here / ".hidden",
        "a file in a hidden folder of the folder": here / ".private/key",
        "a folder in the folder": here / "sub",
        "a missing file": here / "nothing.txt",
        "itself": link,
        "the system's /etc/passwd": Path("/etc/passwd"),
    }
    if kind in simple:
        return simple[kind]
    final = {
        "same-folder file, through a second link": here / "real.txt",
        "a link to the project's .env": root / ".env",
        "a link to a missing file": here / "gone.txt",
    }[kind]
    # The second link lives outside the source folder: what counts is where the chain ends.
    chained = root / f"via-{link.name}"
    chained.symlink_to(final)
    return chained


LINK = st.tuples(
    st.sampled_from(FOLDERS),
    st.sampled_from(sorted(KINDS)),
    st.booleans(),  # in a subfolder
    st.booleans(),  # absolute target
)


def place_links(
    root: Path, outside: Path, links: list[tuple[str, str, bool, bool]]
) -> dict[Path, bool]:
    """Make the links; each link's path -> whether it should be followed."""
    expected = {}
    for number, (folder, kind, nested, absolute) in enumerate(links):
        parent = root / folder / ("sub" if nested else "")
        link = parent / f"link{number}.txt"
        target = target_of(kind, root, folder, link, outside)
        written = target if absolute else Path(os.path.relpath(target, parent))
        link.symlink_to(written)
        expected[link] = KINDS[kind]
    return expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(links=st.lists(LINK, min_size=1, max_size=6))
def test_only_links_to_files_in_the_same_folder_are_followed(
    links: list[tuple[str, str, bool, bool]],
) -> None:
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary) / "project"
        root.mkdir()
        outside = Path(temporary) / "id_rsa"
        outside.write_text(SECRET)
        make_project(root)
        expected = place_links(root, outside, links)
        for folder in FOLDERS:
            files, errors = scan_source(root / folder)
            refused = {error.path for error in errors}
            for link, followed in expected.items():
                if root / folder not in link.parents:
                    continue
                if followed:
                    assert str(link) in files and link not in refused, link
                else:
                    assert str(link) not in files and link in refused, (link, errors)
            assert refused <= set(expected), errors  # nothing else is reported
            for error in errors:
                assert "link" in error.message
            # No walked file holds a secret, hidden files are never walked.
            assert all(SECRET not in Path(name).read_text() for name in files)


def test_a_link_to_env_in_static_is_refused_naming_it(seeded: Path) -> None:
    """The issue's own case: `ln -s ../.env static/env.txt`, then build."""
    (seeded / ".env").write_text(f"PASSWORD={SECRET}\n")
    (seeded / "static/env.txt").symlink_to("../.env")
    result = run(["build"])
    assert result.code == 1
    assert "static/env.txt: is a link to .env, outside static/" in result.err
    assert not (seeded / "site").exists()


def test_random_links_never_publish_a_secret(seeded: Path, tmp_path: Path) -> None:
    """Whole builds and checks, a seeded loop of random link sets: a build with any refused
    link fails naming each one and leaves the last site; with only good ones it succeeds
    and no page holds a secret."""
    outside = tmp_path / "id_rsa"
    outside.write_text(SECRET)
    make_project(seeded)
    write_post(seeded, "asia/original.md", "---\ntitle: Original\n---\n\nText.\n")
    assert run(["build"]).code == 0
    last = tree_bytes(seeded / "site")
    generator = random.Random(16)
    good = sorted(kind for kind, followed in KINDS.items() if followed)
    for round_number in range(9):
        kinds = good if round_number % 3 == 0 else sorted(KINDS)
        links = [
            (
                generator.choice(FOLDERS),
                generator.choice(kinds),
                generator.random() < 0.5,
                generator.random() < 0.5,
            )
            for _ in range(generator.randint(1, 3))
        ]
        expected = place_links(seeded, outside, links)
        result, checked = run(["build"]), run(["check"])
        refused = [link for link, followed in expected.items() if not followed]
        if refused:
            assert result.code == 1 and checked.code == 1, (links, result)
            for link in refused:
                name = str(link.relative_to(seeded))
                assert f"{name}: is a" in result.err, (link, result.err)
                assert f"{name}: is a" in checked.out, (link, checked.out)
            assert tree_bytes(seeded / "site") == last
        else:
            assert result.code == 0, (links, result.err)
            last = tree_bytes(seeded / "site")
        assert all(SECRET.encode() not in data for data in last.values())
        for link in expected:
            link.unlink()
        for via in seeded.glob("via-*"):
            via.unlink()
    shutil.rmtree(seeded / ".git")


def test_hidden_links_are_skipped_like_every_hidden_name(seeded: Path) -> None:
    """An editor's lock file is a dangling link named `.#post.md`: never an error."""
    (seeded / "content/asia/.#original.md").symlink_to("user@host.1234:1700000000")
    (seeded / "static/.env").symlink_to("../.env")
    result = run(["build"])
    assert result.code == 0, result.err
    assert not (seeded / "site/.env").exists()
