"""A real browser: Playwright driving Debian's Chromium (never a downloaded one)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from broadsheet.config import load_config
from broadsheet.ingest.importer import import_files
from broadsheet.publish.pipeline import build
from tests.conftest import SEEDS, lay_out
from tests.serving import serve
from tests.tools import chromium_environment, missing

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright for Python", "pip install -e '.[test]'")
    if not Path(CHROMIUM).is_file():
        missing("Chromium", "apt-get install -y chromium")
    with chromium_environment() as environment, sync_playwright() as playwright:
        env: dict[str, str | float | bool] = dict(environment)  # (Playwright's type)
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=env)
        yield instance
        instance.close()


@pytest.fixture(scope="session")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The seed archive plus a few dated, tagged posts, built for /archive/ and served."""
    root = lay_out(
        tmp_path_factory.mktemp("browser") / "project",
        '[tool.broadsheet]\ntitle = "Broadsheet Archive"\n'
        'base_url = "https://example.github.io/archive/"\nper_page = 4\n',
    )
    import_files(SEEDS, root / "content")
    build(load_config(root), output=root / "site")
    with serve(root / "site", "/archive/") as base:
        yield base


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page that records console errors and failed requests."""
    context = browser.new_context()
    tab = context.new_page()
    tab.problems = []
    tab.on(
        "console",
        lambda message: (
            tab.problems.append(f"console: {message.text} at {message.location['url']}")
            if message.type == "error"
            else None
        ),
    )
    tab.on(
        "requestfailed",
        lambda request: (
            None
            if _cut_off_icon(request)
            else tab.problems.append(f"failed: {request.url} {request.failure}")
        ),
    )
    yield tab
    context.close()


def _cut_off_icon(request: Any) -> bool:
    """The browser's own request for the tab's icon, cancelled because the page was
    left before it came (net::ERR_ABORTED): no reader sees that, and on a busy machine
    it comes late (CI once failed on it). A missing icon still fails: 404 is no abort."""
    name = request.url.rsplit("/", 1)[-1]
    return request.failure == "net::ERR_ABORTED" and name.startswith("favicon.")
