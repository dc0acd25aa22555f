import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, run_process, write_post


def test_errors_are_one_line_each_without_a_traceback(project: Path) -> None:
    write_post(project, "asia/a.md", "---\ntitle: A\nsection: AMERICA\n---\nx\n")
    write_post(project, "asia/b.md", "---\ntitle: [\n---\nx\n")
    result = run_process(["build"], project)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: content/asia/a.md:3: section: 'AMERICA' contradicts")
    assert lines[1].startswith("error: content/asia/b.md:2: front matter is not valid YAML")


def test_unknown_setting_is_named(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.broadsheet]\nper_pag = 3\n")
    result = run_process(["build"], project)
    assert result.returncode == 1
    assert "pyproject.toml: [tool.broadsheet] unknown key 'per_pag'" in result.stderr
    assert "did you mean 'per_page'" in result.stderr


def test_import_of_a_missing_file_fails_cleanly(project: Path) -> None:
    result = run_process(["import", "missing.txt"], project)
    assert result.returncode == 1
    assert result.stderr.startswith("error: missing.txt: cannot read")
    assert "Traceback" not in result.stderr


def test_build_py_is_broadsheet_build(seeded: Path) -> None:
    shutil.copy(REPO / "build.py", seeded / "build.py")
    plain = subprocess.run(
        [sys.executable, "build.py", "--base-url", "https://example.org/x/"],
        cwd=seeded,
        capture_output=True,
        text=True,
    )
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout == ""  # not a terminal: silent
    assert "/x/css/site.css" in (seeded / "site/index.html").read_text()
    sub = subprocess.run(
        [sys.executable, "build.py", "import", "nothing.txt"],
        cwd=seeded,
        capture_output=True,
        text=True,
    )
    assert sub.returncode == 1 and "nothing.txt: cannot read" in sub.stderr
