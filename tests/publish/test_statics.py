"""A static file never shadows a page, nor stands where a page needs a folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from broadsheet.errors import BroadsheetError
from broadsheet.publish.statics import static_clashes
from broadsheet.search.store import INDEX_PARTS
from tests.conftest import Result, write_post


def _reference(files: list[tuple[str, Path]], generated: set[str]) -> list[str]:
    """The rule spelled out plainly: every folder of every page listed."""
    folders = {
        "/".join(n.split("/")[:end]) for n in generated for end in range(1, n.count("/") + 1)
    }
    found = []
    for relative, _ in files:
        above = [
            f
            for f in ("/".join(relative.split("/")[:e]) for e in range(1, relative.count("/") + 1))
            if f in generated
        ]
        parts = relative.split("/")
        if relative in generated or relative == "css/pygments.css":
            found.append(f"would overwrite the generated page {relative}")
        elif parts[0] == "search" and len(parts) > 1 and parts[1] == "meta.json":
            found.append("is where the build writes its search index (search/meta.json): rename it")
        elif parts[0] == "search" and len(parts) > 1 and parts[1] in ("docs", "terms", "words"):
            found.append(
                f"is where the build writes its search index (search/{parts[1]}/): rename it"
            )
        elif relative in folders:
            page = min(n for n in generated if n.startswith(f"{relative}/"))
            found.append(f"is where the generated page {page} needs a folder")
        elif above:
            found.append(f"needs a folder where the generated page {above[0]} is")
    return found


_NAME = st.lists(
    st.sampled_from(["a", "b", "a.b", "index.html", "a-", "css", "search", "docs", "meta.json"]),
    min_size=1,
    max_size=4,
).map("/".join)


@settings(max_examples=300, deadline=None)
@given(st.sets(_NAME, max_size=12), st.lists(_NAME, max_size=6))
def test_clashes_are_those_of_the_plain_rule(generated: set[str], statics: list[str]) -> None:
    files = [(name, Path("static", name)) for name in statics]
    errors = static_clashes(files, generated)
    assert all(isinstance(e, BroadsheetError) for e in errors)
    assert [e.message for e in errors] == _reference(files, generated)


def test_a_static_file_where_a_page_needs_a_folder_fails_naming_both(
    project: Path, cli: Callable[..., Result]
) -> None:
    write_post(project, "asia/a.md", "---\ntitle: A\ndate: 2024-01-01\n---\n\nText.\n")
    (project / "static/asia").write_text("in the way")
    result = cli("build", "--quiet")
    assert result.code == 1 and "Traceback" not in result.err
    assert "static/asia" in result.err
    assert "is where the generated page asia/" in result.err


def test_a_static_file_never_takes_the_place_of_a_photo_or_a_bundles_file(
    project: Path, cli: Callable[..., Result]
) -> None:
    """static/media/<hash>-480.avif would replace the article's photo (the build's files
    in media/ are named so), and a bundle's report.pdf and static/asia/story/report.pdf
    are one path of the site: each is an error naming the file, in check and build."""
    write_post(project, "asia/story/index.md", "---\ntitle: S\ndate: 2024-01-01\n---\n\nT.\n")
    (project / "content/asia/story/report.pdf").write_bytes(b"%PDF-1.4 the bundle's")
    (project / "static/asia/story").mkdir(parents=True)
    (project / "static/asia/story/report.pdf").write_bytes(b"%PDF-1.4 static's")
    built = cli("build", "--quiet")
    assert built.code == 1 and "Traceback" not in built.err
    assert (
        "content/asia/story/report.pdf: would overwrite static/asia/story/report.pdf, "
        "published at asia/story/report.pdf too; rename one"
    ) in built.err
    (project / "static/asia/story/report.pdf").unlink()
    (project / "static/asia/story/report.pdf").mkdir()  # a folder there instead
    (project / "static/asia/story/report.pdf/x.txt").write_text("x")
    built = cli("build", "--quiet")
    assert built.code == 1 and "Traceback" not in built.err
    assert (
        "content/asia/story/report.pdf: is where static/asia/story/report.pdf/ is "
        "published, as a folder; rename one"
    ) in built.err
    (project / "static/asia/story/report.pdf/x.txt").unlink()
    (project / "static/asia/story/report.pdf").rmdir()
    (project / "static/media").write_text("a file where the photos' folder goes")
    for result in (cli("check"), cli("build", "--quiet")):
        assert result.code == 1
        assert (
            "static/media: is where the build needs the folder media/ for its photos"
        ) in result.out + result.err
    (project / "static/media").unlink()
    (project / "static/media").mkdir()
    (project / "static/media/014d09ee0a747b9b-480.avif").write_text("x")
    (project / "static/media/logo.svg").write_text("<svg/>")  # any other name is fine
    for result in (cli("check"), cli("build", "--quiet")):
        assert result.code == 1
        assert (
            "static/media/014d09ee0a747b9b-480.avif: is named as the photos the build "
            "publishes in media/: rename it"
        ) in result.out + result.err
        assert "logo.svg" not in result.out + result.err


def test_a_static_file_where_the_search_index_goes_is_an_error_in_check_and_build(
    project: Path, cli: Callable[..., Result]
) -> None:
    """(A review's finding.) static/search/docs/99999.json was published beside the
    index: removed as stale by a cold build, kept by an incremental one. The index's
    files are its own, and a cold build writes nothing else under search/ (so the rule
    knows every part of it)."""
    write_post(project, "asia/a.md", "---\ntitle: A\ndate: 2024-01-01\n---\n\nText.\n")
    assert cli("build", "--quiet").code == 0
    written = {entry.name for entry in (project / "site/search").iterdir()}
    assert written - {"index.html"} == INDEX_PARTS  # (the search page beside them)
    for relative, part in (
        ("search/docs/99999.json", "search/docs/"),
        ("search/words/zz.json", "search/words/"),
        ("search/meta.json", "search/meta.json"),
        ("search/terms", "search/terms/"),  # (a file where its folder goes)
    ):
        static = project / "static" / relative
        static.parent.mkdir(parents=True, exist_ok=True)
        static.write_text("{}")
        for result in (cli("check"), cli("build", "--quiet")):
            assert result.code == 1 and "Traceback" not in result.err
            assert (
                f"static/{relative}: is where the build writes its search index ({part}): rename it"
            ) in result.out + result.err
        static.unlink()
    (project / "static/search/help.txt").write_text("any other name is fine")
    assert cli("build", "--quiet").code == 0
    assert (project / "site/search/help.txt").read_text() == "any other name is fine"
