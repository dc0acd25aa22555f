"""`python -m broadsheet` runs the command line."""

from broadsheet.cli import finish, main

finish(main())
