"""Run static/js/search.js's word rules in node, for tests that compare them with Python's."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from tests.conftest import REPO
from tests.tools import program

_RUNNER = """
require(process.argv[1] + "/static/js/porter2.js");
require(process.argv[1] + "/static/js/search.js");
const S = globalThis.BroadsheetSearch;
let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const ask = JSON.parse(input);
  const out = ask.items.map((x) => (ask.spread ? S[ask.call](...x) : S[ask.call](x)));
  process.stdout.write(JSON.stringify(out));
});
"""


def in_node(call: str, items: list[Any], spread: bool = False) -> list[Any]:
    """BroadsheetSearch[call](item) for each item, computed by node (with `spread`, each
    item is a list of the arguments)."""
    node = program("node", "apt-get install -y nodejs")
    done = subprocess.run(
        [node, "-e", _RUNNER, str(REPO)],
        input=json.dumps({"call": call, "items": items, "spread": spread}),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    result: list[Any] = json.loads(done.stdout)
    return result
