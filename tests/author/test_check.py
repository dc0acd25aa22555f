from pathlib import Path

from tests.conftest import run, write_post


def test_a_clean_archive_passes(seeded: Path) -> None:
    result = run(["check"])
    assert result.code == 0, result.out + result.err
    assert "ok: 7 posts checked" in result.out


def test_every_problem_is_reported_as_path_line(seeded: Path) -> None:
    write_post(seeded, "asia/a.md", "---\ntitle: A\ndate: 2024-02-30\nauthr: Jane\n---\n\nText\n")
    write_post(seeded, "europe/b.md", "---\ntitle: B\n---\n\nText\n")
    write_post(seeded, "asia/c.md", "---\ntitle: C\nslug: same\n---\n\nText\n")
    write_post(seeded, "asia/d.md", "---\ntitle: D\nslug: same\n---\n\nText\n")
    write_post(
        seeded,
        "asia/e.md",
        "---\ntitle: E\n---\n\nFirst line.\n\nSee [gone](/asia/no-such-story/) and\n"
        "![a chart](/images/chart.png) and [ok](/asia/) and [out](https://example.org/).\n\n"
        "Relative [sibling](../three-years-history-of-anti-taliban-movements-and-their-common"
        "-failures/) works; [draft](/asia/f/) does not.\n\n"
        "```\n[not a link](/nowhere/)\n```\n",
    )
    write_post(seeded, "asia/f.md", "---\ntitle: F\ndraft: true\n---\n\nDraft.\n")
    write_post(
        seeded,
        "asia/g.md",
        '---\ntitle: G\n---\n\n<script>alert(1)</script>\n\n<a onclick="x()">y</a>\n',
    )
    result = run(["check"])
    assert result.code == 1
    lines = result.out.splitlines()
    expected = [
        "content/asia/a.md:3: date: '2024-02-30' is not a date",
        "content/asia/a.md:4: authr: unknown key (did you mean 'author'?)",
        "content/asia/d.md:3: slug 'same' is already used by content/asia/c.md",
        "content/asia/e.md:7: link to /asia/no-such-story/: no such page or file in the site",
        "content/asia/e.md:8: image /images/chart.png: there is no such file "
        "(static/images/chart.png)",
        "content/asia/e.md:10: link to /asia/f/ points at a draft or scheduled post",
        "content/asia/g.md:5: warning: raw HTML <script> element",
        "content/asia/g.md:7: warning: inline event handler",
    ]
    for start in expected:
        assert any(line.startswith(start) for line in lines), (start, lines)
    assert not any("europe" in line for line in lines)  # an unlisted section is a section
    assert not any("/asia/:" in line or "../three" in line or "/nowhere/" in line for line in lines)
    assert "problem(s)" in result.err


def test_check_and_build_agree_on_a_section_not_in_the_settings(seeded: Path) -> None:
    write_post(seeded, "news/a.md", "---\ntitle: A\ndate: 2024-01-02\n---\n\nSee [it](/news/).\n")
    result = run(["check"])
    assert result.code == 0, result.out + result.err
    assert "news" not in result.out
    assert run(["build"]).code == 0
    assert (seeded / "site/news/index.html").is_file()
    assert (seeded / "site/news/a/index.html").is_file()


def test_a_key_given_twice_is_an_error_in_check_and_build(seeded: Path) -> None:
    # YAML keeps the last: an embargoed draft would be published by its second line.
    write_post(
        seeded,
        "asia/e.md",
        "---\ntitle: Embargoed\ndate: 2024-01-01\ndraft: true\ntags: [a]\ndraft: false\n---\n\nT\n",
    )
    result = run(["check"])
    assert result.code == 1
    assert (
        "content/asia/e.md:6: draft: given twice (lines 4 and 6), and YAML keeps only the "
        "last: keep the one you mean"
    ) in result.out
    built = run(["build", "--quiet"])
    assert built.code == 1 and "content/asia/e.md:6: draft: given twice" in built.err
    assert not (seeded / "site/asia/e").exists()


def test_check_waits_for_an_import_or_mv_to_finish(seeded: Path) -> None:
    """check reads the posts as a build does, with the content lock shared: never an
    import or mv half done (here, a post half written while the lock is held)."""
    import subprocess
    import sys
    import time

    from broadsheet.locks import content_lock

    command = [sys.executable, "-m", "broadsheet", "check"]
    half = seeded / "content/asia/half.md"
    with content_lock(seeded / "content", shared=False):
        half.write_text("---\ntitle: [half writ", encoding="utf-8")
        checking = subprocess.Popen(
            command, cwd=seeded, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        time.sleep(2)  # (long enough to have read every post, were it not waiting)
        half.write_text("---\ntitle: Whole\ndate: 2024-01-02\n---\n\nText.\n", "utf-8")
    out, err = checking.communicate(timeout=60)
    assert checking.returncode == 0, (out, err)
    assert "ok: 8 posts checked" in out
