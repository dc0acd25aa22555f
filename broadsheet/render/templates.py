"""The Jinja environment: autoescaping on, StrictUndefined, errors naming template and line."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

from broadsheet.errors import BroadsheetError


def make_environment(templates_dir: Path, globals_: Mapping[str, Any]) -> jinja2.Environment:
    if not templates_dir.is_dir():
        raise BroadsheetError("the templates folder does not exist", templates_dir)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.globals.update(globals_)
    return env


def render_template(env: jinja2.Environment, name: str, context: Mapping[str, Any]) -> str:
    """Render, turning any template mistake into an error that names the file and line."""
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateSyntaxError as exc:
        where = _template_path(env, exc.filename or name)
        raise BroadsheetError(f"template error: {exc.message}", where, exc.lineno) from exc
    except jinja2.TemplateNotFound as exc:
        raise BroadsheetError(
            f"template '{exc.name}' not found", _template_path(env, name)
        ) from exc
    except BroadsheetError:
        raise  # already names its file, e.g. from a nested render
    except Exception as exc:  # any failure while rendering: find the template frame
        filename, line = _template_frame(exc)
        raise BroadsheetError(
            f"template error: {type(exc).__name__}: {exc}",
            _template_path(env, filename or name),
            line,
        ) from exc


def _template_path(env: jinja2.Environment, name: str) -> Path:
    path = Path(name)
    if path.is_absolute():
        return path
    loader = env.loader
    if isinstance(loader, jinja2.FileSystemLoader):
        return Path(loader.searchpath[0]) / name
    return path


def _template_frame(exc: BaseException) -> tuple[str | None, int | None]:
    """The innermost template file and line in the traceback (Jinja maps lines back)."""
    found: tuple[str | None, int | None] = (None, None)
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename.endswith(".html") or code.co_filename.endswith(".xml"):
            found = (code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    return found
