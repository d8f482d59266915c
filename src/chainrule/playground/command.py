"""``chainrule playground``: serve the page where a network learns live, and open it.

The first line on stdout is the page's URL; Ctrl-C or SIGTERM stop the server (exit 0).

>>> import argparse
>>> parser = argparse.ArgumentParser(prog="chainrule")
>>> p = add_parser(parser.add_subparsers(dest="command"))
>>> args = parser.parse_args(["playground", "--port", "0", "--no-browser"])
>>> args.host, args.port, args.no_browser
('127.0.0.1', 0, True)
"""

from __future__ import annotations

import argparse
import errno
import signal
import sys
import threading

from chainrule.errors import InputError, quoted


def _port(text):
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got {quoted(text)}")
    return int(text)


def add_parser(subparsers):
    """Add the ``playground`` subcommand to an argparse ``subparsers``."""
    p = subparsers.add_parser(
        "playground", help="a page in the browser where a network learns live",
        description="Serve the chainrule playground (TensorFlow Playground's page, every number "
                    "from chainrule's own backprop, and the ledger, nudges and path sums behind "
                    "it) and open it in the browser.")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default: %(default)s, which other machines cannot reach)")
    p.add_argument("--port", type=_port, default=8765,
                   help="port (default: %(default)s; 0 picks a free one)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    return p


def run(args) -> int:
    """Serve until Ctrl-C or SIGTERM; 0 then. A port in use is an InputError (exit 2)."""
    from chainrule.playground.server import make_server

    try:
        server = make_server(args.host, args.port)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise InputError(f"port {args.port} on {args.host} is in use; choose another with "
                             "--port (0 picks a free one)") from None
        raise InputError(f"cannot listen on {args.host}:{args.port}: "
                         f"{error.strerror or error}") from None
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    print(url, flush=True)
    print("chainrule playground: serving; Ctrl-C stops it", file=sys.stderr, flush=True)

    def stop(signum, frame):       # serve_forever returns once shutdown() is called elsewhere
        threading.Thread(target=server.shutdown, daemon=True).start()

    previous = signal.signal(signal.SIGTERM, stop)
    if not args.no_browser:
        import webbrowser

        threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.server_close()
    return 0
