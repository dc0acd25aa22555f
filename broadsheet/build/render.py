"""Render the planned pages into a folder, skipping those whose signature is unchanged."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from broadsheet.build.context import page_context
from broadsheet.build.signatures import Signer
from broadsheet.build.writer import write_if_changed
from broadsheet.outputs.page import Page
from broadsheet.outputs.site import Site
from broadsheet.render.templates import render_template

Progress = Callable[[int, int], None]  # (pages done, pages in all)


@dataclass
class RenderReport:
    signatures: dict[str, str] = field(default_factory=dict)  # output path -> signature
    written: int = 0
    unchanged: int = 0
    rendered: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def render_page(env: jinja2.Environment, site: Site, page: Page) -> str:
    render_body = env.globals["render_body"]
    body = render_body(page.post) if page.post is not None else None  # type: ignore[operator]
    return render_template(env, page.template, page_context(site, page, body))


def render_pages(
    site: Site,
    env: jinja2.Environment,
    out: Path,
    previous: dict[str, str] | None = None,
    progress: Progress | None = None,
    signer: Signer | None = None,
) -> RenderReport:
    """Render every page whose signature differs from `previous`; drop pages now gone."""
    signer = signer or Signer(site, env)
    previous = previous or {}
    report = RenderReport()
    total = len(site.pages)
    for done, page in enumerate(site.pages, start=1):
        signature = signer.sign(page)
        report.signatures[page.path] = signature
        target = out / page.path
        if previous.get(page.path) == signature and target.is_file():
            report.unchanged += 1
        else:
            report.rendered.append(page.path)
            if write_if_changed(target, render_page(env, site, page)):
                report.written += 1
            else:
                report.unchanged += 1
        if progress is not None:
            progress(done, total)
    for gone in sorted(set(previous) - set(report.signatures)):
        (out / gone).unlink(missing_ok=True)
        report.removed.append(gone)
    return report
