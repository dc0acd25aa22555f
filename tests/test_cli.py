import os
import re
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
    assert "pyproject.toml:2: [tool.broadsheet] unknown key 'per_pag'" in result.stderr
    assert "did you mean 'per_page'" in result.stderr


def test_a_command_given_wrongly_prints_its_usage_and_exits_2(project: Path) -> None:
    result = run_process(["build", "--bogus"], project)
    assert result.returncode == 2  # as the README says: 1 is for a problem found
    assert result.stderr.startswith("usage: broadsheet")
    assert "error: unrecognized arguments: --bogus" in result.stderr
    assert not (project / "site").exists()


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


def test_broadsheet_timings_prints_each_stage_with_its_time_and_cpu(corpus: Path) -> None:
    """The README's BROADSHEET_TIMINGS=1: a line for each stage of the build, with the
    seconds it took, the CPU time the build process itself spent in it, and the memory
    pages it touched first (minor page faults)."""
    env = {**os.environ, "BROADSHEET_TIMINGS": "1"}
    command = [sys.executable, "-m", "broadsheet", "build", "--quiet"]
    done = subprocess.run(command, cwd=corpus, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    stages = {}
    for line in done.stderr.splitlines():
        pattern = r"(\S.*?)\s+([\d.]+) s\s+([\d.]+) s CPU\s+(\d+) faults\s+(\d+) MB peak"
        found = re.fullmatch(pattern, line)
        assert found, line
        stages[found[1]] = (float(found[2]), float(found[3]))
    assert int(found[4]) >= 0 and int(found[5]) > 0
    for name in ("check cache", "read posts", "plan", "render", "search index", "save cache"):
        assert name in stages, stages
    # (the CPU the build process spent: its own, so never more than the stage's time)
    assert all(cpu <= seconds + 0.02 for seconds, cpu in stages.values()), stages
    off = {**os.environ, "BROADSHEET_TIMINGS": "0"}  # =0 means off, as a reader means it
    quiet = subprocess.run(command, cwd=corpus, env=off, capture_output=True, text=True)
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_bad_option_values_say_what_is_wanted(project: Path) -> None:
    for args, wanted in (
        (["build", "--jobs", "abc"], "'abc' is not a number of processes: a whole number from 1"),
        (["build", "--jobs", "300"], "'300' is not a number of processes"),
        (["serve", "--host", ""], "'' is not a host"),
        (["new", "X", "--section", ""], "error: the section is empty"),
    ):
        done = run_process(args, project)
        assert done.returncode in (1, 2), (args, done.stderr)
        assert wanted in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_new_in_a_folder_of_the_project_writes_into_the_project(project: Path) -> None:
    (project / "content/asia").mkdir(parents=True)
    done = run_process(["new", "Subfolder story", "--section", "asia"], project / "content/asia")
    assert done.returncode == 0, done.stderr
    assert (project / "content/asia/subfolder-story.md").is_file()
    assert not (project / "content/asia/content").exists()


def test_mv_and_gone_outside_a_project_say_so(tmp_path: Path) -> None:
    for args in (["gone", "/x/"], ["mv", "content/a.md", "--slug", "b"]):
        done = run_process(args, tmp_path)
        assert done.returncode == 1
        assert "content: the content folder does not exist: is this a project?" in done.stderr


def test_output_that_cannot_be_written_is_a_failure(project: Path) -> None:
    """A report sent to a full disk is lost: the command says so and fails (exit 120,
    as Python's own exit gives), rather than end as a success."""
    write_post(project, "asia/one.md", "---\ntitle: One\ndate: 2024-05-01\n---\n\nText.\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "broadsheet", "check"],
            cwd=project,
            env=env,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
        )
    assert done.returncode == 120
    assert "output not written" in done.stderr
