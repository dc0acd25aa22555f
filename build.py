"""`python build.py [ARGS]` is `broadsheet build [ARGS]`; `python build.py CMD ...` runs CMD."""

import sys

from broadsheet.cli import build_py_main, finish

if __name__ == "__main__":
    finish(build_py_main(sys.argv[1:]))
