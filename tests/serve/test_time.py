"""serve as time passes with no edit: a post falling due is shown as a cold build shows it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from broadsheet.config import load_config
from broadsheet.publish.pipeline import build
from tests.conftest import write_post
from tests.serve.conftest import start_server
from tests.sitecheck import tree_bytes

MARGIN = timedelta(seconds=8)  # from the save to the post's date: the save's rebuild first


def test_a_post_falling_due_is_served_as_a_cold_build_then_makes_it(
    project: Path, tmp_path: Path
) -> None:
    write_post(project, "asia/old.md", "---\ntitle: Old news\ndate: 2024-03-01\n---\n\nOld.\n")
    server = start_server(project)
    try:
        due = (datetime.now(UTC) + MARGIN).replace(microsecond=0)
        text = f"---\ntitle: Soon due\ndate: {due:%Y-%m-%d %H:%M:%S}\n---\n\nSoon.\n"
        write_post(project, "asia/soon.md", text)
        server.wait_for("asia/soon/", lambda status, body: "Scheduled" in body)
        assert datetime.now(UTC) < due, "the machine was too slow to see the post scheduled"

        # No file changes from here on: the server builds again when the post is due.
        server.wait_for("asia/soon/", lambda status, body: "Scheduled" not in body)
        assert datetime.now(UTC) >= due
        config = load_config(project, {"base_url": server.url})  # as serve's builds
        build(config, tmp_path / "cold", drafts=True, use_cache=False)
        cold = tree_bytes(tmp_path / "cold")
        assert "news-sitemap.xml" in cold
        served = {name: server.page(name.removesuffix("index.html")) for name in cold}
        assert served == cold
    finally:
        server.stop()


def test_the_published_url_record_changing_rebuilds(project: Path) -> None:
    """The build judges the site by content/.broadsheet-published, a hidden file: when
    `broadsheet gone` (or a pull) changes it, serve builds again, as the error page it
    shows says to do."""
    from tests.conftest import run

    write_post(project, "asia/a.md", "---\ntitle: A\ndate: 2025-01-01\n---\n\nA.\n")
    write_post(project, "asia/b.md", "---\ntitle: B\ndate: 2025-01-02\n---\n\nB.\n")
    assert run(["check"]).code == 0  # records /asia/a/ and /asia/b/
    server = start_server(project)
    try:
        server.wait_for("asia/b/", lambda status, body: status == 200)
        (project / "content/asia/b.md").unlink()
        server.wait_for("", lambda status, body: status == 500 and "gone /asia/b/" in body)
        assert run(["gone", "/asia/b/"]).code == 0  # no post is saved
        server.wait_for("", lambda status, body: status == 200)
    finally:
        server.stop()
