"""The GitHub Pages workflow: valid, audited, in the right order, and its build step works."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import REPO

WORKFLOW = REPO / ".github/workflows/pages.yml"


def tool(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def steps() -> list[dict[str, str]]:
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    return [*jobs["build"]["steps"], *jobs["deploy"]["steps"]]


def test_the_workflow_matches_github_schema() -> None:
    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_workflow_passes_a_security_audit() -> None:
    result = subprocess.run(
        [tool("zizmor"), "--offline", str(WORKFLOW.parent)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_official_actions_run_in_order_with_a_pip_cache() -> None:
    uses = [s["uses"].split("@")[0] for s in steps() if "uses" in s]
    assert uses == [
        "actions/checkout",
        "actions/setup-python",
        "actions/configure-pages",
        "actions/cache",
        "actions/upload-pages-artifact",
        "actions/deploy-pages",
    ]
    setup = next(s for s in steps() if s.get("uses", "").startswith("actions/setup-python"))
    assert setup["with"]["cache"] == "pip"
    build = next(s for s in steps() if s.get("name") == "Build the site")
    assert build["env"]["BASE_URL"] == "${{ steps.pages.outputs.base_url }}"
    upload = next(s for s in steps() if "upload-pages-artifact" in s.get("uses", ""))
    assert upload["with"]["path"] == "site"
    # v4.0.0, which leaves hidden files (the .broadsheet-output mark) out of the artifact;
    # v3 published it at /REPO/.broadsheet-output.
    assert upload["uses"].split("@")[1] == "7b1f4a764d45c48632c6b24a0339c27f5614fb0b"


def test_the_build_job_may_read_the_pages_settings_and_no_more() -> None:
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    # configure-pages asks the API for the site's Pages settings: 'pages: read'.
    assert jobs["build"]["permissions"] == {"contents": "read", "pages": "read"}
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}


def test_the_build_cache_and_site_are_restored_before_the_build_and_saved_after() -> None:
    build = [s.get("name") for s in steps()]
    cache = next(s for s in steps() if s.get("uses", "").startswith("actions/cache@"))
    assert build.index(cache["name"]) < build.index("Build the site")
    assert cache["with"]["path"].split() == [".broadsheet-cache", "site"]
    # A cache is never overwritten: each run saves under its own key, the next restores
    # the newest by prefix.
    key, prefix = cache["with"]["key"], cache["with"]["restore-keys"].strip()
    assert "${{ github.run_id }}" in key and key.startswith(prefix)
    assert len(cache["uses"].split("@")[1].split()[0]) == 40  # pinned by commit


def test_the_build_step_puts_the_site_under_the_pages_path(tmp_path: Path) -> None:
    project = tmp_path / "repo"
    for name in ("templates", "static", "content"):
        shutil.copytree(REPO / name, project / name)
    for name in ("pyproject.toml", "build.py"):
        shutil.copy(REPO / name, project / name)
    build = next(s for s in steps() if s.get("name") == "Build the site")
    env = {**os.environ, "BASE_URL": "https://example.github.io/archive"}
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", build["run"].replace("python ", f"{sys.executable} ")],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    index = (project / "site/index.html").read_text()
    assert 'href="/archive/css/site.css"' in index
    assert "https://example.github.io/archive/" in (project / "site/sitemap.xml").read_text()
