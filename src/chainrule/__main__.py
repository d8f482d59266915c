"""``python -m chainrule`` runs the command line tool."""

import sys

try:
    from chainrule.cli.main import main

    code = main()
except KeyboardInterrupt:   # Ctrl-C while Python starts, before main's own handler is in place
    print("chainrule: interrupted by SIGINT", file=sys.stderr)
    code = 130
sys.exit(code)
