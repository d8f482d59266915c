"""``python -m chainrule`` runs the command line tool."""

import sys

from chainrule.cli.main import main

sys.exit(main())
