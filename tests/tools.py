"""External tools the tests use: skipped with an install hint locally, a failure in CI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

NODE_MODULES = REPO / "node_modules"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(what: str, how: str) -> None:
    message = f"{what} is not installed; install it with: {how}"
    if IN_CI:
        pytest.fail(f"CI must have every tool: {message}")
    pytest.skip(message)


def node_file(relative: str, package: str) -> Path:
    path = NODE_MODULES / relative
    if not path.is_file():
        missing(f"npm package {package}", f"npm ci --ignore-scripts (in {REPO})")
    return path


def program(name: str, how: str) -> str:
    found = shutil.which(name)
    if found is None:
        missing(name, how)
    assert found is not None
    return found


def sitemap_xsd() -> Path:
    return node_file("sitemap/schema/sitemap.xsd", "sitemap")


SITEINDEX_XSD = Path(__file__).parent / "schemas" / "siteindex.xsd"


def vnu_jar() -> Path:
    program("java", "apt-get install -y default-jre-headless")
    return node_file("vnu-jar/build/dist/vnu.jar", "vnu-jar")


def assert_valid(files: Iterable[Path | str], *options: str, timeout: int = 600) -> None:
    """The Nu Html Checker finds no error in `files` (HTML; CSS with the option --css)."""
    result = subprocess.run(
        ["java", "-jar", str(vnu_jar()), *options, "--errors-only", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr or result.stdout


def axe_js() -> Path:
    return node_file("axe-core/axe.min.js", "axe-core")


def lighthouse() -> Path:
    return node_file(".bin/lighthouse", "lighthouse")


ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


@contextmanager
def chromium_environment() -> Iterator[dict[str, str]]:
    """The environment for a Chromium the tests start: TMPDIR a folder of its own,
    removed when the block ends. With --disable-dev-shm-usage, Chromium keeps its shared
    memory in the temporary folder, and each one the tests started left a folder in the
    system's (seven a CI run)."""
    with tempfile.TemporaryDirectory(prefix="broadsheet-chromium-") as scratch:
        yield {**os.environ, "TMPDIR": scratch}


def run_lighthouse(url: str, name: str, *options: str) -> dict[str, Any]:
    """Lighthouse's report on `url`, run on Debian's Chromium with `options`; kept as
    artifacts/lighthouse/NAME.json."""
    from tests.browser.conftest import CHROMIUM

    if not Path(CHROMIUM).is_file():
        missing("Chromium", "apt-get install -y chromium")
    report = ARTIFACTS / "lighthouse" / f"{name}.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    with chromium_environment() as environment:
        result = subprocess.run(
            [
                str(lighthouse()),
                url,
                "--quiet",
                *options,
                "--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage",
                "--output=json",
                f"--output-path={report}",
            ],
            env={**environment, "CHROME_PATH": CHROMIUM},
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    found: dict[str, Any] = json.loads(report.read_text())
    return found
