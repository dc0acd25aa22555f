"""`python -m broadsheet` runs the command line."""

import sys

from broadsheet.cli import main

sys.exit(main())
