"""The output folder is ours, or we do not touch it; links out of the project are refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import run, write_post


def snapshot(root: Path) -> dict[str, int]:
    return {str(p): p.stat().st_size for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    "target", [".", "content", "templates", "static", "raw", "content/asia", ".."]
)
def test_sources_and_the_project_are_refused(seeded: Path, target: str) -> None:
    (seeded / "raw").mkdir(exist_ok=True)
    before = snapshot(seeded)
    result = run(["build", "--output", target])
    assert result.code == 1 and "refusing to build" in result.err
    assert snapshot(seeded) == before


def test_the_home_folder_and_the_root_are_refused(
    seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "notes.txt").write_text("mine")
    monkeypatch.setenv("HOME", str(home))
    for target in (str(home), "/"):
        result = run(["build", "--output", target])
        assert result.code == 1 and "refusing to build here" in result.err, target
    assert (home / "notes.txt").read_text() == "mine"


def test_a_folder_broadsheet_did_not_make_is_refused(seeded: Path) -> None:
    folder = seeded / "downloads"
    folder.mkdir()
    (folder / "thesis.pdf").write_bytes(b"%PDF precious")
    result = run(["build", "--output", "downloads"])
    assert result.code == 1 and "did not make" in result.err
    assert (folder / "thesis.pdf").read_bytes() == b"%PDF precious"


def test_links_out_of_the_project_are_refused(seeded: Path, tmp_path: Path) -> None:
    secret = tmp_path / "id_rsa"
    secret.write_text("PRIVATE KEY")
    os.symlink(secret, seeded / "static" / "key.txt")
    outside = tmp_path / "elsewhere.md"
    outside.write_text("---\ntitle: Elsewhere\n---\n\nText\n")
    os.symlink(outside, seeded / "content" / "asia" / "elsewhere.md")
    result = run(["build"])
    assert result.code == 1
    assert "static/key.txt: is a link to" in result.err and "outside static/" in result.err
    assert "content/asia/elsewhere.md: is a link to" in result.err
    assert not (seeded / "site").exists()


def test_links_inside_the_project_are_fine(seeded: Path) -> None:
    write_post(seeded, "asia/original.md", "---\ntitle: Original\n---\n\nText\n")
    (seeded / "content/america/alias.md").symlink_to(seeded / "content/asia/original.md")
    result = run(["build"])
    assert result.code == 0, result.err
    assert (seeded / "site/america/alias/index.html").is_file()
