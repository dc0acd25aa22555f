"""Make a build fail on purpose, inside the build's own process: a stage raises, hangs
or dies. Processes started with `fault_env()` in their environment load this (through a
sitecustomize module) and read the fault file each time a build plans the site."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from tests.conftest import REPO

FAULT = "BROADSHEET_TEST_FAULT"  # the path of a file that names the next builds' fault


def fault_env(folder: Path, fault: Path) -> dict[str, str]:
    """os.environ, plus what makes new Python processes obey the fault file."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(
        f"import sys\nsys.path.insert(0, {str(REPO)!r})\n"
        "from tests.serve.faults import install\ninstall()\n",
        encoding="utf-8",
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(folder), env.get("PYTHONPATH")]))
    env[FAULT] = str(fault)
    return env


def install() -> None:
    where = os.environ.get(FAULT)
    if not where:
        return
    from broadsheet.publish import assemble

    original = assemble.plan_site

    def plan_site(*args, **kwargs):  # type: ignore[no-untyped-def]
        _fault(Path(where))
        return original(*args, **kwargs)

    assemble.plan_site = plan_site


def _fault(path: Path) -> None:
    try:
        kind = path.read_text(encoding="utf-8").strip()
    except OSError:
        return
    if kind == "RuntimeError":
        raise RuntimeError("injected fault")
    if kind == "OSError":
        raise OSError(5, "injected I/O error")
    if kind == "KeyError":
        raise KeyError("injected fault")
    if kind == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if kind == "hang":
        path.with_suffix(".pid").write_text(str(os.getpid()), encoding="utf-8")
        time.sleep(3600)
